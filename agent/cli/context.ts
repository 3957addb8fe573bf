import type { Logger } from "../log";

export interface Writable {
  write(chunk: string): unknown;
}

/**
 * What a command may touch of the outside world. main() builds the real one; tests build their
 * own with captured streams and a private environment.
 */
export interface CliContext {
  env: Record<string, string | undefined>;
  stdout: Writable;
  stderr: Writable;
  /** Logger for the command's own messages (journald-aware, stdout). */
  log: Logger;
  /** Aborted on SIGTERM/SIGINT: long-running commands stop cleanly when it fires. */
  signal: AbortSignal;
}
