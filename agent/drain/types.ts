/**
 * What the drain is asked to do and what it reports. Options are kured's keys already parsed by
 * agent/config (cli/ maps Settings onto DrainOptions); the result is what the state machine
 * persists and `sluice status` shows, so it names the pods and PDBs that held a drain.
 */
import type { Kube } from "../kube";
import type { Logger } from "../log";
import type { Clock, EventRecorder } from "../ports";

export interface DrainOptions {
  node: string;
  /** drainGracePeriod: seconds each pod gets; -1 (default) means each pod's own. */
  gracePeriodSeconds?: number;
  /** drainTimeout in ms; 0 (default) never gives up. */
  timeoutMs?: number;
  /** drainDelay in ms: wait after cordoning, before the first eviction. */
  delayMs?: number;
  /** drainPodSelector: only pods matching this label selector are evicted ("" = all). */
  podSelector?: string;
  /** skipWaitForDeleteTimeout: stop waiting for a pod whose deletionTimestamp is older (0 = always wait). */
  skipWaitForDeleteTimeoutSeconds?: number;
}

export interface DrainDeps {
  kube: Kube;
  clock: Clock;
  log: Logger;
  events: EventRecorder;
}

export type SkipReason = "mirror" | "daemonset" | "finished" | "deleted-long-ago";

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

/** A pod that was still on the node when the drain gave up, and why. */
export interface HeldPod {
  namespace: string;
  name: string;
  /** evicting: the API has not accepted the eviction yet; terminating: accepted, pod not gone yet. */
  state: "evicting" | "terminating";
  /** One line for a person, e.g. "PodDisruptionBudget apps/web allows no disruption". */
  reason: string;
  /** PDBs (namespace/name) that refused its eviction. */
  pdbs: string[];
  /** Stable code of the last eviction error (KubeError code), if any. */
  errorCode?: string;
  attempts: number;
}

export type DrainOutcome = "drained" | "timed-out" | "failed";

export interface DrainResult {
  outcome: DrainOutcome;
  node: string;
  durationMs: number;
  /** Pods whose eviction the API accepted (or that were gone already). */
  evicted: number;
  skipped: { namespace: string; name: string; reason: SkipReason }[];
  /** Pods given up on by skipWaitForDeleteTimeout (still Terminating when the drain ended). */
  notWaitedFor: string[];
  /** timed-out: every pod still holding the drain. */
  held: HeldPod[];
  /** timed-out: every PDB (namespace/name) that refused an eviction of a held pod. */
  pdbs: string[];
  /** failed: why (stable code and message). */
  error?: { code: string; message: string };
}
