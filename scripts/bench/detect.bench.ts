/**
 * detect.*: how long after the host starts needing a reboot sluice knows it. Sentinel: from the
 * creation of the file (what `touch` does) to the "needed" change; D-Bus: from update_engine's
 * StatusUpdate(UPDATED_NEED_REBOOT) on a private dbus-daemon to the change. 50 trials each, after
 * each the need is withdrawn again. Baseline: kured, which looks once per period (default 1 h).
 */
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nullLogger } from "../../agent/log";
import { systemClock } from "../../agent/ports";
import { createRebootSignals, defaultSignalsOptions, type RebootNeed, type RebootSignals, type SignalsOptions } from "../../agent/signals";
import { FakeUpdateEngine, hasDbusDaemon, NEED_REBOOT, PrivateBus } from "../../test/signals/dbus-harness";
import { type BenchSuite, type Figure, figure, percentiles } from "./types";

const TRIALS = 50;
const KURED_PERIOD_MS = 3_600_000;

function next(signals: RebootSignals, want: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no change to needed=${want} within 5 s`)), 5_000);
    const off = signals.onChange((n: RebootNeed) => {
      if (n.needed !== want) return;
      const at = performance.now();
      clearTimeout(timer);
      off();
      resolve(at);
    });
  });
}

async function withSignals<T>(options: Partial<SignalsOptions>, busAddress: string | undefined, body: (s: RebootSignals) => Promise<T>): Promise<T> {
  const signals = createRebootSignals({ ...defaultSignalsOptions, ...options }, { clock: systemClock, log: nullLogger, busAddress });
  const ac = new AbortController();
  await signals.start(ac.signal);
  try {
    return await body(signals);
  } finally {
    ac.abort();
    await signals.stopped();
  }
}

async function sentinelTrials(): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-bench-"));
  const file = join(dir, "reboot-required");
  try {
    return await withSignals({ rebootSentinel: file, updateEngine: "off" }, undefined, async (signals) => {
      const out: number[] = [];
      for (let i = 0; i < TRIALS; i++) {
        const seen = next(signals, true);
        const t0 = performance.now();
        writeFileSync(file, "");
        out.push((await seen) - t0);
        const gone = next(signals, false);
        unlinkSync(file);
        await gone;
      }
      return out;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function dbusTrials(): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-bench-dbus-"));
  const bus = new PrivateBus(dir);
  await bus.start();
  const engine = await FakeUpdateEngine.start(bus.address);
  try {
    return await withSignals({ rebootSentinel: "", updateEngine: "on" }, bus.address, async (signals) => {
      const out: number[] = [];
      for (let i = 0; i < TRIALS; i++) {
        const seen = next(signals, true);
        const t0 = performance.now();
        engine.emit(NEED_REBOOT, "4081.2.0", 1);
        out.push((await seen) - t0);
        const gone = next(signals, false);
        engine.emit("UPDATE_STATUS_IDLE");
        await gone;
      }
      return out;
    });
  } finally {
    engine.stop();
    await bus.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function figures(name: string, sample: number[]): Figure[] {
  const { p50, p95 } = percentiles(sample);
  return [
    figure(`detect.${name}.p50`, p50, "ms", { baseline: KURED_PERIOD_MS }),
    figure(`detect.${name}.p95`, p95, "ms", { baseline: KURED_PERIOD_MS, maxValue: 5, goal: "p95 < 5 ms" }),
  ];
}

const suite: BenchSuite = {
  prefix: "detect",
  async run(only) {
    const out: Figure[] = [];
    const wants = (n: string) => !only || only === "detect" || only.startsWith(`detect.${n}`) || `detect.${n}`.startsWith(only);
    if (wants("sentinel")) out.push(...figures("sentinel", await sentinelTrials()));
    if (wants("dbus")) {
      if (hasDbusDaemon) out.push(...figures("dbus", await dbusTrials()));
      else process.stderr.write("bench: detect.dbus skipped: dbus-daemon is not installed (apt-get install dbus)\n");
    }
    return out;
  },
};

export default suite;
