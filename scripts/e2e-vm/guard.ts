/**
 * Children that must not outlive the test: QEMU and the API server. A test runner that times out
 * kills its worker without running `finally`, so each child runs under a small shell, in a process
 * group of its own, that ends it when this process is gone (checked every second).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";

const GUARD = 'parent=$1; shift; "$@" & child=$!; trap \'kill $child 2>/dev/null\' TERM INT; while kill -0 "$parent" 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 1; done; kill $child 2>/dev/null; wait $child';

export function spawnGuarded(argv: string[]): ChildProcess {
  return spawn("sh", ["-c", GUARD, "guard", String(process.pid), ...argv], { stdio: ["ignore", "pipe", "pipe"], detached: true });
}

/** SIGTERM to the group (the shell passes it on), SIGKILL to the whole group if it lingers. */
export async function stopGuarded(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const done = new Promise((r) => child.once("exit", r));
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, s);
    } catch {}
  };
  signal("SIGTERM");
  if ((await Promise.race([done.then(() => true), sleep(graceMs).then(() => false)])) === false) {
    signal("SIGKILL");
    await done;
  }
}
