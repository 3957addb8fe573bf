/**
 * The agent's state: one union on `phase`, each variant carrying only what that phase needs
 * (DESIGN.md, "The state machine"). Times are wall-clock epoch ms: they are persisted and must
 * mean the same after a reboot, when the monotonic clock has started again.
 */
export const PHASES = ["idle", "pending", "draining", "rebooting", "recovering", "releasing", "aborting"] as const;
export type Phase = (typeof PHASES)[number];

interface Base {
  /** Wall ms at which this phase was entered. */
  since: number;
}

/** The need this node is serving: its time keeps its place in the queue across restarts. */
interface NeedFacts {
  needSince: number;
  /** update_engine's staged version, to compare with os-release after the boot. */
  newVersion?: string;
}

interface Holding extends NeedFacts {
  slot: string;
  /**
   * The node was unschedulable before sluice cordoned it (an administrator's cordon): leave it
   * cordoned afterwards. Persisted before the cordon, never re-read from the cordon sluice set.
   */
  wasUnschedulable: boolean;
}

export interface IdleState extends Base {
  phase: "idle";
  /** Wall ms at which the last reboot completed (rebootCooldown counts from it). */
  lastRebootAt?: number;
}

export interface PendingState extends Base, NeedFacts {
  phase: "pending";
  /** Which sources say so, for a person. */
  reason: string;
  lastRebootAt?: number;
}

export interface DrainingState extends Base, Holding {
  phase: "draining";
}

export interface RebootingState extends Base, Holding {
  phase: "rebooting";
  /** Boot id before the reboot command: a different one after start proves the reboot. */
  bootIdBefore: string;
  /** 1 for the first reboot command, 2 for the one retry. */
  attempts: number;
  /** Wall ms at which the last reboot command was given. */
  requestedAt: number;
}

export interface RecoveringState extends Base, Holding {
  phase: "recovering";
  bootIdBefore: string;
}

export interface ReleasingState extends Base {
  phase: "releasing";
  slot: string;
  needSince: number;
  /** Wall ms at which the node was back and verified. */
  rebootedAt: number;
}

export interface AbortingState extends Base, Holding {
  phase: "aborting";
  /** Why the reboot was given up, for a person. */
  why: string;
}

export type AgentState = IdleState | PendingState | DrainingState | RebootingState | RecoveringState | ReleasingState | AbortingState;
export type StateOf<P extends Phase> = Extract<AgentState, { phase: P }>;

/** Whether the node holds (or believes it holds) a slot in this phase. */
export function holdsSlot(s: AgentState): s is DrainingState | RebootingState | RecoveringState | ReleasingState | AbortingState {
  return s.phase !== "idle" && s.phase !== "pending";
}

/** The phases during which a slot must never be released or reclaimed by this node. */
export function isBusy(s: AgentState): boolean {
  return s.phase === "draining" || s.phase === "rebooting";
}

/**
 * Checks the shape of a parsed state (written by hand: zod would put ~700 KiB into the agent's
 * idle memory). Returns the first problem as "path: what", or undefined.
 */
export function stateShapeProblem(v: unknown): string | undefined {
  const obj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
  const num = (x: unknown) => typeof x === "number" && Number.isFinite(x);
  const str = (x: unknown) => typeof x === "string";
  if (!obj(v)) return "expected an object";
  if (!PHASES.includes(v.phase as Phase)) return `phase: expected one of ${PHASES.join(", ")}`;
  if (!num(v.since)) return "since: expected a number";
  const need = (): string | undefined => {
    if (!num(v.needSince)) return "needSince: expected a number";
    if (v.newVersion !== undefined && !str(v.newVersion)) return "newVersion: expected a string";
    return undefined;
  };
  const holding = (): string | undefined => {
    if (!str(v.slot) || v.slot === "") return "slot: expected a slot name";
    if (typeof v.wasUnschedulable !== "boolean") return "wasUnschedulable: expected true or false";
    return need();
  };
  switch (v.phase as Phase) {
    case "idle":
      return v.lastRebootAt === undefined || num(v.lastRebootAt) ? undefined : "lastRebootAt: expected a number";
    case "pending":
      if (!str(v.reason)) return "reason: expected a string";
      return need();
    case "draining":
      return holding();
    case "rebooting":
      if (!str(v.bootIdBefore)) return "bootIdBefore: expected a string";
      if (!num(v.attempts) || (v.attempts as number) < 1) return "attempts: expected a positive number";
      if (!num(v.requestedAt)) return "requestedAt: expected a number";
      return holding();
    case "recovering":
      if (!str(v.bootIdBefore)) return "bootIdBefore: expected a string";
      return holding();
    case "releasing":
      if (!str(v.slot) || v.slot === "") return "slot: expected a slot name";
      if (!num(v.rebootedAt)) return "rebootedAt: expected a number";
      return need();
    case "aborting":
      if (!str(v.why)) return "why: expected a string";
      return holding();
  }
}

/** One line for a person about a stored state, when nothing fresher says what it waits for. */
export function describeState(s: AgentState): string {
  switch (s.phase) {
    case "idle":
      return "no reboot needed";
    case "pending":
      return `reboot needed: ${s.reason}`;
    case "draining":
      return `draining, holding reboot slot ${s.slot}`;
    case "rebooting":
      return `rebooting (attempt ${s.attempts}), holding reboot slot ${s.slot}`;
    case "recovering":
      return `back from the reboot; waiting for the Node to be Ready, holding reboot slot ${s.slot}`;
    case "releasing":
      return `rebooted; handing reboot slot ${s.slot} on after lockReleaseDelay`;
    case "aborting":
      return `giving reboot slot ${s.slot} back: ${s.why}`;
  }
}
