/**
 * The sentinel's directory replaced under the same path: /run unmounted and mounted again. A
 * watch on the old directory sees nothing any more; the periodic resync notices that the path
 * names another directory (dev:ino) and watches the new one. Real tmpfs mounts: needs root and
 * mount permission, and says so when it has neither.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../agent/ports";
import { createRebootSignals, defaultSignalsOptions, type RebootSignals } from "../../agent/signals";
import { tempDir } from "../helpers/tmp";
import { captureLogger, needed, notNeeded, waitForNeed } from "./helpers";

function canMount(): boolean {
  const probe = join(tempDir(), "probe");
  mkdirSync(probe);
  try {
    execFileSync("mount", ["-t", "tmpfs", "none", probe], { stdio: "ignore" });
    execFileSync("umount", [probe]);
    return true;
  } catch {
    return false;
  }
}

const mounted: string[] = [];
const running: Array<{ ac: AbortController; signals: RebootSignals }> = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    r.ac.abort();
    await r.signals.stopped();
  }
  for (const m of mounted.splice(0).reverse()) execFileSync("umount", [m]);
});

describe("sentinel file on a remounted directory", () => {
  it("watches the new directory after the next resync, and sees changes in it at once", async (t) => {
    if (!canMount()) t.skip("needs permission to mount tmpfs (run as root)");
    const run = join(tempDir(), "run");
    mkdirSync(run);
    execFileSync("mount", ["-t", "tmpfs", "none", run]);
    mounted.push(run);
    const clock = new FakeClock();
    const signals = createRebootSignals({ ...defaultSignalsOptions, rebootSentinel: join(run, "reboot-required"), updateEngine: "off" }, { clock, log: captureLogger().log });
    const ac = new AbortController();
    running.push({ ac, signals });
    await signals.start(ac.signal);
    expect(signals.current().needed).toBe(false);

    execFileSync("umount", [run]);
    mounted.pop();
    // Let the unmount's inotify events be handled before the new file system appears.
    await new Promise((r) => setTimeout(r, 200));
    execFileSync("mount", ["-t", "tmpfs", "none", run]);
    mounted.push(run);
    await new Promise((r) => setTimeout(r, 200));
    writeFileSync(join(run, "reboot-required"), "");
    // The resync is the safety net: it finds the file and moves the watch to the new directory.
    await clock.advance(defaultSignalsOptions.periodMs);
    await waitForNeed(signals, needed, 3000);
    // From then on inotify answers, with the clock standing still.
    rmSync(join(run, "reboot-required"));
    await waitForNeed(signals, notNeeded, 3000);
    writeFileSync(join(run, "reboot-required"), "");
    await waitForNeed(signals, needed, 3000);
  });
});
