/**
 * The free-slot decision and the queue, one table row per scenario. Times are the observer's own
 * monotonic milliseconds; the holder's wall-clock timestamps are in the records only to show
 * that skew between hosts changes nothing.
 */
import { describe, expect, it } from "vitest";
import { type Observed, isNodeGone, isSlotFree, overdueHeads, queueOrder, queueStanding, shouldITry, waiterQueue } from "../../agent/lock/decide";
import type { SlotRecord, WaiterRecord } from "../../agent/lock/record";

const MIN = 60_000;
const WALL = Date.UTC(2026, 0, 5, 9, 0, 0);

function slot(holder: string, observedAt: number, holderWallSkewMs = 0, holderTtlMs: number | null = 5 * MIN): Observed<SlotRecord> {
  return {
    observedAt,
    record: {
      name: "sluice-default-0", index: 0, holder, phase: holder ? "rebooting" : undefined, bootId: undefined, wasUnschedulable: undefined,
      concurrency: 1, ttlMs: holderTtlMs ?? undefined, needSince: undefined, acquireTime: WALL + holderWallSkewMs, renewTime: WALL + holderWallSkewMs, transitions: 0, resourceVersion: "7",
    },
  };
}

describe("isSlotFree", () => {
  const base = { me: "me", lockTtlMs: 0, now: 100 * MIN, paused: false, holderNodeGone: false };
  it.each([
    ["absent Lease", undefined, {}, { free: true, reason: "absent" }],
    ["no holder", slot("", 0), {}, { free: true, reason: "empty" }],
    ["holder present, lockTtl 0 never expires", slot("b", 0), {}, { free: false, reason: "held" }],
    ["holder is me", slot("me", 0), {}, { free: false, reason: "mine" }],
    ["holder's Node deleted", slot("b", 99 * MIN), { holderNodeGone: true }, { free: true, reason: "node-gone" }],
    ["unchanged for lockTtl on my clock", slot("b", 70 * MIN), { lockTtlMs: 30 * MIN }, { free: true, reason: "expired" }],
    // Mixed configurations: a holder with lockTtl 0 never renews, so it never expires for anyone ...
    ["holder does not renew (its lockTtl 0), unchanged 60 min", slot("b", 40 * MIN, 0, null), { lockTtlMs: 30 * MIN }, { free: false, reason: "held" }],
    // ... and of two TTLs the longer counts.
    ["holder's own TTL longer than mine", slot("b", 70 * MIN, 0, 45 * MIN), { lockTtlMs: 30 * MIN }, { free: false, reason: "held", expiresInMs: 15 * MIN }],
    ["unchanged for less than lockTtl", slot("b", 80 * MIN), { lockTtlMs: 30 * MIN }, { free: false, reason: "held", expiresInMs: 10 * MIN }],
    // The holder's clock 10 minutes behind or ahead: its renewTime is ignored, only my observation counts.
    ["holder clock -10 min, renewed just now", slot("b", 100 * MIN, -10 * MIN), { lockTtlMs: 5 * MIN }, { free: false, reason: "held", expiresInMs: 5 * MIN }],
    ["holder clock +10 min, unchanged 6 min", slot("b", 94 * MIN, 10 * MIN), { lockTtlMs: 5 * MIN }, { free: true, reason: "expired" }],
    ["holder clock +10 min, renewed just now", slot("b", 100 * MIN, 10 * MIN), { lockTtlMs: 5 * MIN }, { free: false, reason: "held", expiresInMs: 5 * MIN }],
    ["paused, no holder", slot("", 0), { paused: true }, { free: false, reason: "paused" }],
    ["paused, holder's Node deleted", slot("b", 0), { paused: true, holderNodeGone: true }, { free: false, reason: "paused" }],
    ["paused, absent", undefined, { paused: true }, { free: false, reason: "paused" }],
  ] as const)("%s", (_name, s, over, expected) => {
    expect(isSlotFree(s, { ...base, ...over })).toMatchObject(expected);
  });

  it("judges expiry by the observer's clock when the observer's wall clock jumps", () => {
    // The same observation, whatever the local wall clock says: nothing but `now - observedAt` counts.
    const s = slot("b", 10 * MIN, -10 * MIN);
    expect(isSlotFree(s, { ...base, lockTtlMs: 15 * MIN, now: 24 * MIN }).free).toBe(false);
    expect(isSlotFree(s, { ...base, lockTtlMs: 15 * MIN, now: 25 * MIN }).free).toBe(true);
  });
});

describe("isNodeGone", () => {
  it.each([
    ["never checked", undefined, false],
    ["one 404", { firstMissingAt: 0, lastMissingAt: 0, misses: 1 }, false],
    ["two 404s too close together", { firstMissingAt: 0, lastMissingAt: 10_000, misses: 2 }, false],
    ["two 404s a grace apart", { firstMissingAt: 0, lastMissingAt: 30_000, misses: 2 }, true],
  ] as const)("%s", (_n, absence, gone) => {
    expect(isNodeGone(absence, 30_000)).toBe(gone);
  });
});

const w = (node: string, needSince: number, createdAt = 0, rv = "1"): WaiterRecord => ({ name: `sluice-default-wait-${node}`, node, needSince, createdAt, resourceVersion: rv });

describe("queueOrder", () => {
  it("orders by need, then creation, then name; skips holders", () => {
    const q = queueOrder([w("c", 5), w("a", 3), w("b", 3, 1), w("d", 3, 1), w("held", 1)], new Set(["held"]));
    expect(q.map((x) => x.node)).toEqual(["a", "b", "d", "c"]);
  });
});

describe("queueStanding and shouldITry", () => {
  const queue = waiterQueue([w("c", 3), w("a", 1), w("d", 4), w("b", 2)]);
  it.each([
    ["head takes the only free slot", "a", [], [0], { kind: "take", slot: 0 }],
    ["second waits its turn", "b", [], [0], { kind: "wait", reason: "not-my-turn", position: 1 }],
    ["second takes the second of two free slots", "b", [], [0, 3], { kind: "take", slot: 3 }],
    ["nobody tries without a free slot", "a", [], [], { kind: "wait", reason: "no-free-slot", position: 0 }],
    ["not queued", "z", [], [0], { kind: "wait", reason: "not-queued", position: -1 }],
    ["stale head is stepped past", "b", ["a"], [1], { kind: "take", slot: 1 }],
    ["a stale-judged waiter still tries for itself", "a", ["a"], [1], { kind: "take", slot: 1 }],
  ] as const)("%s", (_n, me, stale, free, expected) => {
    expect(shouldITry(queueStanding(me, queue, new Set(), new Set(stale), free.length).position, free)).toEqual(expected);
  });

  it("agrees with queueOrder on position and heads, with holders and ties", () => {
    const many = Array.from({ length: 60 }, (_, i) => w(`n${(i * 17) % 60}`, (i * 7) % 13, i % 3));
    const holders = new Set(["n5", "n9"]);
    const order = queueOrder(many, holders).map((x) => x.node);
    for (const me of ["n0", "n13", "n42", "n5"]) {
      const s = queueStanding(me, waiterQueue(many), holders, new Set(), 4);
      expect(s.position).toBe(order.indexOf(me));
      expect(s.heads.map((x) => x.node)).toEqual(order.slice(0, 4));
      expect(s.live).toBe(order.length);
    }
  });
});

describe("overdueHeads", () => {
  const heads = [w("a", 1), w("b", 2)];
  it.each([
    ["within the grace", "c", 999, []],
    ["heads overdue", "c", 1000, ["a", "b"]],
    ["never marks itself", "a", 5000, ["b"]],
  ] as const)("%s", (_n, me, since, expected) => {
    expect(overdueHeads(me, heads, since, 1000)).toEqual(expected);
  });
});
