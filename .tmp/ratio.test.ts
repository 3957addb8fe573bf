import { it } from "vitest";
import { Fleet, nodeNames, rollout } from "../agent/sim/fleet";
it("ratio", async () => {
  for (const seed of [4, 4, 4, 5, 6]) {
    const fleet = await new Fleet({ nodes: nodeNames(15), podsPerNode: 1, pdb: { maxUnavailable: 2 }, keepLogs: false, settings: { concurrency: 3, lockReleaseDelay: 30_000, inhibitPaths: [] }, rebootMs: 60_000, rebootJitter: 0.2, seed }).start();
    fleet.startAll();
    await fleet.runUntil(() => [...fleet.hosts.values()].every((h) => h.agent?.started), "started");
    const s = await rollout(fleet);
    await fleet.stop();
    console.log(seed, s.makespanMs, s.cycleMs, s.idealMs, (s.makespanMs / s.idealMs).toFixed(4), s.realMs.toFixed(0));
  }
}, 600_000);
