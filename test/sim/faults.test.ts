/**
 * Fault injection over HTTP: injected 500, 429 (Retry-After) and 409 Status bodies, error rates
 * drawn from the server's `random`, latency and early watch closes on the server's (fake) clock,
 * and the per-verb/resource request counters.
 */
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../agent/ports/fake-clock";
import { SimServer } from "../../agent/sim";

let server: SimServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function start(opts: { clock?: FakeClock; random?: () => number } = {}): Promise<SimServer> {
  server = await new SimServer({ namespaces: ["sluice", "apps"], ...opts }).start();
  server.apply({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "l", namespace: "sluice" }, spec: {} });
  server.apply({ apiVersion: "v1", kind: "Pod", metadata: { name: "web-0", namespace: "apps" }, spec: { nodeName: "n", containers: [{ name: "c", image: "i" }] } });
  return server;
}

function call(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${server!.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${server!.adminToken}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const LEASE = "/apis/coordination.k8s.io/v1/namespaces/sluice/leases/l";
const EVICT = "/api/v1/namespaces/apps/pods/web-0/eviction";
const eviction = { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "web-0" } };

/** Real-time polling until the server has reached a clock sleep (the request is being held). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(cond()).toBe(true);
}

describe("injected errors", () => {
  it("500 answers an InternalError Status for the matching verb and resource only", async () => {
    await start();
    server!.faults.rules = [{ verb: "get", resource: "leases", errorRate: 1, code: 500 }];
    const res = await call("GET", LEASE);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "Internal error occurred: injected fault", reason: "InternalError", code: 500 });
    expect((await call("GET", "/apis/coordination.k8s.io/v1/namespaces/sluice/leases")).status).toBe(200);
    expect((await call("GET", "/api/v1/namespaces/apps/pods/web-0")).status).toBe(200);
  });

  it("429 carries Retry-After and details.retryAfterSeconds", async () => {
    await start();
    server!.faults.rules = [{ verb: "create", resource: "pods/eviction", errorRate: 1, code: 429, retryAfterSeconds: 7 }];
    const res = await call("POST", EVICT, eviction);
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(await res.json()).toMatchObject({ kind: "Status", status: "Failure", reason: "TooManyRequests", code: 429, details: { retryAfterSeconds: 7 } });
    expect(server!.store.get("/pods", "apps/web-0")).toBeDefined();
  });

  it("409 answers a Conflict naming the object, and the write does not happen", async () => {
    await start();
    server!.faults.rules = [{ verb: "patch", resource: "leases", errorRate: 1, code: 409 }];
    const res = await fetch(`${server!.url}${LEASE}`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${server!.adminToken}`, "Content-Type": "application/merge-patch+json" },
      body: JSON.stringify({ spec: { holderIdentity: "x" } }),
    });
    expect(res.status).toBe(409);
    const body = (await res.json()) as { message: string };
    expect(body).toMatchObject({ reason: "Conflict", code: 409, details: { name: "l", kind: "leases" } });
    expect(body.message).toMatch(/^Operation cannot be fulfilled on leases.* "l": the object has been modified/);
    expect(server!.store.get("coordination.k8s.io/leases", "sluice/l")!.spec.holderIdentity).toBeUndefined();
  });

  it("fails a request when the server's random draw is below errorRate", async () => {
    const draws = [0.2, 0.7, 0.4, 0.9, 0.49, 0.5];
    await start({ random: () => draws.shift() ?? 1 });
    server!.faults.rules = [{ resource: "leases", errorRate: 0.5 }];
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await call("GET", LEASE)).status);
    expect(codes).toEqual([500, 200, 500, 200, 500, 200]);
  });
});

describe("latency and early watch closes, on the server's clock", () => {
  it("holds a request for the sum of its matching rules' latency", async () => {
    const clock = new FakeClock();
    await start({ clock });
    server!.faults.rules = [{ verb: "list", latencyMs: 1000 }, { resource: "nodes", latencyMs: 2000 }, { verb: "get", latencyMs: 50_000 }];
    let answered = 0;
    const pending = call("GET", "/api/v1/nodes").then((r) => (answered = r.status));
    await until(() => clock.pending === 1);
    await clock.advance(2999);
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(0);
    await clock.advance(1);
    await pending;
    expect(answered).toBe(200);
  });

  it("closes a matching watch after closeWatchAfterMs, long before its timeout", async () => {
    const clock = new FakeClock();
    await start({ clock });
    server!.faults.rules = [{ verb: "watch", resource: "leases", closeWatchAfterMs: 5000 }];
    const res = await call("GET", "/apis/coordination.k8s.io/v1/namespaces/sluice/leases?watch=true&timeoutSeconds=600");
    expect(res.status).toBe(200);
    const text = res.text();
    await until(() => server!.openWatches === 1 && clock.pending === 2);
    await clock.advance(4999);
    expect(server!.openWatches).toBe(1);
    await clock.advance(1);
    expect(JSON.parse((await text).trim()).type).toBe("ADDED");
    expect(server!.openWatches).toBe(0);
    // A watch the rule does not match keeps streaming.
    const nodes = await call("GET", "/api/v1/nodes?watch=true&timeoutSeconds=600");
    await until(() => server!.openWatches === 1);
    await clock.advance(60_000);
    expect(server!.openWatches).toBe(1);
    await nodes.body?.cancel();
  });
});

describe("request counters", () => {
  it("counts every routed request by verb and resource/subresource, refused or not, until reset", async () => {
    await start();
    server!.faults.rules = [{ verb: "create", resource: "pods/eviction", errorRate: 1, code: 429 }];
    await call("GET", LEASE);
    await call("GET", LEASE);
    await call("GET", "/apis/coordination.k8s.io/v1/namespaces/sluice/leases");
    await call("POST", EVICT, eviction);
    await call("GET", "/api/v1/nodes/missing");
    await call("GET", "/version");
    expect(server!.faults.counters()).toEqual({ "create pods/eviction": 1, "get leases": 2, "get nodes": 1, "list leases": 1 });
    expect(Object.keys(server!.faults.counters())).toEqual(["create pods/eviction", "get leases", "get nodes", "list leases"]);
    server!.faults.resetCounters();
    expect(server!.faults.counters()).toEqual({});
  });
});
