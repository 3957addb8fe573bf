import { describe, expect, it } from "vitest";
import { runDemo } from "../../agent/cli/demo/fleet";
import { parseWindowArg } from "../../agent/cli/demo/window-arg";
import { progressBar, renderView } from "../../agent/cli/demo/view";
import { main } from "../../agent/cli/main";
import { Logger } from "../../agent/log";
import { Capture } from "../helpers/tmp";
import { until } from "../helpers/sim";

const ctxFor = () => {
  const stderr = new Capture();
  return { stderr, ctx: { env: {}, stdout: new Capture(), stderr, log: new Logger({ sink: stderr }), signal: new AbortController().signal } };
};

describe("sluice demo", () => {
  it("runs the real agent on every simulated host; the summary counts what they did", async () => {
    const out = new Capture();
    const summary = await runDemo({ nodes: 4, podsPerNode: 2, concurrency: 2, speed: "max", rebootMs: 60_000, pdb: true, seed: 3, out, signal: new AbortController().signal });
    // Counted from the hosts and the API server's store, not assumed.
    expect(summary.rebooted).toBe(4);
    expect(summary.violations).toEqual([]);
    expect(summary.maxConcurrent).toBe(2);
    expect(summary.evictions).toBeGreaterThanOrEqual(8);
    expect(Object.keys(summary.outOfService).sort()).toEqual(["node-01", "node-02", "node-03", "node-04"]);
    // Each host's reboot took 60 s ± 20% (seeded), and the node was cordoned for at least that.
    for (const ms of Object.values(summary.outOfService)) expect(ms).toBeGreaterThanOrEqual(48_000);
    expect(summary.makespanMs).toBeGreaterThan(0);
    expect(summary.idealMs).toBe(2 * summary.cycleMs);
    for (const node of ["node-01", "node-02", "node-03", "node-04"]) {
      const lines = out.lines.filter((l) => l.startsWith("[") && l.includes(` ${node} `)).map((l) => l.replace(/^\[[\d:]+\] \S+\s+/, "").replace(/ \(down for .*/, ""));
      expect(lines).toEqual([
        "update staged: /run/reboot-required appears",
        "idle → pending",
        "pending → draining",
        "draining → rebooting",
        "host rebooting",
        "rebooting → recovering",
        "recovering → releasing",
        "released its slot: done",
      ]);
    }
    expect(out.text).toMatch(/makespan \d\d:\d\d:\d\d vs ideal \d\d:\d\d:\d\d \(\d\.\d\dx; ideal = ceil\(4\/2\) x median cycle/);
    expect(out.lines.at(-1)).toBe("invariant violations: none");
  }, 60_000);

  it("the same seed gives the same run", async () => {
    const run = async () => {
      const s = await runDemo({ nodes: 3, podsPerNode: 1, concurrency: 1, speed: "max", rebootMs: 30_000, seed: 9, out: new Capture(), signal: new AbortController().signal, startAt: Date.UTC(2026, 0, 5) });
      return [s.makespanMs, s.outOfService];
    };
    expect(await run()).toEqual(await run());
  }, 60_000);

  it("with a window, reboots only inside it and counts the windows used", async () => {
    const out = new Capture();
    // Monday 09:00 UTC; the window is 30 minutes each day at 10:00: with two nodes of ~4 minutes
    // each on one slot, both fit in the first opening.
    const summary = await runDemo({ nodes: 2, podsPerNode: 1, concurrency: 1, speed: "max", rebootMs: 60_000, windows: [parseWindowArg("mon-sun 10:00-10:30")], out, signal: new AbortController().signal, startAt: Date.UTC(2026, 0, 5, 9) });
    expect(summary.rebooted).toBe(2);
    expect(summary.windowsUsed).toBe(1);
    // Nothing was drained before the window opened, an hour in.
    const drains = out.lines.filter((l) => l.includes("pending → draining")).map((l) => l.slice(1, 9));
    expect(drains.length).toBe(2);
    for (const t of drains) expect(t >= "01:00:00").toBe(true);
    expect(out.text).toContain("maintenance windows used: 1");
  }, 60_000);

  it("stopped before every node had its turn, says so and counts no violation for the nodes still waiting", async () => {
    const out = new Capture();
    const stop = new AbortController();
    const run = runDemo({ nodes: 6, podsPerNode: 1, concurrency: 1, speed: "max", rebootMs: 60_000, seed: 4, out, signal: stop.signal, startAt: Date.UTC(2026, 0, 5) });
    await until(() => out.text.includes("released its slot: done"), 60_000, "a first node done");
    stop.abort();
    const summary = await run;
    expect(summary.interrupted).toBe(true);
    expect(summary.rebooted).toBeLessThan(6);
    expect(summary.violations).toEqual([]);
    expect(out.text).toMatch(/^interrupted: \d of 6 nodes rebooted/m);
  }, 90_000);

  it("draws a live view: progress, slots, queue, pods and one mark per node", () => {
    const lines = renderView({
      title: "sluice demo", elapsedMs: 61_000, phases: [["a", "done"], ["b", "draining"], ["c", "pending"]], done: 1, total: 3, etaMs: 120_000,
      holders: [{ slot: "s0", node: "b", phase: "draining", forMs: 5_000 }], queue: ["c"], pods: { running: 5, terminating: 1, starting: 0, evicted: 3 }, window: null, recent: ["[00:01:01] b pending → draining"],
    });
    expect(lines[0]).toBe("sim 00:01:01  sluice demo");
    expect(lines[1]).toMatch(/^\[█+░+\] 1\/3 rebooted  ETA 00:02:00$/);
    expect(lines).toContain("slots:  b draining 00:00:05");
    expect(lines).toContain("queue:  c");
    expect(lines).toContain("pods:   5 running · 1 terminating · 0 starting · 3 evicted so far");
    expect(lines).toContain("        ✓Dp");
    expect(progressBar(1, 4, 8)).toBe("[██░░░░░░]");
  });

  it.each([
    ["Sat 02:00-06:00", { days: [6], startSec: 7200, endSec: 21600, timeZone: "UTC" }],
    ["mon-fri 22:00-04:00 Europe/Berlin", { days: [1, 2, 3, 4, 5], startSec: 79200, endSec: 14400, timeZone: "Europe/Berlin" }],
    ["fri-mon 1am+3h", { days: [0, 1, 5, 6], startSec: 3600, lengthSec: 10800, timeZone: "UTC" }],
    ["sun,wed 3pm-5pm", { days: [0, 3], startSec: 54000, endSec: 61200, timeZone: "UTC" }],
  ])("reads --window %j", (raw, spec) => {
    expect(parseWindowArg(raw)).toEqual(spec);
  });

  it.each(["", "Sat", "Sat 02:00", "Sat 02:00-02:00", "Caturday 02:00-06:00", "Sat 25:00-06:00", "Sat 02:00-06:00 Mars/Base", "Sat 1am+0h", "Sat 02:00-06:00 UTC extra"])("refuses --window %j", (raw) => {
    expect(() => parseWindowArg(raw)).toThrow(/expected DAYS START-END/);
  });

  it("rejects bad options with 64", async () => {
    for (const argv of [["--nodes", "0"], ["--nodes", "2001"], ["--concurrency", "x"], ["--window", "Sat"], ["--speed", "fast"]]) {
      const { ctx, stderr } = ctxFor();
      expect(await main(["demo", ...argv], ctx)).toBe(64);
      expect(stderr.text).toMatch(/expected/);
    }
  });
});
