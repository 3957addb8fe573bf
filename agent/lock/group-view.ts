/**
 * One group's state as seen in a set of Leases: slots by index, the waiters, the pause marker.
 * Shared by the agent (from its watch cache) and `sluice lock list` (from one list).
 */
import type { V1Lease } from "../kube/types";
import type { Observed } from "./decide";
import { type SlotRecord, type WaiterRecord, roleOf, slotRecord, waiterRecord } from "./record";

export interface GroupView {
  /** Every slot Lease, including indices beyond our concurrency (another agent's config). */
  slots: Map<number, Observed<SlotRecord>>;
  waiters: WaiterRecord[];
  paused: { by: string; since: number | undefined } | undefined;
  /** Nodes holding a slot of any index. */
  holders: Set<string>;
}

const parsed = new WeakMap<V1Lease, SlotRecord | WaiterRecord | null>();

function parse(lease: V1Lease): SlotRecord | WaiterRecord | null {
  let p = parsed.get(lease);
  if (p === undefined) {
    const role = roleOf(lease);
    p = role === "slot" ? slotRecord(lease) : role === "waiter" ? waiterRecord(lease) : null;
    parsed.set(lease, p);
  }
  return p;
}

export function groupView(entries: readonly { lease: V1Lease; observedAt: number }[]): GroupView {
  const view: GroupView = { slots: new Map(), waiters: [], paused: undefined, holders: new Set() };
  for (const { lease, observedAt } of entries) {
    const role = roleOf(lease);
    if (role === "pause") {
      const at = lease.spec?.acquireTime as Date | undefined;
      view.paused = { by: lease.spec?.holderIdentity ?? "", since: at ? new Date(at).getTime() : undefined };
    } else if (role === "slot") {
      const record = parse(lease) as SlotRecord;
      if (record.index < 0) continue;
      view.slots.set(record.index, { record, observedAt });
      if (record.holder) view.holders.add(record.holder);
    } else if (role === "waiter") {
      view.waiters.push(parse(lease) as WaiterRecord);
    }
  }
  return view;
}
