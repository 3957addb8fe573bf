/**
 * The sim bench's server, run as a forked child so that neither the writer's nor the watchers'
 * JavaScript shares its event loop: a write's response is timed when it arrives, not when a busy
 * server lets the writer's callback run. Seeds the objects the bench writes to, then serves until
 * told to stop. SIM_BENCH_PROFILE=dir makes the parent start this child with --cpu-prof.
 */
import { SimServer } from "../../agent/sim";

export const SLOT = "sluice-default-0";
export const NODES = 200;

export type ServerMessage = { type: "ready"; url: string; token: string; rv: number } | { type: "stopped"; counters: Record<string, number> };

function seed(server: SimServer): void {
  const lease = (namespace: string, name: string, labels: Record<string, string>) =>
    server.apply({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name, namespace, labels }, spec: { holderIdentity: "bench" } });
  lease("sluice", SLOT, { "sluice.dev/group": "default", "sluice.dev/role": "slot" });
  lease("sluice", "sluice-other-0", { "sluice.dev/group": "other", "sluice.dev/role": "slot" });
  for (let i = 0; i < NODES; i++) {
    server.apply({ apiVersion: "v1", kind: "Node", metadata: { name: `node-${i}` } });
    lease("kube-node-lease", `node-${i}`, {});
    server.apply({ apiVersion: "v1", kind: "Pod", metadata: { name: `web-${i}`, namespace: "apps", labels: { app: "web" } }, spec: { nodeName: `node-${i}`, containers: [{ name: "web", image: "nginx" }] } });
  }
}

async function main(): Promise<void> {
  const server = await new SimServer({ namespaces: ["sluice", "apps"], historyLimit: 5000 }).start();
  seed(server);
  process.on("message", async (m: { type: string }) => {
    if (m.type !== "stop") return;
    const counters = server.faults.counters();
    await server.stop();
    process.send?.({ type: "stopped", counters } satisfies ServerMessage);
    process.disconnect();
  });
  process.send?.({ type: "ready", url: server.url, token: server.adminToken, rv: server.store.currentRv() } satisfies ServerMessage);
}

// Only as the forked child: the bench imports this file for its constants.
if (process.argv.includes("--sim-bench-server")) await main();
