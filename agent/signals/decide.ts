/**
 * Every decision of the signals module, as pure functions of what was observed: table-tested in
 * test/signals/decide.test.ts. The sources only observe and call these.
 */
import type { RunResult } from "../ports";
import { SluiceError } from "../ports";
import type { RebootNeed, SignalsOptions, SourceName, SourceReport, UpdateEngineMode } from "./types";

export const SOURCE_ORDER: readonly SourceName[] = ["sentinel-file", "sentinel-command", "update-engine"];

/**
 * Which sources run. Unlike kured, where a sentinel command replaces the file check, every
 * configured source counts (agent/config documents it so): on Flatcar the file appears only when
 * an update was installed, which is a reason to reboot whatever the command says.
 */
export function enabledSources(options: Pick<SignalsOptions, "rebootSentinel" | "rebootSentinelCommand" | "updateEngine">): SourceName[] {
  const command = options.rebootSentinelCommand?.length ? options.rebootSentinelCommand : null;
  const out: SourceName[] = [];
  if (options.rebootSentinel !== "") out.push("sentinel-file");
  if (command) out.push("sentinel-command");
  if (options.updateEngine !== "off") out.push("update-engine");
  return out;
}

export interface CommandVerdict {
  needed: boolean;
  /** How loudly to say it: kured logs exit codes other than 0 and 1 as warnings. */
  level: "info" | "warning";
  detail: string;
}

/** kured semantics: exit 0 means needed; any other outcome means not needed. */
export function interpretSentinelExit(result: Pick<RunResult, "exitCode" | "signal" | "timedOut">, timeoutMs: number): CommandVerdict {
  if (result.timedOut) return { needed: false, level: "warning", detail: `timed out after ${timeoutMs} ms` };
  if (result.exitCode === 0) return { needed: true, level: "info", detail: "exit 0" };
  if (result.exitCode === 1) return { needed: false, level: "info", detail: "exit 1" };
  if (result.exitCode === null) return { needed: false, level: "warning", detail: `killed by ${result.signal ?? "a signal"}` };
  return { needed: false, level: "warning", detail: `exit ${result.exitCode} (only 0 means needed, 1 means not needed)` };
}

/** update_engine's operations (coreos/update_engine update_attempter.h), in the order of an update. */
export const UpdateStatus = {
  idle: "UPDATE_STATUS_IDLE",
  checking: "UPDATE_STATUS_CHECKING_FOR_UPDATE",
  available: "UPDATE_STATUS_UPDATE_AVAILABLE",
  downloading: "UPDATE_STATUS_DOWNLOADING",
  verifying: "UPDATE_STATUS_VERIFYING",
  finalizing: "UPDATE_STATUS_FINALIZING",
  needReboot: "UPDATE_STATUS_UPDATED_NEED_REBOOT",
  reportingError: "UPDATE_STATUS_REPORTING_ERROR_EVENT",
} as const;

/** The body of GetStatus and StatusUpdate: (x last_checked_time, d progress, s current_operation, s new_version, x new_size). */
export interface EngineStatus {
  lastCheckedTime: bigint;
  progress: number;
  currentOperation: string;
  newVersion: string;
  newSize: bigint;
}

export const STATUS_SIGNATURE = "xdssx";

/** Reads a message body; null when it is not the documented shape (then it is ignored and logged). */
export function parseEngineStatus(signature: string | undefined, body: readonly unknown[]): EngineStatus | null {
  if (signature !== STATUS_SIGNATURE || body.length !== 5) return null;
  const [checked, progress, op, version, size] = body;
  if (typeof checked !== "bigint" || typeof progress !== "number" || typeof op !== "string" || typeof version !== "string" || typeof size !== "bigint") {
    return null;
  }
  return { lastCheckedTime: checked, progress, currentOperation: op, newVersion: version, newSize: size };
}

export function engineNeedsReboot(status: EngineStatus): boolean {
  return status.currentOperation === UpdateStatus.needReboot;
}

export type SignalVerdict = "accept" | "spoofed" | "owner-unknown";

/**
 * dbus-daemon stamps every message with the sender's unique name, so comparing it with the
 * current owner of com.coreos.update1 tells update_engine from any root process emitting a
 * look-alike StatusUpdate (busctl emit, dbus-send).
 */
export function judgeStatusSignal(sender: string | undefined, owner: string | null | undefined): SignalVerdict {
  // undefined: GetNameOwner has not answered yet on this connection; null: nobody owns the name.
  if (owner === undefined) return "owner-unknown";
  return owner !== null && sender === owner ? "accept" : "spoofed";
}

export type EngineAbsence = { log: "info-once" | "warning"; health: "absent" | "error" };

/** What "update_engine is not there" means in each mode: `auto` shrugs once, `on` keeps complaining. */
export function engineAbsence(mode: Exclude<UpdateEngineMode, "off">): EngineAbsence {
  return mode === "auto" ? { log: "info-once", health: "absent" } : { log: "warning", health: "error" };
}

/** Reconnect delays: exponential from `initialMs`, capped at `maxMs`, with up to 20% noise so a fleet does not retry in step. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt));
  return Math.round(base * (0.8 + 0.2 * random()));
}

/**
 * One need for the host: needed when any source says so. `since` is kept from the previous need
 * while the host stays needy, so the fair queue can rank nodes by how long they have waited.
 */
export function combineNeed(reports: readonly SourceReport[], previous: RebootNeed | null, now: number): RebootNeed {
  const reasons = [...reports].sort((a, b) => SOURCE_ORDER.indexOf(a.source) - SOURCE_ORDER.indexOf(b.source));
  const needed = reasons.some((r) => r.needed);
  const need: RebootNeed = { needed, reasons };
  const engine = reasons.find((r) => r.source === "update-engine" && r.needed && r.newVersion);
  if (engine?.newVersion) need.newVersion = engine.newVersion;
  if (needed) {
    const earliest = Math.min(...reasons.filter((r) => r.needed).map((r) => r.since));
    need.since = previous?.needed && previous.since !== undefined ? previous.since : Math.min(earliest, now);
  }
  return need;
}

/** Whether a new need is worth telling the state machine: the answer, a source's answer or the staged version changed. */
export function needChanged(previous: RebootNeed | null, next: RebootNeed): boolean {
  if (!previous) return true;
  if (previous.needed !== next.needed || previous.newVersion !== next.newVersion) return true;
  const key = (n: RebootNeed) =>
    n.reasons
      .filter((r) => r.needed)
      .map((r) => r.source)
      .join(",");
  return key(previous) !== key(next);
}

export interface LogBudget {
  /** Monotonic ms of the last line logged (-Infinity: never). */
  lastAt: number;
  /** Occurrences not logged since then. */
  suppressed: number;
}

/**
 * At most one warning per `intervalMs` for a thing anyone may cause at will (a spoofed D-Bus
 * signal: any root process can send one in a loop); the next logged line says how many were
 * left out, so nothing is hidden, only summarised.
 */
export function spendLogBudget(b: LogBudget, now: number, intervalMs: number): { log: boolean; suppressed: number; next: LogBudget } {
  if (now - b.lastAt >= intervalMs) return { log: true, suppressed: b.suppressed, next: { lastAt: now, suppressed: 0 } };
  return { log: false, suppressed: 0, next: { lastAt: b.lastAt, suppressed: b.suppressed + 1 } };
}
