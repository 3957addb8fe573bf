import { afterEach, describe, expect, it } from "vitest";
import { Fleet, idleSlotMs, nodeNames, rollout, SimClock } from "../../agent/sim/fleet";

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
    const cycles = fleet.observer.cycles();
    await fleet.stop();
    fleet = undefined;
    return { ...s, cycles };
  };

  // The makespan of 15 hosts in 5 rounds is not asserted against ceil(N/c) × median cycle: with
  // reboots ±20% and drains the PDB holds back it came out 1.04–1.14× from run to run (the
  // agents' requests race over real sockets, so a seed fixes the reboot times, not the order).
  // What the lock answers for is that no slot stands free while a host waits; the 10% goal is
  // measured where the cycles average out, at 100 and 1000 hosts (`npm run bench`).
  it("reboots every host once, behind a PDB, never leaving a slot free while a host waits", async () => {
    const a = await run(4);
    const total = a.cycles.reduce((x, y) => x + y, 0);
    expect(a.violations).toEqual([]);
    expect(a.rebooted).toBe(15);
    expect(a.maxHolders).toBe(3);
    expect(a.idealMs).toBe(5 * a.cycleMs);
    // Handovers take no simulated time; a lost race for a slot retries after a few seconds.
    expect(a.idleSlotMs).toBeLessThanOrEqual(5_000);
    // So the makespan is within list scheduling's bound for these cycles (Graham: total / c +
    // longest × (c−1)/c), plus the time a slot stood free while a host waited.
    expect(a.cycles).toHaveLength(15);
    expect(a.makespanMs).toBeLessThanOrEqual(total / 3 + (Math.max(...a.cycles) * 2) / 3 + a.idleSlotMs);
    // Each host's cordon lasted at least its reboot (60 s ± 20%).
    for (const ms of Object.values(a.downtimeMs)) expect(ms).toBeGreaterThanOrEqual(48_000);
  }, 120_000);
});

describe("idleSlotMs", () => {
  const rec = (needAt: number | undefined, taken: number[], released: number[]) => ({ needAt, taken, released });
  it.each([
    ["nobody waits", 2, [rec(0, [0], [10])], 0],
    ["a handover within one instant", 1, [rec(0, [0], [10]), rec(0, [10], [20])], 0],
    ["one slot free for 5 ms while one host waits", 2, [rec(0, [0], [10]), rec(0, [5], [20])], 5],
    ["two free slots, one waiter: counts one", 2, [rec(0, [4], [10])], 4],
    ["a slot freed 3 ms before the waiter takes it", 1, [rec(0, [0], [10]), rec(2, [13], [20])], 3],
    ["a host holding a slot when its need is staged waits for its next take", 1, [rec(5, [0, 7], [6, 10])], 1],
    ["a second take (a restarted agent) does not wait again", 1, [rec(0, [0, 12], [10, 20])], 0],
    ["no records", 3, [], 0],
  ] as const)("%s", (_name, slots, records, idle) => {
    expect(idleSlotMs(records, slots)).toBe(idle);
  });
});
