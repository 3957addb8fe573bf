import { spawn } from "node:child_process";
import { SluiceError, type RunOptions, type RunResult } from "../ports";

export class HostError extends SluiceError {}

/** Output beyond this is dropped: a chatty command must not grow the agent's memory. */
const MAX_OUTPUT = 64 * 1024;
/** After the timeout, SIGTERM; if it is still there this much later, SIGKILL. */
const KILL_GRACE_MS = 2000;
/** After the command exits, how long output still in its pipes is read. */
const OUTPUT_DRAIN_MS = 200;

/**
 * Runs argv without a shell. Resolves with the exit status whatever it is; rejects only when the
 * command cannot be started at all (missing, not executable), so callers can tell "said no" from
 * "is broken".
 */
export function runCommand(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (argv.length === 0) return reject(new HostError("spawn-failed", "empty command"));
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ["ignore", "pipe", "pipe"],
      env: options.env ? { ...process.env, ...options.env } : process.env,
      signal: options.signal,
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    child.stdout.on("data", (d: Buffer) => {
      if (stdout.length < MAX_OUTPUT) stdout += d.toString("utf8");
    });
    child.stderr.on("data", (d: Buffer) => {
      if (stderr.length < MAX_OUTPUT) stderr += d.toString("utf8");
    });
    const timer =
      options.timeoutMs && options.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            child.kill("SIGTERM");
            killTimer = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
          }, options.timeoutMs)
        : undefined;
    child.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      if (err.name === "AbortError") return reject(err);
      reject(new HostError("spawn-failed", `cannot run ${argv[0]}: ${err.code ?? err.message}`, { cause: err }));
    });
    // The command's own exit decides. A background child it left behind (`sh -c 'daemon &'`)
    // keeps the output pipes open, so "close" may never come: after the exit, wait briefly for
    // the rest of the output, then stop reading.
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      clearTimeout(drainTimer);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ exitCode: code, signal, stdout: stdout.slice(0, MAX_OUTPUT), stderr: stderr.slice(0, MAX_OUTPUT), timedOut });
    };
    let drainTimer: NodeJS.Timeout | undefined;
    child.on("exit", (code, signal) => {
      drainTimer = setTimeout(() => finish(code, signal), OUTPUT_DRAIN_MS);
    });
    child.on("close", (code, signal) => finish(code, signal));
  });
}
