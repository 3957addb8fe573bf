/**
 * The simulated kubelets and controllers on a fake clock: grace periods, ReplicaSet-like
 * recreation with Ready after a delay (so the PDB recovers), and node reboots.
 */
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../agent/ports/fake-clock";
import { SimCluster, SimServer } from "../../agent/sim";

let server: SimServer;
let cluster: SimCluster;
afterEach(() => cluster?.stop());

function setup() {
  const clock = new FakeClock();
  server = new SimServer({ clock, namespaces: ["apps"] });
  cluster = new SimCluster(server, { podReadyDelayMs: 5000, rebootMs: 60_000 });
  for (const n of ["node-a", "node-b"]) cluster.addNode(n);
  cluster.addWorkload("apps", "web", 3, ["node-a", "node-b"]);
  server.apply({ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "web", namespace: "apps" }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: "web" } } } });
  return clock;
}

const pdb = () => server.store.get("policy/poddisruptionbudgets", "apps/web")!.status;
const pods = () => server.store.list("/pods", "apps");

describe("SimCluster", () => {
  it("binds a replacement that found no node as soon as a node is schedulable again (the scheduler retries)", async () => {
    const clock = setup();
    await clock.advance(0);
    for (const n of ["node-a", "node-b"]) server.registry.writeInternal("/nodes", { ...server.store.get("/nodes", n)!, spec: { unschedulable: true } });
    const victim = pods().find((p) => p.spec.nodeName === "node-a")!;
    server.registry.deletePod(victim, 0);
    await clock.advance(0);
    const pending = pods().filter((p) => !p.spec.nodeName);
    expect(pending).toHaveLength(1);
    const b = server.store.get("/nodes", "node-b")!;
    server.registry.writeInternal("/nodes", { ...b, spec: {} });
    await clock.advance(0);
    expect(pods().find((p) => p.metadata.uid === pending[0].metadata.uid)?.spec.nodeName).toBe("node-b");
    await clock.advance(5000);
    expect(pdb()).toMatchObject({ currentHealthy: 3 });
  });

  it("computes PDB status, honours grace periods, recreates evicted pods and recovers the budget", async () => {
    const clock = setup();
    await clock.advance(0);
    expect(pdb()).toMatchObject({ observedGeneration: 1, disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 });
    const victim = pods().find((p) => p.spec.nodeName === "node-a")!;
    server.registry.deletePod(victim, 30);
    await clock.advance(0);
    expect(pdb().disruptionsAllowed).toBe(0);
    await clock.advance(29_000);
    expect(server.store.get("/pods", `apps/${victim.metadata.name}`)).toBeDefined();
    await clock.advance(1_000);
    expect(server.store.get("/pods", `apps/${victim.metadata.name}`)).toBeUndefined();
    const fresh = pods().find((p) => !p.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True"));
    expect(fresh?.spec.nodeName).toBe("node-b");
    expect(pdb().disruptionsAllowed).toBe(0);
    await clock.advance(5_000);
    expect(pdb().disruptionsAllowed).toBe(1);
  });

  it("takes a rebooting node NotReady with its pods, and back", async () => {
    const clock = setup();
    const boot = server.store.get("/nodes", "node-a")!.status.nodeInfo.bootID;
    cluster.reboot("node-a");
    await clock.advance(0);
    const down = server.store.get("/nodes", "node-a")!;
    expect(down.status.conditions[0].status).toBe("False");
    expect(down.spec.taints).toEqual([{ key: "node.kubernetes.io/not-ready", effect: "NoSchedule" }]);
    expect(pdb().currentHealthy).toBe(1);
    await clock.advance(60_000);
    const up = server.store.get("/nodes", "node-a")!;
    expect(up.status.conditions[0].status).toBe("True");
    expect(up.status.nodeInfo.bootID).not.toBe(boot);
    expect(pdb().currentHealthy).toBe(3);
  });

  it("creates again with a fresh name when the generated one is taken, as the ReplicaSet controller does", () => {
    // Draws of 0 name every pod web-bbbbb; then 0.5s (web-rrrrr); then 0 again.
    const draws = [...Array(10).fill(0), ...Array(5).fill(0.5)];
    server = new SimServer({ clock: new FakeClock(), namespaces: ["apps"], random: () => draws.shift() ?? 0 });
    cluster = new SimCluster(server);
    cluster.addNode("node-a");
    cluster.addWorkload("apps", "web", 2, ["node-a"]);
    expect(pods().map((p) => p.metadata.name)).toEqual(["web-bbbbb", "web-rrrrr"]);
    // A source that only ever collides: the create fails, AlreadyExists, after a bounded number of tries.
    expect(() => cluster.addWorkload("apps", "web", 1, ["node-a"])).toThrow(/already exists/);
  });

  it("gives new namespaces a default ServiceAccount", async () => {
    const clock = setup();
    server.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "fresh" } });
    await clock.advance(0);
    expect(server.store.get("/serviceaccounts", "fresh/default")).toBeDefined();
  });
});
