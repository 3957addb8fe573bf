/**
 * Property-based tests (fast-check, seeded) of the lock's pure decisions: every agent computing
 * from the same view agrees on the order, no two positions are sent to one slot, and a paused,
 * blocked or held slot is never free.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isSlotFree, queueOrder, queueStanding, shouldITry, waiterQueue, type WaiterRecord } from "../../agent/lock";
import type { SlotRecord } from "../../agent/lock";

const SEED = { seed: 77 };
const node = fc.constantFrom("a", "b", "c", "d", "e", "f", "g", "h");
const waiter = fc.record({ node, needSince: fc.integer({ min: 0, max: 5 }), createdAt: fc.integer({ min: 0, max: 3 }) }).map(
  (w): WaiterRecord => ({ ...w, name: `sluice-default-wait-${w.node}`, resourceVersion: "1" }),
);
const waiters = fc.uniqueArray(waiter, { selector: (w) => w.node, maxLength: 8 });

describe("the queue", () => {
  it("queueStanding agrees with the full sort for every node and every k, with holders and stale waiters", () => {
    fc.assert(
      fc.property(waiters, fc.subarray(["a", "b", "c", "z"]), fc.subarray(["b", "d", "e", "y"]), fc.integer({ min: 0, max: 5 }), (ws, holding, staleNodes, k) => {
        const holders = new Set(holding);
        const stale = new Set(staleNodes);
        const queue = waiterQueue([...ws].reverse());
        for (const w of ws) {
          // The reference: sort everything, drop holders and the stale other than me.
          const order = queueOrder(ws, holders).filter((x) => x.node === w.node || !stale.has(x.node));
          const st = queueStanding(w.node, queue, holders, stale, k);
          expect(st.position).toBe(order.findIndex((x) => x.node === w.node));
          expect(st.live).toBe(order.length);
          expect(st.heads.map((h) => h.node)).toEqual(order.slice(0, k).map((h) => h.node));
        }
      }),
      SEED,
    );
  });

  it("distinct positions never try the same slot, and only the first k try", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 20 }), { maxLength: 6 }), fc.integer({ min: 1, max: 10 }), (free, n) => {
        const taken = new Map<number, number>();
        for (let p = 0; p < n; p++) {
          const d = shouldITry(p, free);
          if (d.kind === "take") {
            expect(taken.has(d.slot)).toBe(false);
            expect(p).toBeLessThan(free.length);
            taken.set(d.slot, p);
          }
        }
        expect(taken.size).toBe(Math.min(n, free.length));
      }),
      SEED,
    );
  });
});

describe("is a slot free", () => {
  const slot = fc.record({ holder: fc.constantFrom("", "a", "me"), ttlMs: fc.option(fc.integer({ min: 3000, max: 100_000 }), { nil: undefined }), observedAt: fc.integer({ min: 0, max: 100_000 }) });
  const ctx = fc.record({
    lockTtlMs: fc.constantFrom(0, 3000, 60_000),
    now: fc.integer({ min: 0, max: 300_000 }),
    paused: fc.boolean(),
    holderNodeGone: fc.boolean(),
    blocked: fc.boolean(),
  });

  it("never free when paused or blocked, never free when held by a live holder within the TTL", () => {
    fc.assert(
      fc.property(fc.option(slot, { nil: undefined }), ctx, (s, c) => {
        const observed = s && { record: { holder: s.holder, ttlMs: s.ttlMs } as SlotRecord, observedAt: s.observedAt };
        const v = isSlotFree(observed, { ...c, me: "me" });
        if (c.paused || c.blocked) expect(v.free).toBe(false);
        if (v.free && v.reason === "expired") {
          expect(c.lockTtlMs).toBeGreaterThan(0);
          expect(s!.ttlMs).toBeDefined();
          expect(c.now - s!.observedAt).toBeGreaterThanOrEqual(Math.max(c.lockTtlMs, s!.ttlMs!));
        }
        if (s?.holder === "me" && !c.blocked) expect(v).toMatchObject({ free: false, reason: "mine" });
      }),
      SEED,
    );
  });
});
