import type { CliContext } from "../../agent/cli/context";
import { Logger, type LoggerOptions } from "../../agent/log";
import { Capture } from "./tmp";

/** A CLI context for `main()`: captured stdout and stderr (the log's sink), and the signal that stops a long command. */
export function cliContext(env: Record<string, string | undefined> = {}, o: { log?: Omit<LoggerOptions, "sink">; signal?: AbortSignal } = {}) {
  const stdout = new Capture();
  const stderr = new Capture();
  const controller = new AbortController();
  const ctx: CliContext = { env, stdout, stderr, log: new Logger({ sink: stderr, ...(o.log ?? { journald: true }) }), signal: o.signal ?? controller.signal };
  return { ctx, stdout, stderr, controller };
}
