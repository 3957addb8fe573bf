import { afterEach, describe, expect, it } from "vitest";
import { LinuxHost } from "../../agent/host";
import { FakeClock, SluiceError, type Host, type RunOptions, type RunResult } from "../../agent/ports";
import { createRebootSignals, defaultSignalsOptions, type RebootSignals } from "../../agent/signals";
import { captureLogger } from "./helpers";

type Step = Partial<RunResult> | Error;

/** A Host whose run() answers from a script and records every call. */
class ScriptedHost implements Pick<Host, "run"> {
  calls: Array<{ argv: readonly string[]; options?: RunOptions }> = [];
  constructor(private readonly steps: Step[]) {}
  async run(argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    this.calls.push({ argv, options });
    const step = this.steps[Math.min(this.calls.length - 1, this.steps.length - 1)]!;
    if (step instanceof Error) throw step;
    return { exitCode: 0, signal: null, stdout: "", stderr: "", timedOut: false, ...step };
  }
}

describe("sentinel command", () => {
  const running: Array<{ ac: AbortController; signals: RebootSignals }> = [];
  afterEach(async () => {
    for (const r of running.splice(0)) {
      r.ac.abort();
      await r.signals.stopped();
    }
  });

  async function start(command: string[], host: Pick<Host, "run">, clock = new FakeClock()) {
    const { log, records } = captureLogger();
    const signals = createRebootSignals(
      { ...defaultSignalsOptions, rebootSentinel: "", rebootSentinelCommand: command, periodMs: 60_000, sentinelCommandTimeoutMs: 5_000, updateEngine: "off" },
      { clock, log, host },
    );
    const ac = new AbortController();
    running.push({ ac, signals });
    const first = await signals.start(ac.signal);
    return { signals, first, records, clock };
  }

  it("runs at start with the timeout and the argv, then every period", async () => {
    const host = new ScriptedHost([{ exitCode: 1 }, { exitCode: 1 }, { exitCode: 0 }]);
    const { signals, first, clock } = await start(["sh", "-c", "! needs-restarting --reboothint"], host);
    expect(first.needed).toBe(false);
    expect(host.calls[0]).toMatchObject({ argv: ["sh", "-c", "! needs-restarting --reboothint"], options: { timeoutMs: 5_000 } });
    await clock.advance(59_999);
    expect(host.calls).toHaveLength(1);
    await clock.advance(1);
    expect(host.calls).toHaveLength(2);
    expect(signals.current().needed).toBe(false);
    await clock.advance(60_000);
    expect(host.calls).toHaveLength(3);
    expect(signals.current()).toMatchObject({ needed: true, reasons: [{ source: "sentinel-command", needed: true, detail: expect.stringContaining("exit 0") }] });
    expect(signals.status().sources.map((s) => s.source)).toEqual(["sentinel-command"]);
  });

  it("logs codes other than 0 and 1 as warnings and treats them as not needed", async () => {
    const host = new ScriptedHost([{ exitCode: 3, stderr: "cannot read rpmdb" }]);
    const { first, records } = await start(["check-reboot"], host);
    expect(first.needed).toBe(false);
    const warning = records().find((r) => r.level === "warning");
    expect(warning).toMatchObject({ result: expect.stringContaining("exit 3"), output: "cannot read rpmdb" });
  });

  it("treats a timeout as not needed, with a warning", async () => {
    const host = new ScriptedHost([{ exitCode: null, signal: "SIGKILL", timedOut: true }]);
    const { first, records } = await start(["slow"], host);
    expect(first.needed).toBe(false);
    expect(records().some((r) => r.level === "warning" && String(r.result).includes("timed out"))).toBe(true);
  });

  it("reports a command that cannot start as an error once, keeps running, and recovers", async () => {
    const spawnFailed = new SluiceError("spawn-failed", "spawn /nonexistent ENOENT");
    const host = new ScriptedHost([spawnFailed, spawnFailed, spawnFailed, { exitCode: 0 }]);
    const { signals, first, records, clock } = await start(["/nonexistent"], host);
    expect(first.needed).toBe(false);
    expect(first.reasons[0]).toMatchObject({ health: "error", errorCode: "signals.sentinel-command-spawn-failed" });
    await clock.advance(120_000);
    expect(host.calls).toHaveLength(3);
    // Said once, not every period.
    expect(records().filter((r) => r.level === "error")).toHaveLength(1);
    await clock.advance(60_000);
    expect(signals.current()).toMatchObject({ needed: true, reasons: [{ health: "ok" }] });
  });

  it("runs a real missing command through LinuxHost without crashing", async () => {
    const host = new LinuxHost({ rebootCommand: ["true"], env: process.env });
    const { first } = await start(["/nonexistent/reboot-check"], host);
    expect(first.reasons[0]).toMatchObject({ needed: false, health: "error", errorCode: "signals.sentinel-command-spawn-failed" });
  });

  it("runs a real command through LinuxHost: exit 0 is needed", async () => {
    const host = new LinuxHost({ rebootCommand: ["true"], env: process.env });
    const { first } = await start(["sh", "-c", "exit 0"], host);
    expect(first.needed).toBe(true);
  });

  it.each([
    ["exit 0", true],
    ["exit 1", false],
  ])("a command that leaves a background child is judged by its own exit status (%s)", async (exit, needed) => {
    const host = new LinuxHost({ rebootCommand: ["true"], env: process.env });
    // The child keeps stdout open for 30 s; the timeout (5 s here) must not be what answers.
    const { first } = await start(["sh", "-c", `sleep 30 & echo started; ${exit}`], host);
    expect(first.needed).toBe(needed);
    expect(first.reasons[0]).toMatchObject({ health: "ok", detail: expect.not.stringMatching(/timed out|timeout/) });
  }, 15_000);

  it("refuses to start without a host runner", () => {
    expect(() =>
      createRebootSignals({ ...defaultSignalsOptions, rebootSentinelCommand: ["true"], updateEngine: "off" }, { clock: new FakeClock(), log: captureLogger().log }),
    ).toThrow(expect.objectContaining({ code: "signals.no-host" }));
  });
});

describe("sentinel command output", () => {
  it("masks credential-looking arguments in the reason, the status and the logs", async () => {
    const { log, records } = captureLogger();
    const signals = createRebootSignals(
      { ...defaultSignalsOptions, rebootSentinel: "", rebootSentinelCommand: ["check", "--token", "s3cr3t", "--password=pw1"], periodMs: 60_000, sentinelCommandTimeoutMs: 5_000, updateEngine: "off" },
      { clock: new FakeClock(), log, host: { run: async () => ({ exitCode: 7, signal: null, stdout: "", stderr: "", timedOut: false }) } },
    );
    const ac = new AbortController();
    const first = await signals.start(ac.signal);
    const text = JSON.stringify([first, signals.status(), records()]);
    ac.abort();
    await signals.stopped();
    expect(text).not.toContain("s3cr3t");
    expect(text).not.toContain("pw1");
    expect(text).toContain("--token");
  });
});
