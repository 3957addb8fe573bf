/**
 * Start-up: the stored state is a hint, the truth is elsewhere (DESIGN.md). The Lease says
 * whether this node holds a slot and how far it got; the boot id says whether the host rebooted.
 * Pure, so that a table test can crash the agent at every transition point.
 */
import type { LockPhase } from "../lock";
import type { PersistedState } from "./store";
import type { AgentState } from "./state";

/** What the agent sees at start, before its first tick. */
export interface StartTruth {
  node: string;
  bootId: string;
  now: number;
  /** The slot the Lease cache shows this node holding, with what its annotations recorded. */
  held?: { name: string; phase?: LockPhase; bootId?: string; wasUnschedulable?: boolean; needSince?: number };
  needed: boolean;
  needSince?: number;
}

export interface Reconciled {
  state: AgentState;
  /** Set when the truth overruled the stored state: one line for the log. */
  note?: string;
}

export function reconcile(stored: PersistedState | undefined, t: StartTruth): Reconciled {
  const s = stored && stored.node === t.node ? stored.state : undefined;
  const now = t.now;
  const needSince = (fallback?: number) => fallback ?? t.held?.needSince ?? t.needSince ?? now;

  if (s && s.phase !== "idle" && s.phase !== "pending") {
    const mine = t.held?.name === s.slot;
    switch (s.phase) {
      case "rebooting":
        // A new boot id: the handler takes the "booted" edge (and says so). The same one with the
        // slot: the host never went down, and the handler gives the command again.
        if (t.bootId !== s.bootIdBefore || mine) return { state: s };
        return { state: { ...pick(s), phase: "aborting", since: now, why: "the slot was lost before the host rebooted" }, note: "the slot was lost before the host rebooted" };
      case "draining":
        if (mine) return { state: s };
        return { state: { ...pick(s), phase: "aborting", since: now, why: "the slot was lost while sluice was not running" }, note: "the slot was lost while sluice was not running" };
      default:
        // recovering, releasing and aborting finish whether or not the slot is still held: each
        // step is idempotent, and releasing a slot already gone is a no-op.
        return { state: s };
    }
  }

  // Stored idle, pending or nothing: the Lease may know better (state.json lost or behind).
  const h = t.held;
  if (!h) {
    if (s) return { state: s };
    return { state: { phase: "idle", since: now }, ...(stored ? { note: `state.json belongs to node ${stored.node}; starting idle` } : {}) };
  }
  const base = { slot: h.name, needSince: needSince(s?.phase === "pending" ? s.needSince : undefined), wasUnschedulable: h.wasUnschedulable ?? true };
  const note = (what: string) => `this node holds ${h.name} (phase ${h.phase ?? "unknown"}) although state.json says ${s?.phase ?? "nothing"}: ${what}`;
  switch (h.phase) {
    case "rebooting":
      if (h.bootId && h.bootId !== t.bootId) return { state: { ...base, phase: "recovering", since: now, bootIdBefore: h.bootId }, note: note("the host has rebooted; recovering") };
      return { state: { ...base, phase: "aborting", since: now, why: "the reboot was not recorded here; giving the slot back" }, note: note("giving the slot back") };
    case "recovering":
      return { state: { ...base, phase: "recovering", since: now, bootIdBefore: h.bootId ?? "" }, note: note("recovering") };
    case "releasing":
      return { state: { phase: "releasing", since: now, slot: h.name, needSince: base.needSince, rebootedAt: now }, note: note("releasing") };
    case "draining":
    case "aborting":
      if (t.needed && h.phase === "draining") return { state: { ...base, phase: "draining", since: now }, note: note("resuming the drain") };
      return { state: { ...base, phase: "aborting", since: now, why: "the drain was not recorded here" }, note: note("giving the slot back") };
    default:
      // Taken ("acquired") but nothing cordoned yet: pending picks the slot up again if it may
      // still go, or gives it back; without a need there is nothing to go for.
      if (t.needed) return { state: { phase: "pending", since: now, needSince: base.needSince, reason: "resumed after a restart" }, note: note("continuing") };
      return { state: { ...base, phase: "aborting", since: now, wasUnschedulable: true, why: "the reboot is no longer needed" }, note: note("giving the slot back") };
  }
}

function pick(s: Extract<AgentState, { slot: string; wasUnschedulable: boolean }>) {
  return { slot: s.slot, needSince: s.needSince, wasUnschedulable: s.wasUnschedulable, ...(s.newVersion !== undefined ? { newVersion: s.newVersion } : {}) };
}
