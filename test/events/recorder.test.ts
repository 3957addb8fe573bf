/** KubeEventRecorder against the sim: Event shape, kubectl-style folding of repeats, never throwing. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KubeEventRecorder, correlate, eventName } from "../../agent/events";
import { simKube } from "../helpers/kube";
import { Logger } from "../../agent/log";
import { FakeClock } from "../../agent/ports";
import { SimServer } from "../../agent/sim";
import { Capture } from "../helpers/tmp";

let server: SimServer;
let clock: FakeClock;
let logs: Capture;
let rec: KubeEventRecorder;

beforeEach(async () => {
  clock = new FakeClock();
  server = await new SimServer({ clock }).start();
  server.apply({ apiVersion: "v1", kind: "Node", metadata: { name: "node-a" } });
  logs = new Capture();
  rec = new KubeEventRecorder({ kube: simKube(server), clock, log: new Logger({ sink: logs }) }, { host: "node-a" });
});
afterEach(async () => server.stop());

const events = () => server.store.list("events", "default");

describe("correlate (pure)", () => {
  it.each([
    ["first time", undefined, 0, "create"],
    ["repeat within the window", { name: "n.1", count: 2, firstTimestampMs: 0, lastMono: 0 }, 60_000, "patch"],
    ["repeat after the window", { name: "n.1", count: 2, firstTimestampMs: 0, lastMono: 0 }, 600_001, "create"],
  ])("%s", (_n, prev, now, action) => {
    const d = correlate(prev, now, 600_000);
    expect(d.action).toBe(action);
    if (d.action === "patch") expect(d).toEqual({ action: "patch", name: "n.1", count: 3 });
  });
  it("names events as client-go does: object name and hex nanoseconds", () => {
    expect(eventName("node-a", 1000, 5)).toBe(`node-a.${(1000n * 1_000_000n + 5n).toString(16)}`);
  });
});

describe("KubeEventRecorder", () => {
  it("writes a core/v1 Event about the Node in namespace default, with source sluice", async () => {
    await rec.record({ node: "node-a", type: "Normal", reason: "Cordoned", message: "sluice cordoned node-a" });
    const [ev] = events();
    const uid = server.store.get("/nodes", "node-a")!.metadata.uid;
    expect(ev).toMatchObject({
      involvedObject: { kind: "Node", name: "node-a", uid, apiVersion: "v1" },
      reason: "Cordoned",
      message: "sluice cordoned node-a",
      type: "Normal",
      source: { component: "sluice", host: "node-a" },
      reportingComponent: "sluice",
      reportingInstance: "node-a",
      count: 1,
    });
    expect(ev.metadata.name).toMatch(/^node-a\.[0-9a-f]+$/);
  });

  it("folds a repeat into count and lastTimestamp, as kubectl's recorder does; other messages are new Events", async () => {
    const e = { node: "node-a", type: "Warning" as const, reason: "DrainTimedOut", message: "held by apps/web-pdb" };
    await rec.record(e);
    await clock.advance(30_000);
    await Promise.all([rec.record(e), rec.record(e)]);
    expect(events()).toHaveLength(1);
    expect(events()[0].count).toBe(3);
    expect(Date.parse(events()[0].lastTimestamp)).toBe(clock.now());
    expect(Date.parse(events()[0].firstTimestamp)).toBe(clock.now() - 30_000);
    await rec.record({ ...e, message: "held by apps/db-pdb" });
    expect(events()).toHaveLength(2);
  });

  it("starts a new Event after the window, or when the old one expired on the server", async () => {
    const e = { node: "node-a", type: "Normal" as const, reason: "Draining", message: "m" };
    await rec.record(e);
    await clock.advance(11 * 60_000);
    await rec.record(e);
    expect(events().map((x) => x.count)).toEqual([1, 1]);
    for (const x of events()) server.store.write("events", "DELETED", { ...x, metadata: { ...x.metadata } });
    await rec.record(e);
    expect(events()).toHaveLength(1);
    expect(events()[0].count).toBe(1);
  });

  it("never throws: a failed write is a warning in the log", async () => {
    await server.stop();
    await expect(rec.record({ node: "node-a", type: "Normal", reason: "Cordoned", message: "x" })).resolves.toBeUndefined();
    expect(logs.text).toContain("cannot record a Kubernetes Event");
    server = await new SimServer({ clock }).start();
  });
});

describe("what an Event says", () => {
  it("carries no credential: the log's redaction applies to every Event message", async () => {
    const server = await new SimServer({ clock: new FakeClock() }).start();
    try {
      const rec = new KubeEventRecorder({ kube: simKube(server), clock: server.clock, log: new Logger({ sink: new Capture() }) }, { host: "node-a" });
      await rec.record({ node: "node-a", type: "Warning", reason: "RebootBlocked", message: "cannot evaluate Prometheus alerts at https://ops:hunter2@prom.example/api?token=abc123: HTTP 500" });
      const [e] = server.store.list("events", "default");
      expect(e!.message).not.toMatch(/hunter2|abc123/);
      expect(e!.message).toContain("cannot evaluate Prometheus alerts at https://");
    } finally {
      await server.stop();
    }
  });
});
