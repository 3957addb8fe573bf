/**
 * The agent's persisted state, /var/lib/sluice/state.json (DESIGN.md, "The state machine"):
 * JSON with a `version`, written atomically through the Fs port. On start it is a hint to be
 * reconciled against the truth (Lease holder, boot id, node.spec.unschedulable, signals); for
 * `sluice status` it is what this node last knew about itself. A file that cannot be read is
 * reported, never fatal: the truth is elsewhere.
 */
import { join } from "node:path";
import type { DrainOutcome, HeldPod } from "../drain";
import type { Fs } from "../ports";
import { SluiceError } from "../ports";

export const STATE_VERSION = 1;
export const STATE_FILE = "state.json";

export const REBOOT_STATES = ["idle", "pending", "draining", "rebooting", "recovering", "releasing", "aborting"] as const;
export type RebootState = (typeof REBOOT_STATES)[number];

/** What the last drain of this node came to: enough to say who held it. */
export interface DrainReport {
  outcome: DrainOutcome;
  at: number;
  durationMs: number;
  evicted: number;
  held: HeldPod[];
  pdbs: string[];
  summary: string;
  error?: { code: string; message: string };
}

export interface PersistedState {
  version: typeof STATE_VERSION;
  state: RebootState;
  /** Wall-clock ms of the last transition. */
  since: number;
  /** Why the node is in this state, for a person. */
  reason: string;
  needSince?: number;
  /** update_engine's staged version, to compare with os-release after the boot. */
  newVersion?: string;
  /** Boot id when the slot was taken: a different one after the reboot proves the reboot. */
  bootId?: string;
  slot?: string;
  wasUnschedulable?: boolean;
  lastDrain?: DrainReport;
}

/**
 * Checks the shape of a parsed state file. Written by hand rather than with zod: zod puts ~700 KiB
 * into the agent's main bundle, and every bundled byte is idle memory (docs/development).
 * Returns the first problem as "path: what", or undefined.
 */
export function stateProblem(v: unknown): string | undefined {
  const obj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
  const num = (x: unknown) => typeof x === "number" && Number.isFinite(x);
  const str = (x: unknown) => typeof x === "string";
  const opt = (x: unknown, ok: (y: unknown) => boolean) => x === undefined || ok(x);
  if (!obj(v)) return "(top): expected an object";
  if (!REBOOT_STATES.includes(v.state as RebootState)) return `state: expected one of ${REBOOT_STATES.join(", ")}`;
  if (!num(v.since)) return "since: expected a number";
  if (!str(v.reason)) return "reason: expected a string";
  for (const k of ["needSince"]) if (!opt(v[k], num)) return `${k}: expected a number`;
  for (const k of ["newVersion", "bootId", "slot"]) if (!opt(v[k], str)) return `${k}: expected a string`;
  if (!opt(v.wasUnschedulable, (x) => typeof x === "boolean")) return "wasUnschedulable: expected true or false";
  const d = v.lastDrain;
  if (d === undefined) return undefined;
  if (!obj(d)) return "lastDrain: expected an object";
  if (!["drained", "timed-out", "failed"].includes(d.outcome as string)) return "lastDrain.outcome: expected drained, timed-out or failed";
  for (const k of ["at", "durationMs", "evicted"]) if (!num(d[k])) return `lastDrain.${k}: expected a number`;
  if (!str(d.summary)) return "lastDrain.summary: expected a string";
  if (!Array.isArray(d.pdbs) || !d.pdbs.every(str)) return "lastDrain.pdbs: expected a list of strings";
  if (!Array.isArray(d.held)) return "lastDrain.held: expected a list";
  for (const [i, p] of d.held.entries()) {
    const bad = !obj(p) || !str(p.namespace) || !str(p.name) || !["evicting", "terminating"].includes(p.state as string) || !str(p.reason) || !num(p.attempts) || !Array.isArray(p.pdbs);
    if (bad) return `lastDrain.held[${i}]: expected {namespace, name, state, reason, pdbs, attempts}`;
  }
  return undefined;
}

export function initialState(now: number): PersistedState {
  return { version: STATE_VERSION, state: "idle", since: now, reason: "no reboot needed" };
}

export class StateStore {
  readonly path: string;

  constructor(
    private readonly fs: Fs,
    stateDir: string,
  ) {
    this.path = join(stateDir, STATE_FILE);
  }

  /** The stored state; undefined when there is none yet. Throws SluiceError "state-unreadable" for a damaged or foreign file. */
  async load(): Promise<PersistedState | undefined> {
    if (!(await this.fs.exists(this.path))) return undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(await this.fs.readFile(this.path));
    } catch (err) {
      throw new SluiceError("state-unreadable", `${this.path} is not JSON: ${(err as Error).message}`, { cause: err });
    }
    const version = (raw as { version?: unknown } | null)?.version;
    if (version !== STATE_VERSION) throw new SluiceError("state-unreadable", `${this.path} has version ${JSON.stringify(version)}; this sluice reads version ${STATE_VERSION}`);
    const problem = stateProblem(raw);
    if (problem) throw new SluiceError("state-unreadable", `${this.path}: ${problem}`);
    return raw as PersistedState;
  }

  async save(state: PersistedState): Promise<void> {
    const problem = stateProblem(state);
    if (problem) throw new SluiceError("state-invalid", `refusing to write ${this.path}: ${problem}`);
    await this.fs.writeFileAtomic(this.path, `${JSON.stringify(state, null, 2)}\n`, 0o600);
  }
}
