/**
 * Reboot blockers: kured's alert filter (pure), Prometheus over a local node:http server that
 * answers as Prometheus's /api/v1/query does, blocking pods against the sim, and a gate that
 * cannot be evaluated blocking with its reason.
 */
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PromSample, activeAlerts, checkBlockers, parseQueryAnswer, prometheusAlerts, queryUrl } from "../../agent/gates";
import type { HttpKube } from "../../agent/kube";
import { simKube } from "../helpers/kube";
import { nullLogger } from "../../agent/log";
import { SimServer } from "../../agent/sim";

const alert = (alertname: string, alertstate: "firing" | "pending", value = "1"): PromSample => ({
  metric: { __name__: "ALERTS", alertname, alertstate, severity: "warning" },
  value: [1767603600.123, value],
});

describe("activeAlerts: kured's filter", () => {
  const samples = [alert("RebootRequired", "firing"), alert("HighLoad", "pending"), alert("DiskFull", "firing"), alert("DiskFull", "pending"), alert("Zero", "firing", "0")];
  it.each([
    ["no filter: every alert", {}, ["DiskFull", "HighLoad", "RebootRequired"]],
    ["regexp ignores matching names", { regexp: "^Reboot" }, ["DiskFull", "HighLoad"]],
    ["matchOnly: only matching names", { regexp: "^(Reboot|Disk)", matchOnly: true }, ["DiskFull", "RebootRequired"]],
    ["firingOnly drops pending", { firingOnly: true }, ["DiskFull", "RebootRequired"]],
    ["firingOnly + regexp", { regexp: "Disk", firingOnly: true }, ["RebootRequired"]],
    ["matchOnly without regexp considers all", { matchOnly: true }, ["DiskFull", "HighLoad", "RebootRequired"]],
  ])("%s", (_n, f, want) => {
    expect(activeAlerts(samples, f)).toEqual(want);
  });

  it("parses Prometheus's answers and errors", () => {
    expect(parseQueryAnswer(200, JSON.stringify({ status: "success", data: { resultType: "vector", result: [alert("A", "firing")] } }))).toEqual([alert("A", "firing")]);
    expect((parseQueryAnswer(400, JSON.stringify({ status: "error", errorType: "bad_data", error: "parse error" })) as Error).message).toBe("HTTP 400, bad_data: parse error");
    expect((parseQueryAnswer(502, "<html>Bad Gateway</html>") as Error).message).toMatch(/^HTTP 502, not a Prometheus API answer/);
    expect((parseQueryAnswer(200, JSON.stringify({ status: "success", data: { resultType: "matrix", result: [] } })) as Error).message).toContain("matrix");
  });

  it("builds the query URL under a path prefix", () => {
    expect(queryUrl("http://prom:9090")).toBe("http://prom:9090/api/v1/query?query=ALERTS");
    expect(queryUrl("http://prom/prometheus/")).toBe("http://prom/prometheus/api/v1/query?query=ALERTS");
  });
});

describe("Prometheus over HTTP", () => {
  let http: Server;
  let base: string;
  let answer: { status: number; body: unknown } = { status: 200, body: {} };
  const requests: string[] = [];
  const auths: (string | undefined)[] = [];

  beforeAll(async () => {
    http = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      auths.push(req.headers.authorization);
      if (!req.url?.startsWith("/prom/api/v1/query")) {
        res.writeHead(404).end("404 page not found\n");
        return;
      }
      res.writeHead(answer.status, { "Content-Type": "application/json" }).end(JSON.stringify(answer.body));
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}/prom`;
  });
  afterAll(() => new Promise<void>((r) => http.close(() => r())));

  it("blocks on firing alerts, with their names", async () => {
    answer = { status: 200, body: { status: "success", data: { resultType: "vector", result: [alert("NodeDown", "firing"), alert("Slow", "pending")] } } };
    const g = await prometheusAlerts(fetch, base, { firingOnly: true });
    expect(g).toEqual({ gate: "alerts", blocked: true, reasons: ["active Prometheus alerts: NodeDown"] });
    expect(requests.at(-1)).toBe("GET /prom/api/v1/query?query=ALERTS");
  });

  it("sends URL credentials as basic auth, as Go's client (kured) does", async () => {
    answer = { status: 200, body: { status: "success", data: { resultType: "vector", result: [] } } };
    const withUser = base.replace("http://", "http://ops:s%3Acret@");
    expect(await prometheusAlerts(fetch, withUser, {})).toMatchObject({ blocked: false });
    expect(auths.at(-1)).toBe(`Basic ${Buffer.from("ops:s:cret").toString("base64")}`);
  });

  it("does not block without alerts", async () => {
    answer = { status: 200, body: { status: "success", data: { resultType: "vector", result: [] } } };
    expect(await prometheusAlerts(fetch, base, {})).toEqual({ gate: "alerts", blocked: false, reasons: [] });
  });

  it("an error answer or an unreachable Prometheus blocks, and says why", async () => {
    answer = { status: 503, body: { status: "error", errorType: "unavailable", error: "TSDB not ready" } };
    const bad = await prometheusAlerts(fetch, base, {});
    expect(bad).toMatchObject({ blocked: true, error: true });
    expect(bad.reasons[0]).toBe(`cannot evaluate Prometheus alerts at ${base}: HTTP 503, unavailable: TSDB not ready`);
    const down = await prometheusAlerts(fetch, "http://user:secret@127.0.0.1:1/", {}); // port 1: connection refused
    expect(down).toMatchObject({ blocked: true, error: true });
    expect(down.reasons[0]).toMatch(/^cannot reach Prometheus at http:\/\/\*\*\*@127\.0\.0\.1:1\//);
    expect(down.reasons[0]).not.toContain("secret");
  });

  describe("checkBlockers with the sim", () => {
    let sim: SimServer;
    let kube: HttpKube;
    beforeAll(async () => {
      sim = await new SimServer({ namespaces: ["apps"] }).start();
      kube = simKube(sim);
      const mk = (name: string, node: string, labels: Record<string, string>, phase: string) => {
        const p = sim.apply({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "apps", labels }, spec: { nodeName: node, containers: [{ name: "c", image: "x" }] } });
        sim.registry.writeInternal("/pods", { ...p, status: { phase } });
      };
      mk("backup-1", "node-a", { app: "backup" }, "Running");
      mk("backup-old", "node-a", { app: "backup" }, "Succeeded");
      mk("batch-done", "node-a", { app: "batch" }, "Failed");
      mk("backup-b", "node-b", { app: "backup" }, "Running");
    });
    afterAll(() => sim.stop());

    it("pods on this node matching any selector block; finished pods and other nodes' pods do not", async () => {
      answer = { status: 200, body: { status: "success", data: { resultType: "vector", result: [] } } };
      const opts = { node: "node-a", podSelectors: ["app=batch", "app=backup"], prometheusUrl: base, alerts: {} };
      const r = await checkBlockers(opts, { kube, fetch, log: nullLogger });
      expect(r.blocked).toBe(true);
      expect(r.reasons).toEqual(['1 pod(s) matching blockingPodSelector "app=backup" on node-a: apps/backup-1']);
      expect((await checkBlockers({ ...opts, node: "node-c" }, { kube, fetch, log: nullLogger })).blocked).toBe(false);
      expect(await checkBlockers({ ...opts, podSelectors: [], prometheusUrl: "" }, { kube, fetch, log: nullLogger })).toEqual({ blocked: false, reasons: [], gates: [] });
    });

    it("both gates at once; an API that refuses the list blocks with the reason", async () => {
      answer = { status: 200, body: { status: "success", data: { resultType: "vector", result: [alert("KubeNodeNotReady", "firing")] } } };
      const dev = simKube(sim, sim.addUser({ token: "dev", name: "dev" }));
      const r = await checkBlockers({ node: "node-a", podSelectors: ["app=backup"], prometheusUrl: base, alerts: {} }, { kube: dev, fetch, log: nullLogger });
      expect(r.blocked).toBe(true);
      expect(r.gates.map((g) => [g.gate, g.error ?? false])).toEqual([["pods", true], ["alerts", false]]);
      expect(r.reasons[0]).toMatch(/^cannot check blockingPodSelector "app=backup": .*forbidden/);
      expect(r.reasons[1]).toBe("active Prometheus alerts: KubeNodeNotReady");
    });
  });
});
