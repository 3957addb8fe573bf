/**
 * The whole flow under deploy/'s RBAC, in both credential modes, with the sim's authorizer and
 * NodeRestriction: one node reboots once, and no request of the agent is refused.
 */
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { Fleet } from "../helpers/agent-harness";

const read = (f: string) => readFileSync(new URL(`../../deploy/${f}`, import.meta.url), "utf8");
const USERS = `
users:
  - token: agent-token
    serviceAccount: sluice/sluice-agent
  - token: node-a-token
    node: node-a
  - token: node-b-token
    node: node-b
`;

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});

describe.each([
  ["one credential (deploy/rbac.yaml)", "rbac.yaml", false],
  ["node identity (deploy/node-identity/rbac.yaml + the kubelet's credential)", "node-identity/rbac.yaml", true],
])("%s", (_name, file, nodeIdentity) => {
  it("reboots a node once, with no request refused", async () => {
    fleet = await new Fleet({
      nodes: ["node-a", "node-b"],
      authYaml: `${read(file)}\n---\n${USERS}`,
      token: () => "agent-token",
      ...(nodeIdentity ? { nodeToken: (n: string) => `${n}-token` } : {}),
      audit: true,
      settings: { annotateNodes: true, preRebootNodeLabels: ["sluice.dev/phase=rebooting"], postRebootNodeLabels: ["sluice.dev/phase=done"] },
    }).start();
    const a = fleet.host("node-a");
    a.start();
    fleet.host("node-b").start();
    await fleet.until(() => a.agent?.started === true, "started");
    a.signals.set(true);
    await fleet.until(() => a.starts === 2 && a.agent?.started === true && a.agent.current().phase === "idle", "the cycle");
    expect(fleet.reboots.map((r) => r.node)).toEqual(["node-a"]);
    const refused = fleet.server.auditLog.filter((e) => e.code === 403).map((e) => `${e.user} ${e.verb} ${e.resource}${e.subresource ? `/${e.subresource}` : ""} ${e.name ?? ""}`);
    expect(refused).toEqual([]);
    expect(fleet.server.auditLog.filter((e) => e.user === "system:serviceaccount:sluice:sluice-agent" && e.resource === "leases").length).toBeGreaterThan(0);
    expect(fleet.node("node-a").metadata.labels?.["sluice.dev/phase"]).toBe("done");
    if (nodeIdentity) {
      // Node-scoped work went through the kubelet's identity.
      const byNode = fleet.server.auditLog.filter((e) => e.user === "system:node:node-a");
      expect(byNode.some((e) => e.resource === "pods" && e.subresource === "eviction")).toBe(true);
      expect(byNode.some((e) => e.resource === "nodes" && e.verb === "patch")).toBe(true);
    }
  });
});
