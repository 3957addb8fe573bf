export { RebootLock, type AcquireRequest, type LockDeps, type LockOptions } from "./lock";
export { LeaseCache, type CacheChange, type CachedLease } from "./cache";
export {
  isSlotFree, isNodeGone, compareWaiters, queueOrder, queueStanding, waiterQueue, shouldITry, overdueHeads, concurrencyMismatches, isBusyPhase,
  type Observed, type NodeAbsence, type SlotContext, type SlotVerdict, type TryDecision, type Standing, type WaiterQueue,
} from "./decide";
export { GroupIndex, groupView, type GroupView } from "./group-view";
export { LOCK_PHASES, type LockPhase, type SlotRecord, type WaiterRecord, slotRecord, waiterRecord } from "./record";
export { GROUP_LABEL, ROLE_LABEL, groupSelector, slotName, waiterName, pauseName } from "./names";
export { readLockState, pauseGroup, resumeGroup, releaseSlotByOperator, parseSlot, type GroupRef, type LockState, type SlotState, type OperatorRelease } from "./admin";
