/**
 * simcluster.*: the simulated cluster's own cost at the fleet bench's scale (issue 15: 2000
 * nodes), without agents or HTTP: the kubelets, the scheduler, the ReplicaSet and disruption
 * controllers of agent/sim/cluster.ts on a FakeClock. 2000 Ready nodes, a workload of one pod per
 * node behind a PDB, 100 pods evicted and rescheduled, then every node taken through what a
 * rollout does to it (cordon, its pods listed by field selector and evicted with a 30 s grace,
 * NotReady, Ready, uncordon). Before the cluster kept its pod indexes, the 100 reschedules took
 * 12 minutes (2.3 s for the workload: a list of every pod per Node turning Ready).
 */
import { FakeClock } from "../../agent/ports/fake-clock";
import { SimCluster, SimServer } from "../../agent/sim";
import { resources } from "../../agent/sim/resources";
import { type BenchSuite, type Figure, figure } from "./types";

const NODES = 2000;
const EVICTIONS = 100;

async function run(): Promise<Figure[]> {
  const clock = new FakeClock();
  const server = new SimServer({ clock, namespaces: ["apps"] });
  const cluster = new SimCluster(server, { podReadyDelayMs: 2000 });
  const names = Array.from({ length: NODES }, (_, i) => `node-${String(i + 1).padStart(4, "0")}`);
  const pods = resources.find((r) => r.plural === "pods")!;
  const podsOn = (node: string) => server.registry.list({ def: pods, version: "v1", namespace: "", name: "", subresource: "" }, new URLSearchParams({ fieldSelector: `spec.nodeName=${node}` })).items as { metadata: { namespace: string; name: string } }[];
  const evict = (node: string, graceSeconds: number) => {
    for (const p of podsOn(node)) server.registry.deletePod(server.store.get("/pods", `${p.metadata.namespace}/${p.metadata.name}`)!, graceSeconds);
  };
  const cordon = (node: string, on: boolean) => {
    const cur = server.store.get("/nodes", node)!;
    server.registry.writeInternal("/nodes", { ...cur, spec: { ...cur.spec, unschedulable: on || undefined } });
  };
  const timed = async (f: () => Promise<void> | void) => {
    const t0 = performance.now();
    await f();
    return performance.now() - t0;
  };
  try {
    const addNodes = await timed(() => names.forEach((n) => cluster.addNode(n)));
    const addWorkload = await timed(async () => {
      cluster.addWorkload("apps", "web", NODES, names);
      server.apply({ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "web", namespace: "apps" }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: "web" } } } });
      await clock.advance(0);
    });
    const reschedule = await timed(async () => {
      for (const n of names.slice(0, EVICTIONS)) {
        evict(n, 0);
        await clock.advance(0);
      }
      await clock.advance(2000);
    });
    const rollout = await timed(async () => {
      for (const n of names) {
        cordon(n, true);
        evict(n, 30);
        await clock.advance(30_000);
        cluster.setNodeReady(n, false);
        await clock.advance(30_000);
        cluster.setNodeReady(n, true);
        cordon(n, false);
        await clock.advance(2000);
      }
    });
    const pdb = server.store.get("policy/poddisruptionbudgets", "apps/web")!.status;
    if (pdb.currentHealthy !== NODES || pdb.expectedPods !== NODES) throw new Error(`simcluster: the PDB counts ${pdb.currentHealthy}/${pdb.expectedPods} healthy pods, not ${NODES}`);
    return [
      figure("simcluster.add_nodes_2000", addNodes, "ms", { maxValue: 2000 }),
      figure("simcluster.add_workload_2000", addWorkload, "ms", { maxValue: 2000 }),
      figure("simcluster.reschedule_100", reschedule, "ms", { maxValue: 2000 }),
      figure("simcluster.rollout_2000", rollout, "ms", { maxValue: 30_000 }),
    ];
  } finally {
    cluster.stop();
  }
}

const suite: BenchSuite = { prefix: "simcluster", run };
export default suite;
