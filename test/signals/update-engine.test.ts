import { spawnSync } from "node:child_process";
import { getEventListeners } from "node:events";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "../../agent/ports";
import { createRebootSignals, defaultSignalsOptions, systemBusAddress, type RebootNeed, type RebootSignals, type UpdateEngineMode } from "../../agent/signals";
import { tempDir } from "../helpers/tmp";
import { FakeUpdateEngine, hasDbusDaemon, NEED_REBOOT, PrivateBus, spoofStatusUpdate } from "./dbus-harness";
import { captureLogger, eventually, needed, notNeeded, waitForNeed } from "./helpers";

const engineReport = (n: RebootNeed) => n.reasons.find((r) => r.source === "update-engine");

/** update_engine over a real dbus-daemon on a private socket; the code is pointed at it as at the system bus. */
describe.skipIf(!hasDbusDaemon)("update_engine over D-Bus", () => {
  let bus: PrivateBus;
  const engines: FakeUpdateEngine[] = [];
  const running: Array<{ ac: AbortController; signals: RebootSignals }> = [];

  beforeEach(async () => {
    bus = new PrivateBus(tempDir("sluice-dbus-"));
    await bus.start();
  });
  afterEach(async () => {
    for (const r of running.splice(0)) {
      r.ac.abort();
      await r.signals.stopped();
    }
    for (const e of engines.splice(0)) e.stop();
    await bus.stop();
  });

  async function engine(initial?: string, version?: string): Promise<FakeUpdateEngine> {
    const e = await FakeUpdateEngine.start(bus.address, initial, version);
    engines.push(e);
    return e;
  }

  async function start(mode: UpdateEngineMode = "auto", address = bus.address) {
    const { log, records } = captureLogger();
    const signals = createRebootSignals(
      { ...defaultSignalsOptions, rebootSentinel: "", updateEngine: mode },
      // DBUS_SYSTEM_BUS_ADDRESS is how cli/ points the code at a bus; the same function is used here.
      { clock: systemClock, log, busAddress: systemBusAddress({ DBUS_SYSTEM_BUS_ADDRESS: address }), dbusRetry: { initialMs: 20, maxMs: 200 } },
    );
    const ac = new AbortController();
    running.push({ ac, signals });
    const first = await signals.start(ac.signal);
    return { signals, first, records };
  }

  it("reads GetStatus at start: UPDATED_NEED_REBOOT is needed, with the staged version", async () => {
    await engine(NEED_REBOOT, "4081.2.0");
    const { first } = await start();
    expect(first).toMatchObject({ needed: true, newVersion: "4081.2.0" });
    expect(engineReport(first)).toMatchObject({ health: "ok", detail: `${NEED_REBOOT} (4081.2.0)` });
  });

  it("follows StatusUpdate through a whole update; int64 fields arrive as BigInt", async () => {
    const e = await engine();
    const { signals, first } = await start();
    expect(first.needed).toBe(false);
    const seen: string[] = [];
    const pending = waitForNeed(signals, needed);
    const timer = setInterval(() => seen.push(String(signals.status().sources[0]!.facts.operation)), 1);
    await e.walkUpdate("4081.2.0");
    const need = await pending;
    clearInterval(timer);
    expect(need).toMatchObject({ needed: true, newVersion: "4081.2.0" });
    expect(seen).toContain("UPDATE_STATUS_DOWNLOADING");
    expect(signals.status().sources[0]!.facts.lastCheckedTime).toBeGreaterThan(1_600_000_000);
  });

  it("ignores and logs a StatusUpdate from another connection (dbus-next)", async () => {
    const e = await engine();
    const { signals, records } = await start();
    const spoofer = await spoofStatusUpdate(bus.address);
    await eventually(() => records().some((r) => r.msg?.toString().startsWith("ignoring a StatusUpdate")), 5000, "the spoof warning");
    expect(signals.current().needed).toBe(false);
    expect(records().find((r) => r.msg?.toString().startsWith("ignoring a StatusUpdate"))).toMatchObject({
      level: "warning",
      sender: spoofer,
      owner: e.uniqueName,
      operation: NEED_REBOOT,
    });
  });

  it.skipIf(spawnSync("dbus-send", ["--help"]).error !== undefined)("ignores and logs a StatusUpdate sent with dbus-send", async () => {
    await engine();
    const { signals, records } = await start();
    const sent = spawnSync("dbus-send", [
      `--bus=${bus.address}`,
      "--type=signal",
      "/com/coreos/update1",
      "com.coreos.update1.Manager.StatusUpdate",
      "int64:0",
      "double:1",
      `string:${NEED_REBOOT}`,
      "string:6666.6.6",
      "int64:0",
    ]);
    expect(sent.status, String(sent.stderr)).toBe(0);
    await eventually(() => records().some((r) => r.msg?.toString().startsWith("ignoring a StatusUpdate")), 5000, "the spoof warning");
    expect(signals.current().needed).toBe(false);
  });

  it("believes the new owner after update_engine restarts, and not the old one", async () => {
    const first = await engine();
    const { signals, records } = await start();
    first.stop();
    await eventually(() => records().some((r) => r.msg === "update_engine left the bus; keeping its last answer until it returns"), 5000, "owner gone");
    const second = await engine(NEED_REBOOT, "4100.0.0");
    const need = await waitForNeed(signals, needed);
    expect(need.newVersion).toBe("4100.0.0");
    expect(signals.status().sources[0]!.facts.owner).toBe(second.uniqueName);
  });

  it("keeps a need while update_engine is away: leaving the bus does not undo an installed update", async () => {
    const e = await engine(NEED_REBOOT, "4081.2.0");
    const { signals, records } = await start();
    e.stop();
    await eventually(() => records().some((r) => String(r.msg).startsWith("update_engine left the bus")), 5000, "owner gone");
    expect(signals.current()).toMatchObject({ needed: true, newVersion: "4081.2.0" });
  });

  it("reconnects and subscribes again when the bus restarts", async () => {
    await engine();
    const { signals, records } = await start();
    for (const e of engines.splice(0)) e.stop();
    await bus.stop();
    await eventually(() => records().some((r) => r.msg === "lost the system bus; reconnecting"), 5000, "the loss");
    await bus.start();
    const e = await engine();
    await eventually(() => signals.status().sources[0]!.facts.owner === e.uniqueName, 5000, "the new owner");
    e.emit(NEED_REBOOT, "4200.0.0");
    expect((await waitForNeed(signals, needed)).newVersion).toBe("4200.0.0");
  });

  it("auto: update_engine absent is said once, not an error, and picked up when it appears", async () => {
    const { signals, first, records } = await start("auto");
    expect(engineReport(first)).toMatchObject({ needed: false, health: "absent" });
    expect(records().filter((r) => String(r.msg).startsWith("update_engine not found"))).toHaveLength(1);
    const e = await engine();
    await eventually(() => signals.status().sources[0]!.facts.owner === e.uniqueName, 5000, "the owner");
    e.emit(NEED_REBOOT, "4081.2.0");
    await waitForNeed(signals, needed);
    expect(records().filter((r) => r.level === "warning")).toHaveLength(0);
  });

  it("auto: no bus at all is said once and not retried loudly", async () => {
    const { signals, first, records } = await start("auto", "unix:path=/nonexistent/bus");
    expect(engineReport(first)).toMatchObject({ needed: false, health: "absent" });
    await new Promise((r) => setTimeout(r, 300)); // several backoff rounds
    expect(records().filter((r) => r.level === "info" && String(r.msg).startsWith("no system bus"))).toHaveLength(1);
    expect(records().filter((r) => r.level === "warning" || r.level === "error")).toHaveLength(0);
    expect(signals.current().needed).toBe(false);
  });

  it("retrying for long leaves no listeners behind on the start signal", async () => {
    const { log } = captureLogger();
    const signals = createRebootSignals(
      { ...defaultSignalsOptions, rebootSentinel: "", updateEngine: "on" },
      { clock: systemClock, log, busAddress: "unix:path=/nonexistent/bus", dbusRetry: { initialMs: 1, maxMs: 2 } },
    );
    const ac = new AbortController();
    running.push({ ac, signals });
    await signals.start(ac.signal);
    await new Promise((r) => setTimeout(r, 300)); // dozens of attempts
    expect(getEventListeners(ac.signal, "abort").length).toBeLessThan(5);
  });

  it("on: no bus is an error in status, retried with backoff until it comes", async () => {
    await bus.stop();
    const { signals, first, records } = await start("on");
    expect(engineReport(first)).toMatchObject({ needed: false, health: "error", errorCode: "signals.dbus-unavailable" });
    expect(signals.status().sources[0]!.facts.nextRetryAt).toBeTypeOf("number");
    expect(records().some((r) => r.level === "warning")).toBe(true);
    await bus.start();
    await engine(NEED_REBOOT, "4081.2.0");
    const need = await waitForNeed(signals, needed);
    expect(engineReport(need)).toMatchObject({ health: "ok" });
  });

  it("on: update_engine absent from a live bus is an error until it appears", async () => {
    const { signals, first } = await start("on");
    expect(engineReport(first)).toMatchObject({ health: "error", errorCode: "signals.update-engine-absent" });
    await engine("UPDATE_STATUS_IDLE");
    await eventually(() => signals.status().sources[0]!.report?.health === "ok", 5000, "healthy");
    expect(signals.current().needed).toBe(false);
  });

  it("stops cleanly: no connection left after stopped()", async () => {
    await engine();
    const { signals } = await start();
    running[0]!.ac.abort();
    await signals.stopped();
    expect(signals.status().sources[0]!.facts.connected).toBe(false);
    await waitForNeed(signals, notNeeded);
  });
});
