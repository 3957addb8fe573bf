import { redactText, redactValue } from "./redact";

/** sd-daemon priorities: what `journalctl -p` filters on. */
export const LogLevel = { error: 3, warning: 4, notice: 5, info: 6, debug: 7 } as const;
export type LogLevelName = keyof typeof LogLevel;
export type LogFormat = "text" | "json";
export type Fields = Record<string, unknown>;

export interface LogSink {
  write(line: string): unknown;
}

export interface LoggerOptions {
  format?: LogFormat;
  /** Lines at a higher (less important) priority than this are dropped. */
  level?: LogLevelName;
  /** Set when stdout is connected to journald (JOURNAL_STREAM): adds `<N>` prefixes, no timestamps. */
  journald?: boolean;
  sink?: LogSink;
  now?: () => number;
  fields?: Fields;
}

export class Logger {
  private readonly opts: Required<Omit<LoggerOptions, "fields">>;
  private readonly fields: Fields;

  constructor(options: LoggerOptions = {}) {
    this.opts = {
      format: options.format ?? "text",
      level: options.level ?? "info",
      journald: options.journald ?? false,
      sink: options.sink ?? process.stdout,
      now: options.now ?? Date.now,
    };
    this.fields = options.fields ?? {};
  }

  /** A logger that adds `fields` to every line, e.g. `{ component: "lock" }`. */
  child(fields: Fields): Logger {
    return new Logger({ ...this.opts, fields: { ...this.fields, ...fields } });
  }

  /** Same sink and fields, new format or level (after the configuration is loaded). */
  reconfigure(options: Pick<LoggerOptions, "format" | "level">): Logger {
    return new Logger({ ...this.opts, ...options, fields: this.fields });
  }

  error(msg: string, fields?: Fields): void {
    this.write("error", msg, fields);
  }
  warning(msg: string, fields?: Fields): void {
    this.write("warning", msg, fields);
  }
  notice(msg: string, fields?: Fields): void {
    this.write("notice", msg, fields);
  }
  info(msg: string, fields?: Fields): void {
    this.write("info", msg, fields);
  }
  debug(msg: string, fields?: Fields): void {
    this.write("debug", msg, fields);
  }

  private write(level: LogLevelName, msg: string, fields?: Fields): void {
    if (LogLevel[level] > LogLevel[this.opts.level]) return;
    const all = redactValue({ ...this.fields, ...fields }) as Fields;
    const text = redactText(msg);
    let line: string;
    if (this.opts.format === "json") {
      const record: Fields = { level, msg: text, ...all };
      if (!this.opts.journald) record.time = new Date(this.opts.now()).toISOString();
      line = JSON.stringify(record);
    } else {
      const kv = Object.entries(all)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${formatValue(v)}`)
        .join(" ");
      const body = kv ? `${text} ${kv}` : text;
      line = this.opts.journald ? body : `${new Date(this.opts.now()).toISOString()} ${level.toUpperCase().padEnd(7)} ${body}`;
    }
    // One write per line, newlines inside escaped, so journald keeps one entry per record.
    line = line.replace(/\r?\n/g, "\\n");
    this.opts.sink.write(this.opts.journald ? `<${LogLevel[level]}>${line}\n` : `${line}\n`);
  }
}

function formatValue(v: unknown): string {
  if (typeof v === "string") return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  return JSON.stringify(v);
}

/** The logger for this process: journald prefixes when systemd connected stdout to the journal. */
export function createLogger(env: Record<string, string | undefined>, options: LoggerOptions = {}): Logger {
  return new Logger({ journald: Boolean(env.JOURNAL_STREAM), ...options });
}

/** A logger that writes nowhere: the default for tests that do not inspect logs. */
export const nullLogger = new Logger({ sink: { write: () => true }, level: "error" });
