/**
 * What an operator does to a group from `sluice lock`: read it, pause and resume it, release a
 * slot by hand. Same optimistic rules as the agents: a release re-reads and re-decides on 409.
 * Admin commands touch only sluice's own objects (group-view.ts decides which those are), and
 * read them the way the agents do: pause is the one valid marker, nothing else.
 */
import { SluiceError } from "../ports/errors";
import { KubeError } from "../kube/errors";
import type { Kube } from "../kube/types";
import { concurrencyMismatches, isBusyPhase, queueOrder } from "./decide";
import { type ForeignLease, MAX_SLOTS, groupView, validLease } from "./group-view";
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
  /** Leases with sluice's names or labels that are not sluice's: left alone, listed for a person. */
  foreign: ForeignLease[];
}

function emptySlot(group: string, index: number): SlotState {
  return {
    name: slotName(group, index), index, holder: "", phase: undefined, bootId: undefined, wasUnschedulable: undefined, concurrency: undefined, ttlMs: undefined,
    needSince: undefined, acquireTime: undefined, renewTime: undefined, transitions: 0, resourceVersion: "", exists: false,
  };
}

export async function readLockState(kube: Kube, ref: GroupRef & { concurrency: number }): Promise<LockState> {
  const list = await kube.listLeases(ref.namespace, groupSelector(ref.group));
  const view = groupView(ref.group, list.items.map((lease) => ({ lease, observedAt: 0 })));
  // Our slots, then any valid slot beyond them: never as many rows as some Lease's number says.
  const slots: SlotState[] = [];
  for (let i = 0; i < ref.concurrency; i++) {
    const s = view.slots.get(i);
    slots.push(s ? { ...s.record, exists: true } : emptySlot(ref.group, i));
  }
  for (const i of [...view.slots.keys()].filter((i) => i >= ref.concurrency).sort((a, b) => a - b)) slots.push({ ...view.slots.get(i)!.record, exists: true });
  return {
    ...ref,
    paused: view.paused,
    slots,
    queue: queueOrder(view.waiters, view.holders),
    mismatches: concurrencyMismatches(slots, ref.concurrency),
    foreign: [...view.foreign],
  };
}

function notOurs(name: string, problem: string, what: string): SluiceError {
  return new SluiceError("lock-foreign-object", `Lease ${name} is not sluice's (it ${problem}); ${what}. Inspect it with kubectl get lease -o yaml and remove it if it is stray.`);
}

/** The Lease named `name`, or undefined when there is none. */
async function getLeaseOrNone(kube: Kube, namespace: string, name: string) {
  try {
    return await kube.getLease(namespace, name);
  } catch (err) {
    if (err instanceof KubeError && err.code === "not-found") return undefined;
    throw err;
  }
}

/**
 * Creates the pause marker; false when the group was already paused. A Lease of that name that
 * is not a valid marker does not pause the agents (they read only valid markers), so it is
 * reported as an error rather than as "already paused".
 */
export async function pauseGroup(kube: Kube, ref: GroupRef, by: string, nowMs: number): Promise<boolean> {
  const name = pauseName(ref.group);
  try {
    await kube.createLease(ref.namespace, pauseLease(ref.namespace, ref.group, by, nowMs));
    return true;
  } catch (err) {
    if (!(err instanceof KubeError && err.code === "already-exists")) throw err;
  }
  const cur = await getLeaseOrNone(kube, ref.namespace, name);
  if (!cur) return pauseGroup(kube, ref, by, nowMs);
  const v = validLease(ref.group, cur);
  if (v.kind !== "pause") throw notOurs(name, v.kind === "foreign" ? v.problem : "is not a pause marker", "the agents do not read it as a pause, so the group is NOT paused");
  return false;
}

/** Deletes the pause marker (only sluice's, and only the version just read); false when the group was not paused. */
export async function resumeGroup(kube: Kube, ref: GroupRef): Promise<boolean> {
  const name = pauseName(ref.group);
  for (let attempt = 0; attempt < 5; attempt++) {
    const cur = await getLeaseOrNone(kube, ref.namespace, name);
    if (!cur) return false;
    const v = validLease(ref.group, cur);
    if (v.kind !== "pause") throw notOurs(name, v.kind === "foreign" ? v.problem : "is not a pause marker", "it does not pause the group and is left in place");
    try {
      await kube.deleteLease(ref.namespace, name, cur.metadata?.resourceVersion);
      return true;
    } catch (err) {
      if (err instanceof KubeError && err.code === "not-found") return false;
      if (!(err instanceof KubeError && err.code === "conflict")) throw err;
    }
  }
  throw new SluiceError("lock-resume-contended", `${name} kept changing while resuming; try again`);
}

/** Accepts "2" or "sluice-default-2". */
export function parseSlot(group: string, slot: string): number {
  const m = /^\d+$/.test(slot) ? slot : slot.startsWith(`sluice-${group}-`) ? slot.slice(`sluice-${group}-`.length) : "";
  if (!/^(0|[1-9]\d{0,4})$/.test(m) || Number(m) >= MAX_SLOTS) throw new SluiceError("lock-bad-slot", `${slot} is not a slot of group ${group} (give its index or its name, e.g. 0 or ${slotName(group, 0)})`);
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
  const index = parseSlot(ref.group, slot);
  const name = slotName(ref.group, index);
  for (let attempt = 0; attempt < 10; attempt++) {
    let cur;
    try {
      cur = await kube.getLease(ref.namespace, name);
    } catch (err) {
      if (err instanceof KubeError && err.code === "not-found") return { slot: name, previousHolder: "", phase: undefined };
      throw err;
    }
    const v = validLease(ref.group, cur);
    if (v.kind !== "slot") throw notOurs(name, v.kind === "foreign" ? v.problem : "is not a slot", "it is not released");
    const holder = cur.spec?.holderIdentity ?? "";
    const phase = groupView(ref.group, [{ lease: cur, observedAt: 0 }]).slots.get(index)?.record.phase;
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
