export * from "./types";
export { drainNode } from "./drain";
export { cordon, uncordon, type CordonResult } from "./cordon";
export {
  markBeforeReboot, markAfterReboot, setPendingTaint, labelsPatch, beforeRebootAnnotations, afterRebootAnnotations, withPreferNoSchedule, type MarkOptions,
  needMarkPatch, holdMarkPatch, unholdMarkPatch, type HoldMarkOptions, NEED_LABEL, NEED_SINCE_ANNOTATION, SCALE_DOWN_ANNOTATION, EXCLUDE_LB_LABEL, ADDED_MARKS_ANNOTATION,
  ANNOTATION_IN_PROGRESS, ANNOTATION_MOST_RECENT_NEED, KURED_ANNOTATION_IN_PROGRESS, KURED_ANNOTATION_MOST_RECENT_NEED,
} from "./mark";
export {
  planPod, evictionOutcome, podGone, waitDecision, deletedLongAgo, backoffMs, pdbsFromError, pollDelayMs, shouldReboot, summarize, refusalReason,
  terminatingReason, type EvictionOutcome, type WaitDecision, MIRROR_ANNOTATION, PDB_RETRY_MS,
} from "./decide";
