/**
 * What an operator does to a group from `sluice lock`: read it, pause and resume it, release a
 * slot by hand. Same optimistic rules as the agents: a release re-reads and re-decides on 409.
 */
import { SluiceError } from "../ports/errors";
import { KubeError } from "../kube/errors";
import type { Kube } from "../kube/types";
import { concurrencyMismatches, isBusyPhase, queueOrder } from "./decide";
import { groupView } from "./group-view";
import { pauseLease, releasedSlot } from "./leases";
import { groupSelector, pauseName, slotName } from "./names";
import type { SlotRecord, WaiterRecord } from "./record";

export interface GroupRef {
  namespace: string;
  group: string;
}

export interface SlotState extends SlotRecord {
  /** False for a slot whose Lease has not been created yet (it is free). */
  exists: boolean;
}

export interface LockState extends GroupRef {
  concurrency: number;
  paused: { by: string; since: number | undefined } | undefined;
  slots: SlotState[];
  /** Waiting nodes, next first. */
  queue: WaiterRecord[];
  /** Holders configured with another concurrency than `concurrency`. */
  mismatches: SlotRecord[];
}

function emptySlot(group: string, index: number): SlotState {
  return {
    name: slotName(group, index), index, holder: "", phase: undefined, bootId: undefined, wasUnschedulable: undefined, concurrency: undefined, ttlMs: undefined,
    needSince: undefined, acquireTime: undefined, renewTime: undefined, transitions: 0, resourceVersion: "", exists: false,
  };
}

export async function readLockState(kube: Kube, ref: GroupRef & { concurrency: number }): Promise<LockState> {
  const list = await kube.listLeases(ref.namespace, groupSelector(ref.group));
  const view = groupView(list.items.map((lease) => ({ lease, observedAt: 0 })));
  const top = Math.max(ref.concurrency, ...[...view.slots.keys()].map((i) => i + 1));
  const slots: SlotState[] = [];
  for (let i = 0; i < top; i++) {
    const s = view.slots.get(i);
    slots.push(s ? { ...s.record, exists: true } : emptySlot(ref.group, i));
  }
  return {
    ...ref,
    paused: view.paused,
    slots,
    queue: queueOrder(view.waiters, view.holders),
    mismatches: concurrencyMismatches(slots, ref.concurrency),
  };
}

/** Creates the pause marker; false when the group was already paused. */
export async function pauseGroup(kube: Kube, ref: GroupRef, by: string, nowMs: number): Promise<boolean> {
  try {
    await kube.createLease(ref.namespace, pauseLease(ref.namespace, ref.group, by, nowMs));
    return true;
  } catch (err) {
    if (err instanceof KubeError && err.code === "already-exists") return false;
    throw err;
  }
}

/** Deletes the pause marker; false when the group was not paused. */
export async function resumeGroup(kube: Kube, ref: GroupRef): Promise<boolean> {
  try {
    await kube.deleteLease(ref.namespace, pauseName(ref.group));
    return true;
  } catch (err) {
    if (err instanceof KubeError && err.code === "not-found") return false;
    throw err;
  }
}

/** Accepts "2" or "sluice-default-2". */
export function parseSlot(group: string, slot: string): number {
  const m = /^\d+$/.test(slot) ? slot : slot.startsWith(`sluice-${group}-`) ? slot.slice(`sluice-${group}-`.length) : "";
  if (!/^\d+$/.test(m)) throw new SluiceError("lock-bad-slot", `${slot} is not a slot of group ${group} (give its index or its name, e.g. 0 or ${slotName(group, 0)})`);
  return Number(m);
}

export interface OperatorRelease {
  slot: string;
  /** "" when the slot was already free. */
  previousHolder: string;
  phase: SlotRecord["phase"];
}

/**
 * Clears a slot's holder. A holder mid-drain or mid-reboot still acts as if it held the slot, so
 * releasing it lets one more node disrupt the fleet: refused unless `force`.
 */
export async function releaseSlotByOperator(kube: Kube, ref: GroupRef, slot: string, options: { force: boolean; nowMs: number }): Promise<OperatorRelease> {
  const name = slotName(ref.group, parseSlot(ref.group, slot));
  for (let attempt = 0; attempt < 10; attempt++) {
    let cur;
    try {
      cur = await kube.getLease(ref.namespace, name);
    } catch (err) {
      if (err instanceof KubeError && err.code === "not-found") return { slot: name, previousHolder: "", phase: undefined };
      throw err;
    }
    const holder = cur.spec?.holderIdentity ?? "";
    const phase = groupView([{ lease: cur, observedAt: 0 }]).slots.values().next().value?.record.phase;
    if (!holder) return { slot: name, previousHolder: "", phase: undefined };
    if (isBusyPhase(phase) && !options.force) {
      throw new SluiceError("lock-slot-busy", `${holder} holds ${name} and is ${phase === "draining" ? "draining" : "rebooting"}; releasing it now lets another node start while this one is down. Use --force if ${holder} will not come back.`);
    }
    try {
      await kube.replaceLease(ref.namespace, releasedSlot(cur, options.nowMs));
      return { slot: name, previousHolder: holder, phase };
    } catch (err) {
      if (!(err instanceof KubeError && err.code === "conflict")) throw err;
    }
  }
  throw new SluiceError("lock-release-contended", `${name} kept changing while releasing it; try again`);
}
