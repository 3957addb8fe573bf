import { readFile } from "node:fs/promises";
import type { Host, OsRelease, RunOptions, RunResult } from "../ports";
import { parseOsRelease } from "./os-release";
import { HostError, runCommand } from "./run";

export interface HostOptions {
  rebootCommand: readonly string[];
  env: Record<string, string | undefined>;
  /** For tests: where boot_id and os-release are read. */
  bootIdPath?: string;
  osReleasePath?: string;
  /** How long the reboot command may take to accept the request. */
  rebootTimeoutMs?: number;
}

/** The real host: /proc, /etc/os-release, child processes and sd_notify. */
export class LinuxHost implements Host {
  constructor(private readonly opts: HostOptions) {}

  async bootId(): Promise<string> {
    return (await readFile(this.opts.bootIdPath ?? "/proc/sys/kernel/random/boot_id", "utf8")).trim();
  }

  async osRelease(): Promise<OsRelease> {
    const paths = this.opts.osReleasePath ? [this.opts.osReleasePath] : ["/etc/os-release", "/usr/lib/os-release"];
    for (const p of paths) {
      try {
        return parseOsRelease(await readFile(p, "utf8"));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
    }
    throw new HostError("os-release-missing", `none of ${paths.join(", ")} exists`);
  }

  run(argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    return runCommand(argv, options);
  }

  async reboot(): Promise<void> {
    const argv = this.opts.rebootCommand;
    const r = await runCommand(argv, { timeoutMs: this.opts.rebootTimeoutMs ?? 60_000 });
    if (r.exitCode !== 0) {
      const why = r.timedOut ? "timed out" : r.signal ? `killed by ${r.signal}` : `exit code ${r.exitCode}`;
      throw new HostError("reboot-failed", `${argv.join(" ")} failed (${why}): ${r.stderr.trim().slice(0, 500)}`);
    }
  }

  async notifyReady(): Promise<void> {
    await this.notify(["--ready"]);
  }

  async notifyStatus(text: string): Promise<void> {
    await this.notify([`--status=${text}`]);
  }

  /**
   * Node cannot send on a unix datagram socket, so sd_notify goes through systemd-notify; the
   * unit sets NotifyAccess=all because the message comes from that child's PID.
   */
  private async notify(args: string[]): Promise<void> {
    if (!this.opts.env.NOTIFY_SOCKET) return;
    await runCommand(["systemd-notify", ...args], { timeoutMs: 5000 }).catch(() => undefined);
  }
}
