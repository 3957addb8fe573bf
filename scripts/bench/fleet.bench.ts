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
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { makespan } from "./fleet-rollout";
import type { BenchSuite, Figure } from "./types";

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

/**
 * The scale run in a fresh process of its own (fleet-scale.ts): resident memory is the process's,
 * and in the bench's process it followed whatever ran before (a heap already grown by the rollouts
 * took the agents in without growing: 70 MiB for 2000 agents there, 327 MiB alone).
 */
function scale(agents: number): Promise<Figure[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", fileURLToPath(new URL("./fleet-scale.ts", import.meta.url)), String(agents)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += String(d)));
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`fleet.scale.${agents}: exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split("\n").pop() ?? "") as Figure[]);
      } catch (err) {
        reject(new Error(`fleet.scale.${agents}: no figures in its output (${(err as Error).message})`));
      }
    });
  });
}

/** Whole name parts: --only fleet.makespan.100 must not run fleet.makespan.1000.*. */
const wanted = (only: string | undefined) => (name: string) => !only || only === "fleet" || name === only || name.startsWith(`${only}.`) || only.startsWith(`${name}.`);

const suite: BenchSuite = {
  prefix: "fleet",
  // Makespans are in simulated time, requests are counts, and the scale run's memory is that of a
  // process of its own after a GC: none of it depends on how busy the cores are.
  steady: true,
  async run(only?: string): Promise<Figure[]> {
    const want = wanted(only);
    const out: Figure[] = [];
    for (const [n, c] of [[100, 1], [100, 5]] as const) if (want(`fleet.makespan.${n}.c${c}`)) out.push(...(await makespan(n, c)));
    // 2000 by issue 15; SLUICE_BENCH_FLEET_AGENTS picks another size.
    if (want("fleet.scale") || want("fleet.requests_per_agent_hour")) out.push(...(await scale(Number(process.env.SLUICE_BENCH_FLEET_AGENTS ?? 2000))));
    return out;
  },
  /**
   * The two 1000-node rollouts, side by side in worker threads (see fleet-rollout.ts): about 5
   * minutes on this 2-core machine (docs/development/fleet.md), beside the steady suites.
   * SLUICE_BENCH_FLEET_1000=0 leaves them out.
   */
  async background(only?: string): Promise<Figure[]> {
    if (process.env.SLUICE_BENCH_FLEET_1000 === "0") return [];
    const want = wanted(only);
    const big = ([[1000, 1], [1000, 5]] as const).filter(([n, c]) => want(`fleet.makespan.${n}.c${c}`));
    return (await Promise.all(big.map(([n, c]) => inWorker(n, c)))).flat();
  },
};
export default suite;
