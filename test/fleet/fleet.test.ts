import { afterEach, describe, expect, it } from "vitest";
import { Fleet, nodeNames, rollout, SimClock } from "../../agent/sim/fleet";

describe("SimClock", () => {
  it("wakes sleepers in order, same instant in the order they slept, and tells the next due time", async () => {
    const c = new SimClock(0);
    const woke: string[] = [];
    const abort = new AbortController();
    void c.sleep(30).then(() => woke.push("a30"));
    void c.sleep(10).then(() => woke.push("b10"));
    void c.sleep(10).then(() => woke.push("c10"));
    c.sleep(5, abort.signal).catch(() => woke.push("aborted"));
    abort.abort();
    expect(c.pending).toBe(3);
    await Promise.resolve();
    expect(c.nextDue()).toBe(10);
    await c.advanceTo(10);
    expect(woke).toEqual(["aborted", "b10", "c10"]);
    expect(c.nextDue()).toBe(30);
    await c.advance(100);
    expect(woke.at(-1)).toBe("a30");
    expect([c.monotonic(), c.now(), c.nextDue()]).toEqual([110, 110, undefined]);
  });
});

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});

describe("a rollout in the fleet simulator", () => {
  const run = async (seed: number) => {
    fleet = await new Fleet({ nodes: nodeNames(15), podsPerNode: 1, pdb: { maxUnavailable: 2 }, keepLogs: false, settings: { concurrency: 3, lockReleaseDelay: 30_000, inhibitPaths: [] }, rebootMs: 60_000, rebootJitter: 0.2, seed }).start();
    fleet.startAll();
    await fleet.runUntil(() => [...fleet!.hosts.values()].every((h) => h.agent?.started), "started");
    const s = await rollout(fleet);
    await fleet.stop();
    fleet = undefined;
    return s;
  };

  it("reboots every host once, behind a PDB, within 10% of the ideal makespan", async () => {
    const a = await run(4);
    expect(a.violations).toEqual([]);
    expect(a.rebooted).toBe(15);
    expect(a.maxHolders).toBe(3);
    expect(a.idealMs).toBe(5 * a.cycleMs);
    expect(a.makespanMs / a.idealMs).toBeLessThanOrEqual(1.1);
    // Each host's cordon lasted at least its reboot (60 s ± 20%).
    for (const ms of Object.values(a.downtimeMs)) expect(ms).toBeGreaterThanOrEqual(48_000);
  }, 120_000);
});
