/**
 * fleet.scale.<N>.* and fleet.requests_per_agent_hour, run by fleet.bench.ts in a fresh process
 * (`node --expose-gc --import tsx scripts/bench/fleet-scale.ts 2000`): N agents started and left
 * idle for three simulated hours; resident memory of the API server with its cluster (before the
 * agents start) and of the agents (the growth after), and the request mix. Prints the figures as
 * one JSON line on stdout.
 */
import { Fleet, nodeNames } from "../../agent/sim/fleet";
import { type Figure, figure } from "./types";

const MiB = 2 ** 20;
const log = (s: string) => process.stderr.write(`fleet: ${s}\n`);

export async function scale(agents: number): Promise<Figure[]> {
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


const agents = Number(process.argv[2] ?? 2000);
if (!Number.isInteger(agents) || agents < 1) {
  process.stderr.write(`fleet-scale: agents must be a positive integer, not ${process.argv[2]}\n`);
  process.exit(64);
}
process.stdout.write(`${JSON.stringify(await scale(agents))}\n`);
process.exit(0);
