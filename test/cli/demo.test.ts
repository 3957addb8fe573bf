import { describe, expect, it } from "vitest";
import { runDemo } from "../../agent/cli/demo/fleet";
import { main } from "../../agent/cli/main";
import { Logger } from "../../agent/log";
import { Capture } from "../helpers/tmp";

describe("sluice demo", () => {
  it("rolls a simulated fleet through its reboots, never more at once than there are slots", async () => {
    const out = new Capture();
    const summary = await runDemo({ nodes: 4, podsPerNode: 2, concurrency: 2, speed: 200, rebootMs: 60_000, out, signal: new AbortController().signal });
    expect(summary.rebooted).toBe(4);
    expect(summary.maxConcurrent).toBeGreaterThanOrEqual(1);
    expect(summary.maxConcurrent).toBeLessThanOrEqual(2);
    expect(summary.evictions).toBeGreaterThanOrEqual(8);
    for (const node of ["node-01", "node-02", "node-03", "node-04"]) {
      const lines = out.lines.filter((l) => l.includes(` ${node} `)).map((l) => l.replace(/^\[[\d:]+\] \S+\s+/, "").replace(/ after .*| in .*|: .*/g, ""));
      expect(lines).toEqual(["needs a reboot (update staged)", "took slot sluice-demo-0", "drained", "back, Ready and uncordoned; releasing the slot"].map((l, i) => (i === 1 ? expect.stringMatching(/^took slot sluice-demo-[01]$/) : l)));
    }
    expect(out.lines.at(-1)).toMatch(/^done: 4 of 4 nodes rebooted in \d\d:\d\d:\d\d simulated .*; at most [12] at once \(slots: 2\)/);
  }, 60_000);

  it("rejects bad options with 64", async () => {
    const stderr = new Capture();
    const ctx = { env: {}, stdout: new Capture(), stderr, log: new Logger({ sink: stderr }), signal: new AbortController().signal };
    expect(await main(["demo", "--nodes", "0"], ctx)).toBe(64);
    expect(stderr.text).toContain("expected a whole number from 1 to 200");
  });
});
