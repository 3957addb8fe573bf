/**
 * One group's state as seen in a set of Leases: slots by index, the waiters, the pause marker,
 * and what only looks like sluice's. Shared by the agent (from its watch cache), `sluice lock`
 * and `sluice status` (from one list), so that every reader draws the same conclusions.
 *
 * A Lease counts as sluice's only if its name, labels and holder agree with what sluice writes
 * (see validLease). Anything else in the namespace that carries our names or labels is foreign:
 * listed once with the reason, never taken, never written, never a source of numbers. A foreign
 * object that occupies a slot's name blocks that slot (it is not free: creating it would answer
 * 409 forever), which halts at worst that slot, visibly.
 */
import type { V1Lease } from "../kube/types";
import { type Observed, type WaiterQueue, compareWaiters, queueIndex } from "./decide";
import { GROUP_LABEL, ROLE_LABEL, SLOT_LABEL, pauseName, slotName, waiterName } from "./names";
import { type SlotRecord, type WaiterRecord, slotRecord, waiterRecord } from "./record";

/** No group has more slots than concurrency may say (config: at most 10000). */
export const MAX_SLOTS = 10_000;

export interface ForeignLease {
  name: string;
  /** Why it is not taken for sluice's: one short sentence. */
  problem: string;
  /** The slot whose name it occupies, if any: that slot is blocked. */
  blocksSlot?: number;
}

export interface GroupView extends WaiterQueue {
  /** Every valid slot Lease, including indices beyond our concurrency (another agent's config). */
  readonly slots: ReadonlyMap<number, Observed<SlotRecord>>;
  /** Slots whose name is taken by a Lease that is not a valid sluice slot. */
  readonly blocked: ReadonlyMap<number, ForeignLease>;
  readonly paused: { by: string; since: number | undefined } | undefined;
  /** Nodes holding a slot of any index. */
  readonly holders: ReadonlySet<string>;
  readonly foreign: readonly ForeignLease[];
}

const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A Kubernetes node name: what holderIdentity must be (no control characters, no spaces). */
export function isNodeName(name: string): boolean {
  return name.length <= 253 && NODE_NAME.test(name);
}

/** The slot index a Lease name stands for in `group`, or undefined; never an index past MAX_SLOTS. */
export function slotIndexOf(group: string, name: string): number | undefined {
  const prefix = `sluice-${group}-`;
  if (!name.startsWith(prefix)) return undefined;
  const digits = name.slice(prefix.length);
  if (!/^(0|[1-9]\d{0,4})$/.test(digits)) return undefined;
  const i = Number(digits);
  return i < MAX_SLOTS ? i : undefined;
}

export type LeaseVerdict =
  | { kind: "slot"; index: number }
  | { kind: "waiter"; node: string }
  | { kind: "pause" }
  | { kind: "foreign"; problem: string; blocksSlot?: number }
  | { kind: "other" };

/**
 * What `lease` is for `group`. "other" is a Lease that neither carries our group label nor
 * one of our names (it belongs to someone else and is none of our business).
 */
export function validLease(group: string, lease: V1Lease): LeaseVerdict {
  const name = lease.metadata?.name ?? "";
  const labels = lease.metadata?.labels ?? {};
  const role = labels[ROLE_LABEL];
  const ourGroup = labels[GROUP_LABEL] === group;
  const holder = lease.spec?.holderIdentity ?? "";
  const index = slotIndexOf(group, name);
  const named = index !== undefined || name === pauseName(group) || name.startsWith(`sluice-${group}-wait-`);
  if (!ourGroup && !named) return { kind: "other" };
  const foreign = (problem: string): LeaseVerdict => ({ kind: "foreign", problem, ...(index !== undefined ? { blocksSlot: index } : {}) });
  if (!ourGroup) return foreign(`has sluice's name but not the label ${GROUP_LABEL}=${group}`);
  if (role === "slot") {
    if (index === undefined) return foreign(`is labelled a slot, but its name is not ${slotName(group, 0)} … ${slotName(group, MAX_SLOTS - 1)}`);
    if (labels[SLOT_LABEL] !== String(index)) return foreign(`is slot ${index} by name but labelled ${SLOT_LABEL}=${JSON.stringify(labels[SLOT_LABEL] ?? "")}`);
    if (holder !== "" && !isNodeName(holder)) return foreign("has a holderIdentity that is not a node name");
    return { kind: "slot", index };
  }
  if (role === "waiter") {
    if (!isNodeName(holder)) return foreign("is a waiting Lease whose holderIdentity is not a node name");
    if (name !== waiterName(group, holder)) return foreign(`is a waiting Lease for ${holder} under another node's name`);
    if (lease.spec?.acquireTime === undefined || lease.spec.acquireTime === null || !Number.isFinite(new Date(lease.spec.acquireTime as Date | string).getTime())) {
      return foreign("is a waiting Lease without a valid acquireTime (when its node started needing a reboot)");
    }
    return { kind: "waiter", node: holder };
  }
  if (role === "pause") {
    if (name !== pauseName(group)) return foreign(`is labelled a pause marker, but only ${pauseName(group)} pauses the group`);
    return { kind: "pause" };
  }
  return foreign(`has no valid ${ROLE_LABEL} label (slot, waiter or pause)`);
}

interface Parsed {
  verdict: LeaseVerdict;
  slot?: Observed<SlotRecord>;
  waiter?: WaiterRecord;
  foreign?: ForeignLease;
  paused?: { by: string; since: number | undefined };
}

function parse(group: string, lease: V1Lease, observedAt: number): Parsed {
  const verdict = validLease(group, lease);
  switch (verdict.kind) {
    case "slot":
      return { verdict, slot: { record: { ...slotRecord(lease), index: verdict.index }, observedAt } };
    case "waiter":
      return { verdict, waiter: waiterRecord(lease) };
    case "pause": {
      const at = lease.spec?.acquireTime as Date | string | undefined;
      const since = at ? new Date(at).getTime() : undefined;
      return { verdict, paused: { by: lease.spec?.holderIdentity ?? "", since: since !== undefined && Number.isFinite(since) ? since : undefined } };
    }
    case "foreign":
      return { verdict, foreign: { name: lease.metadata?.name ?? "", problem: verdict.problem, ...(verdict.blocksSlot !== undefined ? { blocksSlot: verdict.blocksSlot } : {}) } };
    default:
      return { verdict };
  }
}

/**
 * A GroupView kept up to date one Lease at a time, for the agent's watch cache: a change costs
 * O(log n) for a waiter (plus moving the queue's tail, a memmove) and O(slots) for a slot, where
 * rebuilding the view costs O(n) — on every event, in every waiting agent. The view is live: it
 * changes with the cache, so read it synchronously.
 */
export class GroupIndex {
  private readonly byName = new Map<string, Parsed>();
  private readonly slots = new Map<number, Observed<SlotRecord>>();
  private readonly blocked = new Map<number, ForeignLease>();
  private readonly waiters: WaiterRecord[] = [];
  private readonly byNode = new Map<string, WaiterRecord>();
  private readonly holders = new Set<string>();
  private readonly foreign: ForeignLease[] = [];
  private paused: GroupView["paused"];
  readonly view: GroupView;

  constructor(private readonly group: string) {
    const self = this;
    this.view = {
      slots: this.slots, blocked: this.blocked, waiters: this.waiters, byNode: this.byNode, holders: this.holders, foreign: this.foreign,
      get paused() {
        return self.paused;
      },
    };
  }

  /** Takes in the current entry for `name` (undefined: the Lease is gone). */
  set(name: string, entry: { lease: V1Lease; observedAt: number } | undefined): void {
    const old = this.byName.get(name);
    if (old) this.remove(old, true);
    if (!entry) {
      this.byName.delete(name);
      return;
    }
    const p = parse(this.group, entry.lease, entry.observedAt);
    this.byName.set(name, p);
    this.add(p, true);
  }

  /** Starts over from a full list (after a relist). */
  reset(entries: Iterable<{ lease: V1Lease; observedAt: number }>): void {
    this.byName.clear();
    this.slots.clear();
    this.blocked.clear();
    this.waiters.length = 0;
    this.byNode.clear();
    this.holders.clear();
    this.foreign.length = 0;
    this.paused = undefined;
    for (const e of entries) {
      const p = parse(this.group, e.lease, e.observedAt);
      this.byName.set(e.lease.metadata?.name ?? "", p);
      this.add(p, false);
    }
    this.waiters.sort(compareWaiters);
    this.countHolders();
  }

  private add(p: Parsed, incremental: boolean): void {
    if (p.slot) {
      this.slots.set(p.slot.record.index, p.slot);
      if (incremental) this.countHolders();
    } else if (p.waiter) {
      const w = p.waiter;
      this.byNode.set(w.node, w);
      if (incremental) this.waiters.splice(queueIndex(this.waiters, w), 0, w);
      else this.waiters.push(w);
    } else if (p.paused) this.paused = p.paused;
    else if (p.foreign) {
      this.foreign.push(p.foreign);
      if (p.foreign.blocksSlot !== undefined) this.blocked.set(p.foreign.blocksSlot, p.foreign);
    }
  }

  private remove(p: Parsed, incremental: boolean): void {
    if (p.slot) {
      if (this.slots.get(p.slot.record.index) === p.slot) this.slots.delete(p.slot.record.index);
      if (incremental) this.countHolders();
    } else if (p.waiter) {
      const w = p.waiter;
      if (this.byNode.get(w.node) === w) this.byNode.delete(w.node);
      const i = queueIndex(this.waiters, w);
      // The head leaves most (it took a slot): shift() is O(1) in V8, splice(0, 1) moves the queue.
      if (this.waiters[i] === w) {
        if (i === 0) this.waiters.shift();
        else this.waiters.splice(i, 1);
      }
    } else if (p.paused) this.paused = undefined;
    else if (p.foreign) {
      const i = this.foreign.indexOf(p.foreign);
      if (i >= 0) this.foreign.splice(i, 1);
      if (p.foreign.blocksSlot !== undefined && this.blocked.get(p.foreign.blocksSlot) === p.foreign) this.blocked.delete(p.foreign.blocksSlot);
    }
  }

  private countHolders(): void {
    this.holders.clear();
    for (const { record } of this.slots.values()) if (record.holder) this.holders.add(record.holder);
  }
}

/** The view of one list of Leases (`sluice lock`, `sluice status`). */
export function groupView(group: string, entries: readonly { lease: V1Lease; observedAt: number }[]): GroupView {
  const index = new GroupIndex(group);
  index.reset(entries);
  return index.view;
}
