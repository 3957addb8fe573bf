import { mkdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../agent/ports";
import { createRebootSignals, defaultSignalsOptions, type RebootSignals } from "../../agent/signals";
import { tempDir } from "../helpers/tmp";
import { captureLogger, needed, notNeeded, waitForNeed } from "./helpers";

/**
 * The file source against the real file system. The clock is fake and never advanced, so the
 * periodic resync never runs: every detection below comes from inotify via chokidar.
 */
describe("sentinel file", () => {
  const running: Array<{ ac: AbortController; signals: RebootSignals }> = [];
  afterEach(async () => {
    for (const r of running.splice(0)) {
      r.ac.abort();
      await r.signals.stopped();
    }
  });

  async function start(path: string) {
    const { log, records } = captureLogger();
    const signals = createRebootSignals({ ...defaultSignalsOptions, rebootSentinel: path, updateEngine: "off" }, { clock: new FakeClock(), log });
    const ac = new AbortController();
    running.push({ ac, signals });
    const first = await signals.start(ac.signal);
    return { signals, first, records };
  }

  it("is needed at once when the file exists at start", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "reboot-required"), "");
    const { first } = await start(join(dir, "reboot-required"));
    expect(first.needed).toBe(true);
    expect(first.reasons).toEqual([expect.objectContaining({ source: "sentinel-file", needed: true, health: "ok" })]);
    expect(first.since).toBeTypeOf("number");
  });

  it("follows create, remove and create again", async () => {
    const dir = tempDir();
    const file = join(dir, "reboot-required");
    const { signals, first, records } = await start(file);
    expect(first.needed).toBe(false);
    for (let i = 0; i < 3; i++) {
      writeFileSync(file, "");
      await waitForNeed(signals, needed);
      unlinkSync(file);
      await waitForNeed(signals, notNeeded);
    }
    expect(records().filter((r) => r.msg === "reboot needed")).toHaveLength(3);
  });

  it("waits for directories that do not exist yet, several levels deep", async () => {
    const dir = tempDir();
    const file = join(dir, "a", "b", "reboot-required");
    const { signals, first } = await start(file);
    expect(first.needed).toBe(false);
    mkdirSync(join(dir, "a"));
    mkdirSync(join(dir, "a", "b"));
    writeFileSync(file, "");
    await waitForNeed(signals, needed);
    expect(signals.status().sources[0]!.facts.watchedDir).toBe(join(dir, "a", "b"));
  });

  it("sees a file created at once with its directory (mkdir -p && touch)", async () => {
    const dir = tempDir();
    const file = join(dir, "x", "y", "reboot-required");
    const { signals } = await start(file);
    mkdirSync(join(dir, "x", "y"), { recursive: true });
    writeFileSync(file, "");
    await waitForNeed(signals, needed);
  });

  it("watches through a symlinked directory (/var/run -> /run)", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "run"));
    symlinkSync(join(dir, "run"), join(dir, "var-run"));
    const { signals } = await start(join(dir, "var-run", "reboot-required"));
    // Flatcar's post-install touches the real path, not the link.
    writeFileSync(join(dir, "run", "reboot-required"), "");
    await waitForNeed(signals, needed);
    unlinkSync(join(dir, "var-run", "reboot-required"));
    await waitForNeed(signals, notNeeded);
    expect(signals.status().sources[0]!.facts.watchedDir).toBe(join(dir, "run"));
  });

  it("follows a dangling symlink to where its target directory will appear", async () => {
    const dir = tempDir();
    symlinkSync(join(dir, "later"), join(dir, "link"));
    const { signals, first } = await start(join(dir, "link", "reboot-required"));
    expect(first.needed).toBe(false);
    mkdirSync(join(dir, "later"));
    writeFileSync(join(dir, "later", "reboot-required"), "");
    await waitForNeed(signals, needed);
  });

  it("survives its directory being removed and created again", async () => {
    const dir = tempDir();
    const sub = join(dir, "run");
    mkdirSync(sub);
    const file = join(sub, "reboot-required");
    writeFileSync(file, "");
    const { signals, first } = await start(file);
    expect(first.needed).toBe(true);
    rmSync(sub, { recursive: true });
    await waitForNeed(signals, notNeeded);
    mkdirSync(sub);
    writeFileSync(file, "");
    await waitForNeed(signals, needed);
  });

  it("counts any kind of entry, as kured's stat does, but not a dangling link", async () => {
    const dir = tempDir();
    const file = join(dir, "reboot-required");
    const { signals } = await start(file);
    symlinkSync(join(dir, "nowhere"), file);
    // The link's creation is an event; it must not count while its target is missing.
    await new Promise((r) => setTimeout(r, 100));
    expect(signals.current().needed).toBe(false);
    unlinkSync(file);
    mkdirSync(file);
    await waitForNeed(signals, needed);
  });

  it("ignores the other entries of a busy directory", async () => {
    const dir = tempDir();
    const { signals, records } = await start(join(dir, "reboot-required"));
    for (let i = 0; i < 20; i++) writeFileSync(join(dir, `other-${i}`), "x");
    await new Promise((r) => setTimeout(r, 100));
    expect(signals.current().needed).toBe(false);
    expect(records().filter((r) => r.msg === "sentinel watch event")).toHaveLength(0);
  });
});
