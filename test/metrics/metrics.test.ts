/**
 * The agent's metrics: what each call does to the exposition, checked by Prometheus's own
 * `promtool check metrics`, and the listener on loopback (a taken port is a clear error).
 */
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type AgentMetrics, FAMILIES, METRICS_LISTEN_FAILED, METRICS_PORT_TAKEN, MAX_LABEL_VALUES, createAgentMetrics, exportedSeriesNames, noMetrics, startMetricsServer } from "../../agent/metrics";
import { FakeClock } from "../../agent/ports";

const base = { node: "worker-1", group: "zone-a", version: "0.1.0" };

/** Sample lines of one series name, without HELP/TYPE. */
function samples(text: string, name: string): string[] {
  return text.split("\n").filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}
function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function promtoolCheck(text: string): { status: number | null; out: string } {
  const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function exercise(m: AgentMetrics): void {
  m.transition("idle", "pending", Date.UTC(2026, 0, 5, 10));
  m.rebootRequired(true, Date.UTC(2026, 0, 5, 9));
  m.lockHeld(true);
  m.blocked({ paused: true, window: false });
  m.inhibited({ annotation: true, "file:backup": true });
  m.window(false, Date.UTC(2026, 0, 6, 2));
  m.queuePosition(2);
  m.rebooted();
  m.drainDuration(42.5);
  m.rollback();
  m.lockLost();
}

describe("exposition", () => {
  it("passes promtool check metrics, fresh and after every call", async () => {
    const m = await createAgentMetrics({ ...base, kuredCompat: true });
    const fresh = await m.text();
    expect(promtoolCheck(fresh)).toEqual({ status: 0, out: "" });
    expect(samples(fresh, "sluice_last_transition_timestamp_seconds")).toEqual([]);
    exercise(m);
    const text = await m.text();
    expect(promtoolCheck(text)).toEqual({ status: 0, out: "" });
    // Every declared family is in the scrape, and nothing undeclared is.
    const names = new Set(text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(/[{ ]/)[0]));
    expect([...names].sort()).toEqual(exportedSeriesNames().sort());
  });

  it("promtool is a real judge: it rejects a counter without _total", () => {
    const bad = "# HELP sluice_reboots A counter.\n# TYPE sluice_reboots counter\nsluice_reboots 1\n";
    expect(promtoolCheck(bad).out).toMatch(/_total/);
  });

  it("sluice_info carries version, node and group", async () => {
    const text = await (await createAgentMetrics(base)).text();
    expect(samples(text, "sluice_info")).toEqual(['sluice_info{version="0.1.0",node="worker-1",group="zone-a"} 1']);
  });
});

describe("state", () => {
  it("is one-hot over the phases, idle at start", async () => {
    const m = await createAgentMetrics(base);
    const hot = async () => samples(await m.text(), "sluice_state").filter((l) => l.endsWith(" 1"));
    expect(await hot()).toEqual(['sluice_state{state="idle"} 1']);
    expect(samples(await m.text(), "sluice_state")).toHaveLength(7);
    m.transition("idle", "pending", 1_767_607_200_000);
    m.transition("pending", "draining", 1_767_607_260_500);
    expect(await hot()).toEqual(['sluice_state{state="draining"} 1']);
    expect(value(await m.text(), "sluice_last_transition_timestamp_seconds")).toBe(1_767_607_260.5);
  });

  it.each([
    ["a phase sluice does not have", "exploded", 5],
    ["an empty phase", "", 5],
  ])("ignores %s (no new label value)", async (_n, phase, at) => {
    const m = await createAgentMetrics(base);
    m.transition("idle", "draining", 1000);
    m.transition("draining", phase, at);
    const text = await m.text();
    expect(samples(text, "sluice_state").filter((l) => l.endsWith(" 1"))).toEqual(['sluice_state{state="draining"} 1']);
    expect(value(text, "sluice_last_transition_timestamp_seconds")).toBe(1);
  });
});

describe("reboot required", () => {
  it("computes the pending age at scrape time from the need's start", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 5, 9));
    const m = await createAgentMetrics({ ...base, clock });
    m.rebootRequired(true, Date.UTC(2026, 0, 5, 8)); // needSince from state.json, an hour ago
    expect(value(await m.text(), "sluice_reboot_pending_seconds")).toBe(3600);
    await clock.advance(90_000);
    expect(value(await m.text(), "sluice_reboot_pending_seconds")).toBe(3690);
    expect(value(await m.text(), "sluice_reboot_required")).toBe(1);
    m.rebootRequired(false);
    expect(value(await m.text(), "sluice_reboot_pending_seconds")).toBe(0);
    expect(value(await m.text(), "sluice_reboot_required")).toBe(0);
  });

  it("without a start time counts from the first report, and a start in the future is 0", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 5, 9));
    const m = await createAgentMetrics({ ...base, clock });
    m.rebootRequired(true);
    await clock.advance(30_000);
    m.rebootRequired(true); // still the same need: the age keeps growing
    await clock.advance(30_000);
    expect(value(await m.text(), "sluice_reboot_pending_seconds")).toBe(60);
    m.rebootRequired(true, clock.now() + 3_600_000); // a skewed clock wrote needSince
    expect(value(await m.text(), "sluice_reboot_pending_seconds")).toBe(0);
  });

  it("exports kured_reboot_required{node} only with kuredCompat", async () => {
    const off = await createAgentMetrics(base);
    expect(await off.text()).not.toContain("kured_");
    const on = await createAgentMetrics({ ...base, kuredCompat: true });
    on.rebootRequired(true);
    expect(samples(await on.text(), "kured_reboot_required")).toEqual(['kured_reboot_required{node="worker-1"} 1']);
  });
});

describe("blocked and inhibited", () => {
  it("report exactly the current set: a reason left out disappears", async () => {
    const m = await createAgentMetrics(base);
    m.blocked({ paused: true, pods: true });
    m.blocked({ pods: false, window: true });
    expect(samples(await m.text(), "sluice_reboot_blocked")).toEqual(['sluice_reboot_blocked{reason="pods"} 0', 'sluice_reboot_blocked{reason="window"} 1']);
    m.inhibited({ annotation: true });
    m.inhibited({});
    expect(samples(await m.text(), "sluice_inhibited")).toEqual([]);
  });

  it("caps hostile label values: a flood of inhibit files, huge names, quotes and newlines", async () => {
    const m = await createAgentMetrics(base);
    const flood = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`file:${i}`, true]));
    m.inhibited(flood);
    expect(samples(await m.text(), "sluice_inhibited")).toHaveLength(MAX_LABEL_VALUES);
    m.inhibited({ ["x".repeat(10_000)]: true, 'a"b\\c\nd': true });
    const text = await m.text();
    const lines = samples(text, "sluice_inhibited");
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.length < 120)).toBe(true);
    expect(promtoolCheck(text).status).toBe(0);
  });
});

describe("window, queue, counters, histogram", () => {
  it("next opening and queue position are absent when there is none", async () => {
    const m = await createAgentMetrics(base);
    let text = await m.text();
    expect(samples(text, "sluice_window_next_open_timestamp_seconds")).toEqual([]);
    expect(samples(text, "sluice_lock_queue_position")).toEqual([]);
    m.window(false, Date.UTC(2026, 0, 6, 2));
    m.queuePosition(0);
    text = await m.text();
    expect(value(text, "sluice_window_next_open_timestamp_seconds")).toBe(Date.UTC(2026, 0, 6, 2) / 1000);
    expect(value(text, "sluice_lock_queue_position")).toBe(0);
    expect(value(text, "sluice_window_open")).toBe(0);
    m.window(true, null);
    m.queuePosition(null);
    text = await m.text();
    expect(samples(text, "sluice_window_next_open_timestamp_seconds")).toEqual([]);
    expect(samples(text, "sluice_lock_queue_position")).toEqual([]);
    expect(value(text, "sluice_window_open")).toBe(1);
    m.queuePosition(Number.NaN);
    m.queuePosition(-3);
    expect(samples(await m.text(), "sluice_lock_queue_position")).toEqual([]);
  });

  it("counts reboots, rollbacks and lost locks; observes drains, ignoring nonsense durations", async () => {
    const m = await createAgentMetrics(base);
    m.rebooted();
    m.rebooted();
    m.rollback();
    m.lockLost();
    m.drainDuration(45);
    m.drainDuration(4000);
    m.drainDuration(Number.NaN);
    m.drainDuration(-1);
    m.drainDuration(Number.POSITIVE_INFINITY);
    const text = await m.text();
    expect(value(text, "sluice_reboots_total")).toBe(2);
    expect(value(text, "sluice_update_rollback_total")).toBe(1);
    expect(value(text, "sluice_lock_lost_total")).toBe(1);
    expect(value(text, "sluice_drain_duration_seconds_count")).toBe(2);
    expect(value(text, "sluice_drain_duration_seconds_sum")).toBe(4045);
    expect(value(text, 'sluice_drain_duration_seconds_bucket{le="60"}')).toBe(1);
    expect(value(text, 'sluice_drain_duration_seconds_bucket{le="7200"}')).toBe(2);
  });

  it("noMetrics accepts every call and renders nothing", async () => {
    exercise(noMetrics);
    expect(await noMetrics.text()).toBe("");
  });
});

describe("the listener", () => {
  it("serves /metrics and nothing else", async () => {
    const m = await createAgentMetrics(base);
    m.rebooted();
    const server = await startMetricsServer(m, "127.0.0.1", 0);
    try {
      const url = `http://127.0.0.1:${server.port}`;
      const res = await fetch(`${url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      expect(value(await res.text(), "sluice_reboots_total")).toBe(1);
      expect((await fetch(`${url}/metrics?x=1`)).status).toBe(200);
      expect((await fetch(`${url}/`)).status).toBe(404);
      expect((await fetch(`${url}/metrics`, { method: "POST", body: "x" })).status).toBe(405);
      const head = await fetch(`${url}/metrics`, { method: "HEAD" });
      expect([head.status, await head.text()]).toEqual([200, ""]);
    } finally {
      await server.close();
    }
  });

  it("a render that throws answers 500 and the listener keeps serving", async () => {
    let fail = true;
    const server = await startMetricsServer({ contentType: "text/plain", text: async () => (fail ? Promise.reject(new Error("boom")) : "ok\n") }, "127.0.0.1", 0);
    try {
      const url = `http://127.0.0.1:${server.port}/metrics`;
      const res = await fetch(url);
      expect([res.status, await res.text()]).toEqual([500, "cannot render metrics: boom\n"]);
      fail = false;
      expect(await (await fetch(url)).text()).toBe("ok\n");
    } finally {
      await server.close();
    }
  });

  it("a port already taken is a SluiceError with a stable code", async () => {
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, "127.0.0.1", r));
    const port = (squatter.address() as { port: number }).port;
    try {
      const err = await startMetricsServer(noMetrics, "127.0.0.1", port).catch((e) => e);
      expect(err.code).toBe(METRICS_PORT_TAKEN);
      expect(err.message).toBe(`cannot serve metrics on 127.0.0.1:${port}: the port is already in use (set metricsPort to a free port, or 0 to switch metrics off)`);
    } finally {
      squatter.close();
    }
  });

  it.each([
    ["an address this host does not have", "192.0.2.7"],
    ["a name that does not resolve", "no-such-host.invalid"],
  ])("%s is a listen failure", async (_n, host) => {
    const err = await startMetricsServer(noMetrics, host, 0).catch((e) => e);
    expect(err.code).toBe(METRICS_LISTEN_FAILED);
    expect(err.message).toContain(`cannot serve metrics on ${host}:0`);
  });
});

describe("footprint", () => {
  it("only metrics.ts loads prom-client: dynamically, file by file, never its index", () => {
    const dir = join(import.meta.dirname, "../../agent/metrics");
    for (const f of readdirSync(dir).filter((n) => !n.endsWith(".d.ts"))) {
      const src = readFileSync(join(dir, f), "utf8");
      // No static import of it at all (an `import type` is erased and costs nothing).
      expect(src, f).not.toMatch(/^import (?!type)[^;]*["']prom-client/m);
      expect(src, f).not.toContain('import("prom-client")');
      if (f !== "metrics.ts") expect(src, f).not.toContain('import("prom-client');
    }
    expect(readFileSync(join(dir, "metrics.ts"), "utf8")).toContain('import("prom-client/lib/registry.js")');
  });

  it("declares each family once, with Prometheus naming", () => {
    const names = FAMILIES.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    for (const f of FAMILIES) {
      expect(f.name).toMatch(/^(sluice|kured)_[a-z0-9_]+$/);
      if (f.type === "counter") expect(f.name).toMatch(/_total$/);
      else expect(f.name).not.toMatch(/_total$/);
    }
  });
});
