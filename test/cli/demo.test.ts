import { describe, expect, it } from "vitest";
import { runDemo } from "../../agent/cli/demo/fleet";
import { main } from "../../agent/cli/main";
import { Logger } from "../../agent/log";
import { Capture } from "../helpers/tmp";

describe("sluice demo", () => {
  it("runs the real agent on every simulated host; the summary counts what they did", async () => {
    const out = new Capture();
    const summary = await runDemo({ nodes: 4, podsPerNode: 2, concurrency: 2, speed: 200, rebootMs: 60_000, out, signal: new AbortController().signal });
    // Counted from the hosts and the API server's store, not assumed.
    expect(summary.rebooted).toBe(4);
    expect(summary.violations).toEqual([]);
    expect(summary.maxConcurrent).toBe(2);
    expect(summary.evictions).toBeGreaterThanOrEqual(8);
    expect(Object.keys(summary.outOfService).sort()).toEqual(["node-01", "node-02", "node-03", "node-04"]);
    for (const ms of Object.values(summary.outOfService)) expect(ms).toBeGreaterThanOrEqual(60_000);
    expect(summary.makespanMs).toBeGreaterThan(0);
    expect(summary.idealMs).toBeGreaterThan(0);
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
    expect(out.lines.at(-1)).toMatch(/^done: 4 of 4 nodes rebooted in \d\d:\d\d:\d\d simulated .*; makespan .* vs ideal .*; at most 2 at once \(slots: 2\); .*invariant violations: none$/);
  }, 60_000);

  it("rejects bad options with 64", async () => {
    const stderr = new Capture();
    const ctx = { env: {}, stdout: new Capture(), stderr, log: new Logger({ sink: stderr }), signal: new AbortController().signal };
    expect(await main(["demo", "--nodes", "0"], ctx)).toBe(64);
    expect(stderr.text).toContain("expected a whole number from 1 to 200");
  });
});
