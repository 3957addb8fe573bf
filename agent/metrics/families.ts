/**
 * Every metric family sluice exports: name, type, labels and help, as data. The registry
 * (metrics.ts) is built from this list, and the tests of deploy/monitoring read it to prove that
 * the alert rules and the dashboard ask only for series that exist. Importing this file costs
 * nothing: prom-client is loaded only when metrics are switched on.
 */
export type FamilyType = "gauge" | "counter" | "histogram";

export interface Family {
  name: string;
  type: FamilyType;
  help: string;
  labels: readonly string[];
  /** Histogram bucket upper bounds in seconds. */
  buckets?: readonly number[];
  /** Exported only with `kuredCompat`. */
  kured?: boolean;
}

/** The phases of agent/reboot's state machine, in the order of the main path. */
export const PHASES = ["idle", "pending", "draining", "rebooting", "recovering", "releasing", "aborting"] as const;
export type Phase = (typeof PHASES)[number];

/**
 * Reasons for `sluice_reboot_blocked{reason}` that deploy/monitoring's rules and dashboard
 * name. The agent may report others; these are the ones an alert depends on.
 */
export const BLOCK_REASONS = {
  /** `sluice lock pause`: the group takes no new reboots (alert SluiceGroupPaused). */
  paused: "paused",
  window: "window",
  pods: "pods",
  alerts: "alerts",
  cooldown: "cooldown",
  inhibited: "inhibited",
} as const;

/** A drain takes seconds on an empty node and up to drainTimeout (often an hour) with PDBs. */
export const DRAIN_BUCKETS = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200] as const;

export const FAMILIES: readonly Family[] = [
  { name: "sluice_info", type: "gauge", labels: ["version", "node", "group"], help: "Always 1; the labels say which sluice runs on which node, in which group." },
  { name: "sluice_state", type: "gauge", labels: ["state"], help: "1 for the phase the agent is in, 0 for the others." },
  { name: "sluice_last_transition_timestamp_seconds", type: "gauge", labels: [], help: "Unix time of the last change of phase." },
  { name: "sluice_reboot_required", type: "gauge", labels: [], help: "1 while this host needs a reboot." },
  { name: "sluice_reboot_pending_seconds", type: "gauge", labels: [], help: "Seconds since this host first needed the reboot it is waiting for; 0 when none is needed." },
  { name: "sluice_lock_held", type: "gauge", labels: [], help: "1 while this node holds a slot of its group's reboot semaphore." },
  { name: "sluice_lock_queue_position", type: "gauge", labels: [], help: "Position of this node in its group's wait queue (0 = next); absent when not waiting." },
  { name: "sluice_reboot_blocked", type: "gauge", labels: ["reason"], help: "1 while the reboot is held back for this reason (paused, window, pods, alerts, cooldown, inhibited)." },
  { name: "sluice_inhibited", type: "gauge", labels: ["source"], help: "1 while this inhibitor (the Node annotation or a file in an inhibit directory) forbids a reboot." },
  { name: "sluice_window_open", type: "gauge", labels: [], help: "1 while the maintenance window is open." },
  { name: "sluice_window_next_open_timestamp_seconds", type: "gauge", labels: [], help: "Unix time the maintenance window next opens; absent when it never closes." },
  { name: "sluice_reboots_total", type: "counter", labels: [], help: "Reboots this agent has asked the host for." },
  { name: "sluice_drain_duration_seconds", type: "histogram", labels: [], buckets: DRAIN_BUCKETS, help: "How long draining the node took." },
  { name: "sluice_update_rollback_total", type: "counter", labels: [], help: "Boots after which the OS version was not the update's (the update rolled back)." },
  { name: "sluice_lock_lost_total", type: "counter", labels: [], help: "Times this node lost a slot it held (taken, cleared, or renewals failing)." },
  { name: "kured_reboot_required", type: "gauge", labels: ["node"], kured: true, help: "OS requires reboot due to software updates." },
];

/**
 * Every series name a scrape can contain: counters keep the `_total` they are declared with,
 * histograms add `_bucket`, `_sum` and `_count`.
 */
export function exportedSeriesNames(families: readonly Family[] = FAMILIES): string[] {
  return families.flatMap((f) => (f.type === "histogram" ? [`${f.name}_bucket`, `${f.name}_sum`, `${f.name}_count`] : [f.name]));
}
