import { type Logger, redactArgv } from "../log";
import type { Clock, Host } from "../ports";
import { errorMessage } from "../ports";
import { interpretSentinelExit } from "./decide";
import type { ReportListener, Source, SourceReport, SourceStatus } from "./types";

export interface SentinelCommandDeps {
  clock: Clock;
  host: Pick<Host, "run">;
  log: Logger;
  onReport: ReportListener;
}

/** Output kept for logs and status: enough to see what a misconfigured command said. */
const OUTPUT_LIMIT = 500;

/**
 * rebootSentinelCommand, run at start and every period with a timeout (kured semantics). A
 * command that cannot start is reported as an error and tried again next period: kured exits,
 * which under systemd becomes a crash loop that reboots nothing and hides the cause.
 */
export class SentinelCommandSource implements Source {
  readonly name = "sentinel-command" as const;
  private report: SourceReport | null = null;
  private running: Promise<void> | null = null;
  private signal: AbortSignal | null = null;
  private lastRunAt: number | null = null;
  private lastOutput = "";

  constructor(
    private readonly argv: readonly string[],
    private readonly periodMs: number,
    private readonly timeoutMs: number,
    private readonly deps: SentinelCommandDeps,
  ) {
    this.shown = redactArgv(argv);
  }

  /** The command as logs, status and `sluice signals` show it: credential-looking arguments masked. */
  private readonly shown: string[];

  async start(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    // No events of its own: the aggregator's resync runs it again every period.
    await this.resync();
  }

  /** Runs the command now unless a run is already in progress (then waits for that one). */
  resync(): Promise<void> {
    if (this.signal?.aborted) return Promise.resolve();
    this.running ??= this.runOnce().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async runOnce(): Promise<void> {
    this.lastRunAt = this.deps.clock.now();
    const started = this.deps.clock.monotonic();
    try {
      const result = await this.deps.host.run(this.argv, { timeoutMs: this.timeoutMs, signal: this.signal ?? undefined });
      if (this.signal?.aborted) return;
      const verdict = interpretSentinelExit(result, this.timeoutMs);
      this.lastOutput = clip(`${result.stdout}${result.stderr ? `\n${result.stderr}` : ""}`);
      const fields = { argv: this.shown, result: verdict.detail, ms: Math.round(this.deps.clock.monotonic() - started), output: this.lastOutput || undefined };
      if (verdict.level === "warning") this.deps.log.warning("reboot sentinel command gave no clear answer; taking it as not needed", fields);
      else this.deps.log.debug("reboot sentinel command ran", fields);
      this.publish({ needed: verdict.needed, health: "ok", detail: `${this.shown.join(" ")}: ${verdict.detail}` });
    } catch (err) {
      if (this.signal?.aborted) return;
      // Host.run rejects only when the command cannot start (missing, not executable, …).
      const code = "signals.sentinel-command-spawn-failed";
      const detail = `${this.shown.join(" ")}: cannot run: ${errorMessage(err)}`;
      // Loud once per distinct failure, then quiet: the status shows it for as long as it lasts.
      if (this.report?.detail !== detail) {
        this.deps.log.error("cannot run the reboot sentinel command; taking it as not needed and trying again next period", { argv: this.shown, code, err });
      }
      this.publish({ needed: false, health: "error", detail, errorCode: code });
    }
  }

  private publish(next: Pick<SourceReport, "needed" | "health" | "detail" | "errorCode">): void {
    const prev = this.report;
    if (prev && prev.needed === next.needed && prev.health === next.health && prev.detail === next.detail) return;
    this.report = {
      source: this.name,
      ...next,
      since: prev && prev.needed === next.needed ? prev.since : this.deps.clock.now(),
    };
    this.deps.onReport(this.report);
  }

  async stopped(): Promise<void> {
    await this.running?.catch(() => {});
  }

  status(): SourceStatus {
    return {
      source: this.name,
      enabled: true,
      report: this.report,
      facts: { argv: this.shown.join(" "), periodMs: this.periodMs, timeoutMs: this.timeoutMs, lastRunAt: this.lastRunAt, lastOutput: this.lastOutput || null },
    };
  }
}

function clip(text: string): string {
  const t = text.trim();
  return t.length > OUTPUT_LIMIT ? `${t.slice(0, OUTPUT_LIMIT)}…` : t;
}
