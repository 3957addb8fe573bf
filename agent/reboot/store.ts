/**
 * The agent's persisted state, /var/lib/sluice/state.json: JSON with a `version` and the node it
 * belongs to, written atomically through the Fs port (temp file, fsync, rename). On start it is a
 * hint reconciled against the truth (Lease holder, boot id, the Node); for `sluice status` it is
 * what this node last knew about itself. A file that cannot be used is reported, never fatal.
 */
import { join } from "node:path";
import type { DrainOutcome, HeldPod } from "../drain";
import type { Fs } from "../ports";
import { SluiceError } from "../ports";
import { type AgentState, stateShapeProblem } from "./state";

export const STATE_VERSION = 2;
export const STATE_FILE = "state.json";
/** A state file is a few KiB; anything far larger is not ours and is not read into memory. */
const MAX_STATE_BYTES = 1 << 20;

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
  /** The node this state belongs to: a copied disk image must not make another node resume it. */
  node: string;
  state: AgentState;
  lastDrain?: DrainReport;
}

/** Returns the first problem of a parsed state file as "path: what", or undefined. */
export function stateProblem(v: unknown): string | undefined {
  const obj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
  const num = (x: unknown) => typeof x === "number" && Number.isFinite(x);
  const str = (x: unknown) => typeof x === "string";
  if (!obj(v)) return "(top): expected an object";
  if (typeof v.node !== "string" || v.node === "") return "node: expected a node name";
  const shape = stateShapeProblem(v.state);
  if (shape) return `state.${shape}`;
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

export function initialState(node: string, now: number): PersistedState {
  return { version: STATE_VERSION, node, state: { phase: "idle", since: now } };
}

export class StateStore {
  readonly path: string;

  constructor(
    private readonly fs: Fs,
    stateDir: string,
  ) {
    this.path = join(stateDir, STATE_FILE);
  }

  /**
   * The stored state; undefined when there is none yet. Throws SluiceError "state-unreadable" for
   * anything else that is not a state this sluice wrote: empty, truncated, not a regular file, of
   * another version — the caller reports it and reconciles from the truth.
   */
  async load(): Promise<PersistedState | undefined> {
    const kind = await this.fs.kind(this.path);
    if (kind === "missing") return undefined;
    // A FIFO would block the read forever, a directory cannot be read: neither is a state.
    if (kind !== "file") throw new SluiceError("state-unreadable", `${this.path} is not a regular file`);
    const text = await this.fs.readFile(this.path);
    if (text.length > MAX_STATE_BYTES) throw new SluiceError("state-unreadable", `${this.path} is ${text.length} bytes, far more than a state file`);
    if (text.trim() === "") throw new SluiceError("state-unreadable", `${this.path} is empty`);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new SluiceError("state-unreadable", `${this.path} is not JSON (truncated?): ${(err as Error).message}`, { cause: err });
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
