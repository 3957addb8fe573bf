/** Everything sluice asks of the machine it runs on. Real implementation: agent/host. */
export interface RunResult {
  /** null when the process was killed by a signal (e.g. on timeout). */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  env?: Record<string, string | undefined>;
}

export interface OsRelease {
  id: string;
  version: string;
  /** Every key of the file, unquoted. */
  fields: Record<string, string>;
}

export interface Host {
  /** /proc/sys/kernel/random/boot_id: changes exactly when the host has rebooted. */
  bootId(): Promise<string>;
  osRelease(): Promise<OsRelease>;
  /** Runs argv without a shell. Rejects (HostError code "spawn-failed") only if it cannot start. */
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Asks the host to reboot now (rebootCommand). Resolves once the request was accepted. */
  reboot(): Promise<void>;
  /** sd_notify READY=1 (no-op outside systemd). */
  notifyReady(): Promise<void>;
  /** sd_notify STATUS=… shown by `systemctl status` (no-op outside systemd). */
  notifyStatus(text: string): Promise<void>;
}
