/**
 * The agent's incremental group view (GroupIndex, fed one Lease at a time by the watch cache)
 * must always equal the view built from scratch from the same Leases: a seeded random walk of
 * creates, updates and deletes of slots, waiters, the pause marker and foreign objects.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GroupIndex, groupView, type GroupView } from "../../agent/lock";
import { pauseLease, releasedSlot, takenSlot, waiterLease } from "../../agent/lock/leases";
import type { V1Lease } from "../../agent/kube/types";

const NS = "sluice";
const G = "default";
const nodes = ["a", "b", "c", "d", "e", "f"];

/** A comparable picture of a view: every field, in a canonical order. */
function picture(v: GroupView) {
  return {
    slots: [...v.slots.entries()].sort(([a], [b]) => a - b).map(([i, s]) => [i, s.record.holder, s.record.resourceVersion, s.observedAt]),
    blocked: [...v.blocked.entries()].sort(([a], [b]) => a - b).map(([i, f]) => [i, f.name]),
    waiters: v.waiters.map((w) => [w.node, w.needSince, w.resourceVersion]),
    byNode: [...v.byNode.keys()].sort(),
    holders: [...v.holders].sort(),
    paused: v.paused,
    foreign: v.foreign.map((f) => f.name).sort(),
  };
}

const op = fc.oneof(
  fc.record({ kind: fc.constant("slot" as const), index: fc.integer({ min: 0, max: 3 }), holder: fc.constantFrom("", ...nodes) }),
  fc.record({ kind: fc.constant("wait" as const), node: fc.constantFrom(...nodes), needSince: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ kind: fc.constant("pause" as const), by: fc.constantFrom("ops", "") }),
  // A Lease with a slot's name but not our label (blocks the slot), and one with our label and no role.
  fc.record({ kind: fc.constant("foreign" as const), index: fc.integer({ min: 0, max: 3 }), labelled: fc.boolean() }),
  fc.record({ kind: fc.constant("delete" as const), pick: fc.nat() }),
);

type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

function apply(leases: Map<string, V1Lease>, o: Op, rv: number, now: number): string {
  const stamp = (l: V1Lease): V1Lease => ({ ...l, metadata: { ...l.metadata, resourceVersion: String(rv), creationTimestamp: new Date(1000 * (rv % 3)) } });
  let lease: V1Lease = {};
  switch (o.kind) {
    case "slot": {
      const name = `sluice-${G}-${o.index}`;
      const cur = leases.get(name);
      lease = o.holder === "" && cur ? releasedSlot(cur, now) : takenSlot(NS, G, o.index, cur, { node: o.holder || "a", phase: "acquired", bootId: "b", concurrency: 2, needSince: now }, now, 30_000);
      break;
    }
    case "wait":
      lease = waiterLease(NS, G, o.node, 1_000_000 + o.needSince * 1000);
      break;
    case "pause":
      lease = pauseLease(NS, G, o.by, now);
      break;
    case "foreign":
      lease = o.labelled
        ? { metadata: { name: `other-${o.index}`, namespace: NS, labels: { "sluice.dev/group": G } }, spec: {} }
        : { metadata: { name: `sluice-${G}-${o.index}`, namespace: NS }, spec: { holderIdentity: "x" } };
      break;
    case "delete": {
      const names = [...leases.keys()].sort();
      if (names.length === 0) return "";
      const name = names[o.pick % names.length]!;
      leases.delete(name);
      return name;
    }
  }
  lease = stamp(lease);
  leases.set(lease.metadata!.name!, lease);
  return lease.metadata!.name!;
}

describe("GroupIndex", () => {
  it("always equals the view built from scratch", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const leases = new Map<string, V1Lease>();
        const index = new GroupIndex(G);
        const observed = new Map<string, number>();
        ops.forEach((o, i) => {
          const name = apply(leases, o, i + 1, 5000 + i);
          if (!name) return;
          const lease = leases.get(name);
          if (lease) observed.set(name, i);
          else observed.delete(name);
          index.set(name, lease && { lease, observedAt: i });
          const fresh = groupView(G, [...leases.values()].map((l) => ({ lease: l, observedAt: observed.get(l.metadata!.name!)! })));
          expect(picture(index.view)).toEqual(picture(fresh));
        });
      }),
      { seed: 15, numRuns: 300 },
    );
  });

  it("starts over from a relist", () => {
    const index = new GroupIndex(G);
    index.set("sluice-default-wait-a", { lease: waiterLease(NS, G, "a", 1), observedAt: 0 });
    index.reset([{ lease: waiterLease(NS, G, "b", 2), observedAt: 0 }, { lease: waiterLease(NS, G, "c", 1), observedAt: 0 }]);
    expect(index.view.waiters.map((w) => w.node)).toEqual(["c", "b"]);
    expect([...index.view.byNode.keys()].sort()).toEqual(["b", "c"]);
  });
});
