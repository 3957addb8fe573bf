/**
 * drain.*: how long draining a node of 200 pods (grace period 1 s each, no PDB) takes, against the
 * in-memory API server on loopback with its simulated kubelets on the real clock, divided by the
 * ideal: the longest single grace period plus one API round trip. A drain that evicts one pod
 * after another would take about 200 round trips longer; the goal (ratio <= 1.25) holds only when
 * evictions go out in parallel and deletions are noticed promptly. Median of 3 trials.
 */
import { drainNode } from "../../agent/drain";
import { HttpKube, resolveKubeconfig } from "../../agent/kube";
import { nullLogger } from "../../agent/log";
import { discardEvents, systemClock } from "../../agent/ports";
import { SimCluster, SimServer } from "../../agent/sim";
import { addPod } from "../../test/drain/harness";
import { type BenchSuite, type Figure, figure, percentiles } from "./types";

const PODS = 200;
const GRACE_S = 1;
const TRIALS = 3;

async function trial(): Promise<{ drainMs: number; rttMs: number }> {
  const server = await new SimServer({ namespaces: ["apps"] }).start();
  const cluster = new SimCluster(server);
  try {
    for (const n of ["node-a", "node-b"]) cluster.addNode(n);
    for (let i = 0; i < PODS; i++) addPod(server, { name: `p-${i}`, grace: GRACE_S, node: "node-a" });
    const kube = new HttpKube(resolveKubeconfig(server.kubeconfigYaml()));
    await kube.patchNode("node-a", { unschedulable: true });
    // One round trip, as the drain's own requests see it (warm connection, same client).
    const rtts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await kube.getPod("apps", "p-0");
      rtts.push(performance.now() - t0);
    }
    const r = await drainNode({ node: "node-a", timeoutMs: 60_000 }, { kube, clock: systemClock, log: nullLogger, events: discardEvents });
    if (r.outcome !== "drained" || r.evicted !== PODS) throw new Error(`drain bench: ${r.outcome}, ${r.evicted} evicted`);
    return { drainMs: r.durationMs, rttMs: percentiles(rtts).p50 };
  } finally {
    cluster.stop();
    await server.stop();
  }
}

const suite: BenchSuite = {
  prefix: "drain",
  async run(): Promise<Figure[]> {
    const runs: { drainMs: number; rttMs: number }[] = [];
    for (let i = 0; i < TRIALS; i++) runs.push(await trial());
    const drainMs = percentiles(runs.map((r) => r.drainMs)).p50;
    const rttMs = percentiles(runs.map((r) => r.rttMs)).p50;
    const idealMs = GRACE_S * 1000 + rttMs;
    return [
      figure("drain.200pods.ratio", drainMs / idealMs, "x", { maxValue: 1.25, goal: "drain time / ideal <= 1.25" }),
      figure("drain.200pods.drain_ms", drainMs, "ms", { baseline: idealMs }),
      figure("drain.200pods.ideal_ms", idealMs, "ms"),
      figure("drain.200pods.rtt_ms", rttMs, "ms"),
    ];
  },
};

export default suite;
