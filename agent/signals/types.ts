/** The three places a reboot need can come from (DESIGN.md, "Reboot-needed signals"). */
export type SourceName = "sentinel-file" | "sentinel-command" | "update-engine";

/**
 * How much a source's answer can be trusted right now:
 * - ok: it looked and answered;
 * - absent: the thing it watches is not on this host (update_engine on a non-Flatcar host);
 * - error: it could not look (command failed to start, bus unreachable); `needed` is false then,
 *   as in kured, so a broken source never causes a reboot loop;
 * - starting: no answer yet.
 */
export type SourceHealth = "ok" | "absent" | "error" | "starting";

/** One source's current answer. */
export interface SourceReport {
  source: SourceName;
  needed: boolean;
  health: SourceHealth;
  /** One line for people: why this answer, e.g. "/run/reboot-required exists". */
  detail: string;
  /** Wall-clock ms at which `needed` last changed for this source (or it first answered). */
  since: number;
  /** update_engine only: the version staged for the next boot, while it says a reboot is needed. */
  newVersion?: string;
  /** Stable SluiceError code when health is "error". */
  errorCode?: string;
}

/** What the state machine consumes: one answer for the host, with every source's reason. */
export interface RebootNeed {
  needed: boolean;
  /** Every enabled source's report, in a fixed order. */
  reasons: SourceReport[];
  /** From update_engine: compare with /etc/os-release VERSION after the boot. */
  newVersion?: string;
  /** Wall-clock ms at which the host started needing a reboot; only while `needed`. */
  since?: number;
}

export type UpdateEngineMode = "on" | "off" | "auto";

/** The part of the configuration this module reads; agent/config supplies it. */
export interface SignalsOptions {
  /** Path whose existence means "reboot needed". Empty string disables the file source. */
  rebootSentinel: string;
  /** kured semantics: a string is split on spaces. null or empty: no command. */
  /** argv, already split by agent/config (kured's shell-word rules); null or [] for none. */
  rebootSentinelCommand: readonly string[] | null;
  /** How often the command runs and every source is looked at again (resync). */
  periodMs: number;
  sentinelCommandTimeoutMs: number;
  updateEngine: UpdateEngineMode;
}

export const defaultSignalsOptions: SignalsOptions = {
  rebootSentinel: "/var/run/reboot-required",
  rebootSentinelCommand: null,
  periodMs: 60_000,
  sentinelCommandTimeoutMs: 30_000,
  updateEngine: "auto",
};

/** For `sluice status`: the combined need plus how each source is doing. */
export interface SignalsStatus {
  need: RebootNeed;
  sources: SourceStatus[];
}

export interface SourceStatus {
  source: SourceName;
  enabled: boolean;
  report: SourceReport | null;
  /** Extra facts for people, e.g. the watched directory or the D-Bus owner. */
  facts: Record<string, string | number | boolean | null>;
}

/** What every source implements; the aggregator in signals.ts drives them. */
export interface Source {
  readonly name: SourceName;
  /** Resolves after the first answer (or first failed attempt); keeps running until `signal` aborts. */
  start(signal: AbortSignal): Promise<void>;
  /** Looks again now (the periodic resync); never rejects. */
  resync(): Promise<void>;
  /** Resolves once every watcher, timer and connection is released. */
  stopped(): Promise<void>;
  status(): SourceStatus;
}

export type ReportListener = (report: SourceReport) => void;
