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
import type { Observed } from "./decide";
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

export interface GroupView {
  /** Every valid slot Lease, including indices beyond our concurrency (another agent's config). */
  slots: Map<number, Observed<SlotRecord>>;
  /** Slots whose name is taken by a Lease that is not a valid sluice slot. */
  blocked: Map<number, ForeignLease>;
  waiters: WaiterRecord[];
  paused: { by: string; since: number | undefined } | undefined;
  /** Nodes holding a slot of any index. */
  holders: Set<string>;
  foreign: ForeignLease[];
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

const parsed = new WeakMap<V1Lease, { group: string; verdict: LeaseVerdict; record?: SlotRecord | WaiterRecord }>();

function parse(group: string, lease: V1Lease): { verdict: LeaseVerdict; record?: SlotRecord | WaiterRecord } {
  let p = parsed.get(lease);
  if (p === undefined || p.group !== group) {
    const verdict = validLease(group, lease);
    const record = verdict.kind === "slot" ? { ...slotRecord(lease), index: verdict.index } : verdict.kind === "waiter" ? waiterRecord(lease) : undefined;
    p = { group, verdict, record };
    parsed.set(lease, p);
  }
  return p;
}

export function groupView(group: string, entries: readonly { lease: V1Lease; observedAt: number }[]): GroupView {
  const view: GroupView = { slots: new Map(), blocked: new Map(), waiters: [], paused: undefined, holders: new Set(), foreign: [] };
  for (const { lease, observedAt } of entries) {
    const { verdict, record } = parse(group, lease);
    if (verdict.kind === "pause") {
      const at = lease.spec?.acquireTime as Date | string | undefined;
      const since = at ? new Date(at).getTime() : undefined;
      view.paused = { by: lease.spec?.holderIdentity ?? "", since: since !== undefined && Number.isFinite(since) ? since : undefined };
    } else if (verdict.kind === "slot") {
      const r = record as SlotRecord;
      view.slots.set(r.index, { record: r, observedAt });
      if (r.holder) view.holders.add(r.holder);
    } else if (verdict.kind === "waiter") {
      view.waiters.push(record as WaiterRecord);
    } else if (verdict.kind === "foreign") {
      const f: ForeignLease = { name: lease.metadata?.name ?? "", problem: verdict.problem, ...(verdict.blocksSlot !== undefined ? { blocksSlot: verdict.blocksSlot } : {}) };
      view.foreign.push(f);
      if (f.blocksSlot !== undefined) view.blocked.set(f.blocksSlot, f);
    }
  }
  return view;
}
