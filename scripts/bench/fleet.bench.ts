/**
 * The fleet at scale, in the fleet simulator (agent/sim/fleet): N hosts each running the real
 * agent against the in-memory API server, on a SimClock driven event by event (no simulated time
 * passes while real time is spent on requests, so the makespan is the agents' own).
 *
 * - fleet.makespan.<N>.c<k>: every host's update staged at once; makespan (first staged update
 *   to last slot released) over the ideal, ceil(N/k) × the median slot cycle. Goal <= 1.10.
 * - fleet.scale.2000.*: 2000 agents started and left idle for three simulated hours: resident
 *   memory of the API server with its cluster (measured before the agents start) and of the
 *   agents (the growth after), and fleet.requests_per_agent_hour with its mix.
 */
import { Worker } from "node:worker_threads";
import { Fleet, nodeNames } from "../../agent/sim/fleet";
import { makespan } from "./fleet-rollout";
import { type BenchSuite, type Figure, figure } from "./types";

const MiB = 2 ** 20;
const log = (s: string) => process.stderr.write(`fleet: ${s}\n`);

/** A rollout in a worker thread of this process; its figures come back as a message. */
function inWorker(nodes: number, concurrency: number): Promise<Figure[]> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL("./fleet-rollout.ts", import.meta.url), { workerData: { fleetRollout: { nodes, concurrency } } });
    w.once("message", (m: { figures?: Figure[]; error?: string }) => {
      void w.terminate();
      if (m.figures) resolve(m.figures);
      else reject(new Error(`fleet.makespan.${nodes}.c${concurrency}: ${m.error}`));
    });
    w.once("error", reject);
    w.once("exit", (code) => code !== 0 && reject(new Error(`fleet.makespan.${nodes}.c${concurrency}: worker exited with ${code}`)));
  });
}

async function scale(agents: number): Promise<Figure[]> {
  const rss = () => process.memoryUsage().rss / MiB;
  global.gc?.();
  const before = rss();
  const fleet = await new Fleet({ nodes: nodeNames(agents), podsPerNode: 1, keepLogs: false, logLevel: "error", settings: { concurrency: 5, inhibitPaths: [] }, seed: 15 }).start();
  try {
    global.gc?.();
    const server = rss() - before;
    fleet.startAll();
    await fleet.runUntil(() => [...fleet.hosts.values()].every((h) => h.agent?.started), "agents started");
    // Settle: the first minutes hold start-up's requests.
    await fleet.runUntil(() => false, "settling", { maxMs: 10 * 60_000 }).catch(() => {});
    global.gc?.();
    const all = rss() - before;
    fleet.server.faults.resetCounters();
    const hours = 3;
    await fleet.runUntil(() => false, "idle hours", { maxMs: hours * 3600_000 }).catch(() => {});
    const counters = fleet.server.faults.counters();
    const total = Object.values(counters).reduce((a, b) => a + b, 0);
    log(`${agents} agents idle ${hours} h: ${JSON.stringify(counters)}`);
    return [
      figure(`fleet.scale.${agents}.server_mib`, server, "MiB", { goal: "API server, its cluster and the hosts' Nodes and pods, before the agents start" }),
      figure(`fleet.scale.${agents}.agents_mib`, all - server, "MiB", { goal: `${agents} agents, connected and idle` }),
      figure(`fleet.scale.${agents}.per_agent_kib`, ((all - server) * 1024) / agents, "KiB"),
      figure("fleet.requests_per_agent_hour", total / agents / hours, "requests", { maxValue: 2, goal: "<= 2 while idle" }),
      ...Object.entries(counters).map(([k, v]) => figure(`fleet.requests_per_agent_hour.${k.replace(/[ /]/g, "_")}`, v / agents / hours, "requests")),
    ];
  } finally {
    await fleet.stop();
  }
}

const suite: BenchSuite = {
  prefix: "fleet",
  async run(only?: string): Promise<Figure[]> {
    // Whole name parts: --only fleet.makespan.100 must not run fleet.makespan.1000.*.
    const want = (name: string) => !only || only === "fleet" || name === only || name.startsWith(`${only}.`) || only.startsWith(`${name}.`);
    const out: Figure[] = [];
    for (const [n, c] of [[100, 1], [100, 5]] as const) if (want(`fleet.makespan.${n}.c${c}`)) out.push(...(await makespan(n, c)));
    // The two 1000-node rollouts side by side, one per core (see fleet-rollout.ts). They take
    // about 6 minutes together on this 2-core machine (docs/development/fleet.md), which with the
    // rest would make the bench longer than it may take: they run when asked for by name
    // (--only fleet.makespan.1000) or with SLUICE_BENCH_FLEET_1000=1.
    const asked = process.env.SLUICE_BENCH_FLEET_1000 === "1" || Boolean(only?.startsWith("fleet.makespan.1000"));
    const big = ([[1000, 1], [1000, 5]] as const).filter(([n, c]) => asked && want(`fleet.makespan.${n}.c${c}`));
    for (const figures of await Promise.all(big.map(([n, c]) => inWorker(n, c)))) out.push(...figures);
    // 2000 by issue 15; SLUICE_BENCH_FLEET_AGENTS picks another size.
    if (want("fleet.scale") || want("fleet.requests_per_agent_hour")) out.push(...(await scale(Number(process.env.SLUICE_BENCH_FLEET_AGENTS ?? 2000))));
    return out;
  },
};
export default suite;
