/**
 * The Prometheus alert blocker against a real Prometheus (Debian's package), started on
 * loopback with rules that fire (and one that stays pending), so the ALERTS query and kured's
 * filters (alertFilterRegexp, alertFilterMatchOnly, alertFiringOnly) are proven on the real
 * thing rather than on a stand-in's idea of its answers.
 */
import { regexp as regexpSetting } from "../../agent/config/values";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type FetchLike, prometheusAlerts } from "../../agent/gates";

let prom: ChildProcess;
let url: string;
let dir: string;
const realFetch: FetchLike = (u, init) => fetch(u, init);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

beforeAll(async () => {
  // One directory for the whole file (tempDir() would remove it after the first test).
  dir = mkdtempSync(join(tmpdir(), "sluice-prom-"));
  const rules = {
    groups: [
      {
        name: "test",
        interval: "1s",
        rules: [
          { alert: "RebootRequired", expr: "vector(1)", labels: { severity: "info" } },
          { alert: "DiskFull", expr: "vector(1)", labels: { severity: "critical" } },
          { alert: "rebootwindow", expr: "vector(1)" },
          { alert: "SlowBurn", expr: "vector(1)", for: "1h" }, // stays pending for the whole test
          { alert: "NeverFires", expr: "vector(0) > 1" },
        ],
      },
    ],
  };
  writeFileSync(join(dir, "rules.yaml"), stringify(rules));
  writeFileSync(join(dir, "prometheus.yml"), stringify({ global: { evaluation_interval: "1s" }, rule_files: [join(dir, "rules.yaml")] }));
  const port = await freePort();
  url = `http://127.0.0.1:${port}/`;
  prom = spawn("prometheus", [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"], { stdio: "ignore" });
  // Wait for the real server to evaluate the rules: every firing alert and the pending one in ALERTS.
  for (let i = 0; i < 300; i++) {
    try {
      const res = await fetch(`${url}api/v1/query?query=count(ALERTS)`);
      const j = (await res.json()) as { data?: { result?: Array<{ value: [number, string] }> } };
      if (j.data?.result?.[0]?.value[1] === "4") return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("prometheus did not come up with 4 alerts within 30 s");
}, 60_000);

afterAll(async () => {
  if (prom && prom.exitCode === null) {
    const exited = new Promise((r) => prom.once("exit", r));
    prom.kill("SIGTERM");
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("prometheusAlerts against a real Prometheus", () => {
  it.each([
    ["no filter: every active alert, firing or pending", {}, ["DiskFull", "RebootRequired", "SlowBurn", "rebootwindow"]],
    ["alertFiringOnly drops the pending one", { firingOnly: true }, ["DiskFull", "RebootRequired", "rebootwindow"]],
    ["alertFilterRegexp ignores matching names", { regexp: "^Reboot" }, ["DiskFull", "SlowBurn", "rebootwindow"]],
    ["alertFilterMatchOnly: only matching names count", { regexp: "^(Reboot|Disk)", matchOnly: true }, ["DiskFull", "RebootRequired"]],
    ["match-only and firing-only together", { regexp: "Slow|Disk", matchOnly: true, firingOnly: true }, ["DiskFull"]],
  ])("%s", async (_n, filter, names) => {
    const r = await prometheusAlerts(realFetch, url, filter);
    expect(r).toEqual({ gate: "alerts", blocked: true, reasons: [`active Prometheus alerts: ${names.join(", ")}`] });
  });

  it("a filter that ignores every active alert lets the reboot through", async () => {
    const r = await prometheusAlerts(realFetch, url, { regexp: "." });
    expect(r).toEqual({ gate: "alerts", blocked: false, reasons: [] });
  });

  it("a path the server does not have blocks, saying why", async () => {
    const r = await prometheusAlerts(realFetch, `${url}prometheus/`, {});
    expect(r.blocked).toBe(true);
    expect(r.error).toBe(true);
    expect(r.reasons[0]).toMatch(/^cannot evaluate Prometheus alerts at .*: HTTP 404, not a Prometheus API answer/);
  });

  // kured's alertFilterRegexp is a Go (RE2) regexp: (?i) makes it case-insensitive. agent/config
  // parses the key as RE2 and hands the gate the same pattern in JavaScript's syntax.
  it("kured's case-insensitive (?i) filter ignores names in any case (Go regexp semantics)", async () => {
    const r = await prometheusAlerts(realFetch, url, { regexp: regexpSetting("(?i)^reboot") });
    expect(r).toEqual({ gate: "alerts", blocked: true, reasons: ["active Prometheus alerts: DiskFull, SlowBurn"] });
  });
});
