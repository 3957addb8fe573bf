/**
 * Kubernetes Events about this node, for `kubectl describe node`. The implementation
 * (agent/events) writes core/v1 Events in namespace `default` (cluster-scoped Node) and folds
 * repeats into one Event with a growing `count`, as kubectl's recorder does. Recording never
 * throws: an Event is worth a log line when it fails, never a failed reboot.
 */
export type EventType = "Normal" | "Warning";

export interface NodeEvent {
  /** The Node the event is about. */
  node: string;
  type: EventType;
  /** CamelCase machine-readable reason, e.g. "RebootSlotTaken", "DrainTimedOut". */
  reason: string;
  message: string;
}

export interface EventRecorder {
  record(event: NodeEvent): Promise<void>;
}

export const discardEvents: EventRecorder = { record: async () => {} };
