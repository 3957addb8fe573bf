/**
 * agent/cli/clients.ts: the clients a configuration asks for — one ServiceAccount client, or with
 * nodeKubeconfig a second one as the node for node-scoped work, the taint always through the
 * ServiceAccount — and the refusals at start (exit 78) for a kubeconfig that cannot be used.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { kubeClients } from "../../agent/cli/clients";
import type { Settings } from "../../agent/config";
import { SimServer } from "../../agent/sim";
import { tempDir } from "../helpers/tmp";

let server: SimServer;
beforeAll(async () => {
  server = await new SimServer({ namespaces: ["sluice"] }).start();
  server.apply({ apiVersion: "v1", kind: "Node", metadata: { name: "node-a" } });
});
afterAll(async () => server.stop());

const settings = (kubeconfig: string, nodeKubeconfig = "") => ({ kubeconfig, nodeKubeconfig }) as Settings;
const code = (p: Promise<unknown>) => p.then(() => "ok", (e: { code?: string }) => e.code);

let dir: string;
const write = (name: string, yaml: string, mode = 0o600) => {
  const path = join(dir, name);
  writeFileSync(path, yaml, { mode });
  return path;
};

describe("kubeClients", () => {
  beforeEach(() => {
    dir = tempDir("sluice-clients-");
  });

  it("one credential: node work and taints use the ServiceAccount's client", async () => {
    const c = await kubeClients(settings(write("sa", server.kubeconfigYaml())), {});
    expect(c.node).toBe(c.leases);
    expect(c.taints).toBe(c.leases);
    expect(c.nodeIdentity).toBe(false);
    expect(await code(c.leases.listLeases("sluice"))).toBe("ok");
    c.close();
  });

  it("with nodeKubeconfig: node work as the node (its own Node only), taints and Leases as the ServiceAccount", async () => {
    const c = await kubeClients(settings(write("sa", server.kubeconfigYaml()), write("kubelet", server.kubeconfigYaml(server.nodeToken("node-a")))), {});
    expect(c.nodeIdentity).toBe(true);
    expect(c.node).not.toBe(c.leases);
    expect(c.taints).toBe(c.leases);
    expect(await code(c.node.patchNode("node-a", { labels: { "sluice.dev/reboot-needed": "true" } }))).toBe("ok");
    // The node identity cannot touch sluice's Leases: only the ServiceAccount's client can.
    expect(await code(c.node.listLeases("sluice"))).toBe("forbidden");
    expect(await code(c.taints.patchNode("node-a", { taints: [{ key: "sluice.dev/reboot", effect: "PreferNoSchedule" }] }))).toBe("ok");
    c.close();
  });

  it("refuses at start, exit 78 naming the file: world-readable, unsupported, unreadable", async () => {
    const refuse = async (s: Settings) => kubeClients(s, {}).then(() => undefined, (e: { exitCode?: number; code?: string; message: string }) => e);
    const readable = await refuse(settings(write("open", server.kubeconfigYaml(), 0o644)));
    expect(readable).toMatchObject({ exitCode: 78, code: "credentials-readable" });
    const oidc = write("oidc", JSON.stringify({ clusters: [{ name: "c", cluster: { server: server.url } }], users: [{ name: "u", user: { "auth-provider": { name: "oidc", config: { "id-token": "SECRET" } } } }], contexts: [{ name: "x", context: { cluster: "c", user: "u" } }], "current-context": "x" }));
    const unsupported = await refuse(settings(oidc));
    expect(unsupported).toMatchObject({ exitCode: 78, code: "kubeconfig-unsupported" });
    expect(unsupported!.message).toMatch(/^kubeconfig: .*oidc.*auth-provider "oidc" is not supported/);
    expect(unsupported!.message).not.toContain("SECRET");
    const missing = await refuse(settings(join(dir, "nope")));
    expect(missing).toMatchObject({ exitCode: 78, code: "kubeconfig-unreadable" });
    expect(missing!.message).toMatch(/^kubeconfig: cannot load .*nope: ENOENT/);
    const badNode = await refuse(settings(write("sa2", server.kubeconfigYaml()), write("empty", "")));
    expect(badNode).toMatchObject({ exitCode: 78, code: "kubeconfig-unreadable" });
    expect(badNode!.message).toMatch(/^nodeKubeconfig: .*empty: not a kubeconfig/);
  });
});
