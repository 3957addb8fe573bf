/**
 * What the phase handlers are handed: the ports, the settings, the lock, this Node's watch, the
 * current need, and a little memory that lives only as long as the process (never needed for
 * correctness after a crash: the persisted state and the truth are).
 */
import type { Settings } from "../config";
import type { Kube } from "../kube";
import type { RebootLock, SlotRecord } from "../lock";
import type { Logger } from "../log";
import type { Clock, EventRecorder, EventType, Fs, Host, Notifier } from "../ports";
import type { FetchLike } from "../gates";
import type { RebootNeed } from "../signals";
import type { WindowSpec } from "../window";
import type { EdgeName } from "./edges";
import type { NodeWatch } from "./node-watch";
import type { AgentState } from "./state";
import type { DrainReport } from "./store";

/** The metrics the machine moves (agent/metrics implements it); every method optional. */
export interface AgentMetricsHook {
  transition?(from: string, to: string, atMs: number): void;
  rebootRequired?(needed: boolean, sinceMs?: number): void;
  lockHeld?(held: boolean): void;
  blocked?(reasons: Record<string, boolean>): void;
  inhibited?(bySource: Record<string, boolean>): void;
  window?(open: boolean, nextOpenMs: number | null): void;
  queuePosition?(position: number | null): void;
  rebooted?(): void;
  drainDuration?(seconds: number): void;
  rollback?(): void;
  lockLost?(): void;
}

export interface AgentDeps {
  clock: Clock;
  host: Host;
  fs: Fs;
  log: Logger;
  /** The ServiceAccount's client: Leases, and reading Nodes. */
  kube: Kube;
  /** Node-scoped work (cordon, evictions, marks): the kubelet's credential when nodeKubeconfig is set. */
  nodeKube?: Kube;
  events: EventRecorder;
  notifier: Notifier;
  signals: { current(): RebootNeed; onChange(listener: (need: RebootNeed) => void): () => void };
  /** For the Prometheus alert gate. */
  fetch: FetchLike;
  metrics?: AgentMetricsHook;
  random?: () => number;
}

/** One handler's answer: the next state (the same object to stay) and what to tell. */
export interface Tick {
  to: AgentState;
  /** Which edge, where two lead from the same phase to the same phase. */
  edge?: EdgeName;
  /** Why the transition happens: one sentence for the log line, the Event and the notification. */
  why?: string;
  /** Wall ms at which to tick again even if nothing wakes the loop. */
  wakeAt?: number;
  /** While staying: what the node is waiting for, for `sluice status` and systemd's STATUS=. */
  waiting?: string;
}

/** In-process memory across ticks. */
export interface AgentMemory {
  acquiring?: { abort: AbortController; result?: SlotRecord; error?: unknown };
  /** The reboot command given by this process: for which attempt, and whether it failed. */
  rebootIssued?: { attempt: number; failed: boolean };
  blockers?: { at: number; blocked: boolean; reasons: string[]; gates?: Record<string, boolean> };
  /** Keys of conditions already told (log + Event once per change, not every period). */
  told: Map<string, string>;
}

export interface TickContext {
  deps: AgentDeps;
  nodeKube: Kube;
  settings: Settings;
  windows: WindowSpec[];
  node: string;
  lock: RebootLock;
  nodeWatch: NodeWatch;
  need(): RebootNeed;
  /** Aborted on SIGTERM: a handler returns its state unchanged and the slot stays held. */
  stop: AbortSignal;
  mem: AgentMemory;
  /**
   * Says something once per change of `value` under `key`: a log line at `level` and, with
   * `event`, an Event on the Node. The same value again says nothing (no line every period).
   */
  tell(key: string, value: string, say: { level: "notice" | "info" | "warning"; message: string; fields?: Record<string, unknown>; event?: { reason: string; type: EventType } }): void;
  /** Forgets a told key, so that the next tell of it speaks again. */
  untell(key: string): void;
  saveDrain(report: DrainReport): Promise<void>;
  /** Wakes the loop (e.g. when a background wait settles). */
  wake(): void;
  notify(message: string): void;
}
