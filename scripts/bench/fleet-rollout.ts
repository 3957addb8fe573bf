/**
 * One fleet rollout for the fleet.makespan.* figures, runnable in the bench's own thread or in a
 * worker thread (the two 1000-node rollouts run side by side, one per core: the simulator is
 * single-threaded, and together they would otherwise take most of the bench's ten minutes).
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { Fleet, nodeNames, rollout } from "../../agent/sim/fleet";
import { type Figure, figure } from "./types";

const log = (s: string) => process.stderr.write(`fleet: ${s}\n`);

/**
 * `period` is kured's hour: the period tick is the agent's safety-net resync and moves no
 * makespan (every step is event-driven), but a thousand idle agents each ticking every minute at
 * their own instant would make the simulator's clock stop at every one of them.
 * No inhibitor directories: a thousand hosts would stat the same two real paths.
 */
export function rolloutSettings(concurrency: number) {
  return { concurrency, lockReleaseDelay: 30_000, inhibitPaths: [] as string[], period: 3600_000 };
}

export async function makespan(nodes: number, concurrency: number): Promise<Figure[]> {
  const t = performance.now();
  const fleet = await new Fleet({ nodes: nodeNames(nodes), podsPerNode: nodes > 100 ? 0 : 1, keepLogs: false, logLevel: "error", settings: rolloutSettings(concurrency), rebootMs: 60_000, rebootJitter: 0.2, seed: 15 }).start();
  try {
    fleet.startAll();
    await fleet.runUntil(() => [...fleet.hosts.values()].every((h) => h.agent?.started), "agents started");
    let last = performance.now();
    const s = await rollout(fleet, {
      onStep: () => {
        if (performance.now() - last < 30_000) return;
        last = performance.now();
        log(`${nodes}.c${concurrency}: ${fleet.observer.cycles().length} cycles, ${Math.round((last - t) / 1000)} s`);
      },
    });
    log(`${nodes}.c${concurrency}: makespan ${s.makespanMs} ms, ideal ${s.idealMs} ms, ${Math.round(s.realMs / 1000)} s real, violations ${s.violations.length}`);
    const name = `fleet.makespan.${nodes}.c${concurrency}`;
    return [
      figure(name, s.makespanMs / s.idealMs, "x", { maxValue: 1.1, goal: "makespan / (ceil(N/c) x median cycle) <= 1.10" }),
      figure(`${name}.violations`, s.violations.length, "", { maxValue: 0 }),
      figure(`${name}.real_s`, s.realMs / 1000, "s"),
    ];
  } finally {
    await fleet.stop();
  }
}

if (!isMainThread && parentPort && (workerData as { fleetRollout?: unknown })?.fleetRollout) {
  const { nodes, concurrency } = (workerData as { fleetRollout: { nodes: number; concurrency: number } }).fleetRollout;
  makespan(nodes, concurrency).then(
    (figures) => parentPort!.postMessage({ figures }),
    (err: unknown) => parentPort!.postMessage({ error: err instanceof Error ? err.stack ?? err.message : String(err) }),
  );
}
