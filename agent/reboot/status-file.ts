/**
 * What the agent is waiting for, for `sluice status` and systemd's STATUS= line. Written only when
 * it changes (never every period), best effort, beside state.json; it is a view, not a truth:
 * losing it loses nothing.
 */
import { join } from "node:path";
import type { Logger } from "../log";
import { type Fs, type Host, errorMessage } from "../ports";
import type { AgentState } from "./state";

export const STATUS_FILE = "status.json";

export interface AgentStatusFile {
  phase: AgentState["phase"];
  /** Wall ms at which the phase was entered. */
  since: number;
  /** "waiting for the maintenance window: …", "queued for a reboot slot at position 2 of 5", … */
  waiting: string;
  /** Wall ms of this write. */
  at: number;
}

export class StatusWriter {
  private last = "";
  readonly path: string;

  constructor(
    private readonly fs: Fs,
    stateDir: string,
    private readonly host: Pick<Host, "notifyStatus">,
    private readonly log: Logger,
  ) {
    this.path = join(stateDir, STATUS_FILE);
  }

  async write(state: AgentState, waiting: string, now: number): Promise<void> {
    const key = `${state.phase}\u0000${state.since}\u0000${waiting}`;
    if (key === this.last) return;
    this.last = key;
    const body: AgentStatusFile = { phase: state.phase, since: state.since, waiting, at: now };
    try {
      await this.fs.writeFileAtomic(this.path, `${JSON.stringify(body)}\n`, 0o644);
    } catch (err) {
      this.log.debug("cannot write the status file", { error: errorMessage(err) });
    }
    if (waiting) await this.host.notifyStatus(`${state.phase}: ${waiting}`).catch(() => {});
  }
}

/** Reads the status file; undefined when absent or not ours. */
export async function readStatusFile(fs: Fs, stateDir: string): Promise<AgentStatusFile | undefined> {
  const path = join(stateDir, STATUS_FILE);
  if ((await fs.kind(path)) !== "file") return undefined;
  try {
    const v = JSON.parse(await fs.readFile(path)) as AgentStatusFile;
    return typeof v?.phase === "string" && typeof v.waiting === "string" && typeof v.since === "number" ? v : undefined;
  } catch {
    return undefined;
  }
}
