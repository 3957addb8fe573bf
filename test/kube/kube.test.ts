/**
 * Every verb of the Kube port, through the sim's kubeconfig and the HTTP client, against the sim server
 * on loopback: results, MicroTime on the wire, error classification, watches and the eviction
 * version fallback.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpKube, KubeError, type V1Lease, formatMicroTime } from "../../agent/kube";
import { SimServer } from "../../agent/sim";
import { simKube } from "../helpers/kube";

let server: SimServer;
let kube: HttpKube;

const lease = (name: string, labels: Record<string, string> = { "sluice.dev/group": "default" }): V1Lease => ({
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  metadata: { name, namespace: "sluice", labels },
  spec: { holderIdentity: "node-a", leaseDurationSeconds: 15, renewTime: new Date(Date.UTC(2026, 0, 5, 9, 0, 0, 123)), leaseTransitions: 0 },
});

async function expectKubeError(p: Promise<unknown>, code: string): Promise<KubeError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KubeError);
  expect((err as KubeError).code).toBe(code);
  return err as KubeError;
}

function pod(name: string, node: string, labels: Record<string, string> = { app: "web" }) {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "apps", labels }, spec: { nodeName: node, containers: [{ name: "app", image: "pause:3.9" }] } };
}

function markReady(name: string) {
  const cur = server.store.get("/pods", `apps/${name}`)!;
  server.registry.writeInternal("/pods", { ...cur, status: { ...cur.status, phase: "Running", conditions: [{ type: "Ready", status: "True" }] } });
}

beforeAll(async () => {
  server = await new SimServer({ namespaces: ["sluice", "apps"] }).start();
  server.apply({ apiVersion: "v1", kind: "Node", metadata: { name: "node-a", labels: { zone: "a" } } });
  server.apply({ apiVersion: "v1", kind: "Node", metadata: { name: "node-b", labels: { zone: "b" } } });
  kube = simKube(server);
});

afterAll(async () => {
  await server.stop();
});

describe("leases", () => {
  it("creates with 6-digit MicroTime, reads it back as a Date, lists by label", async () => {
    const created = await kube.createLease("sluice", lease("sluice-default-0"));
    expect(created.metadata?.resourceVersion).toMatch(/^\d+$/);
    expect(server.store.get("coordination.k8s.io/leases", "sluice/sluice-default-0")!.spec.renewTime).toBe("2026-01-05T09:00:00.123000Z");
    const got = await kube.getLease("sluice", "sluice-default-0");
    expect(got.spec?.renewTime).toBeInstanceOf(Date);
    expect(got.spec?.renewTime?.getTime()).toBe(Date.UTC(2026, 0, 5, 9, 0, 0, 123));
    await kube.createLease("sluice", lease("other", { app: "x" }));
    const list = await kube.listLeases("sluice", "sluice.dev/group=default");
    expect(list.items.map((l) => l.metadata?.name)).toEqual(["sluice-default-0"]);
    expect(Number(list.resourceVersion)).toBeGreaterThan(0);
  });

  it("classifies already-exists, not-found, conflict and invalid", async () => {
    await expectKubeError(kube.createLease("sluice", lease("sluice-default-0")), "already-exists");
    await expectKubeError(kube.getLease("sluice", "missing"), "not-found");
    const cur = await kube.getLease("sluice", "sluice-default-0");
    const next = await kube.replaceLease("sluice", { ...cur, spec: { ...cur.spec, holderIdentity: "node-b", renewTime: new Date() } });
    expect(next.spec?.holderIdentity).toBe("node-b");
    const stale = await expectKubeError(kube.replaceLease("sluice", cur), "conflict");
    expect(stale.reason).toBe("Conflict");
    expect(stale.message).toContain("the object has been modified");
    const noRv = { ...next, metadata: { ...next.metadata, resourceVersion: undefined } };
    const inv = await expectKubeError(kube.replaceLease("sluice", noRv), "invalid");
    expect(inv.details?.causes?.[0]?.field).toBe("metadata.resourceVersion");
  });

  it("deletes, with a resourceVersion precondition", async () => {
    const l = await kube.createLease("sluice", lease("to-delete"));
    await expectKubeError(kube.deleteLease("sluice", "to-delete", "1"), "conflict");
    await kube.deleteLease("sluice", "to-delete", l.metadata?.resourceVersion);
    await expectKubeError(kube.deleteLease("sluice", "to-delete"), "not-found");
  });

  it("watches from a list's resourceVersion with the selector, and reports 410 as gone", async () => {
    const list = await kube.listLeases("sluice", "sluice.dev/group=w");
    const seen: string[] = [];
    const w = await kube.watchLeases("sluice", { resourceVersion: list.resourceVersion, labelSelector: "sluice.dev/group=w", allowBookmarks: true }, (type, l) =>
      seen.push(`${type} ${l.metadata?.name ?? ""}`),
    );
    const created = await kube.createLease("sluice", lease("w-0", { "sluice.dev/group": "w" }));
    await kube.replaceLease("sluice", { ...created, spec: { ...created.spec, holderIdentity: "x" } });
    await kube.deleteLease("sluice", "w-0");
    await waitFor(() => seen.length >= 3);
    expect(seen).toEqual(["ADDED w-0", "MODIFIED w-0", "DELETED w-0"]);
    w.stop();
    await w.done;

    server.restartWatchCache();
    const old = await kube.watchLeases("sluice", { resourceVersion: list.resourceVersion }, () => {});
    const gone = await expectKubeError(old.done, "gone");
    expect(gone.reason).toBe("Expired");
  });
});

describe("nodes", () => {
  it("gets, lists and merge-patches unschedulable, labels, annotations and taints", async () => {
    expect((await kube.getNode("node-a")).metadata?.name).toBe("node-a");
    expect((await kube.listNodes("zone=b")).items.map((n) => n.metadata?.name)).toEqual(["node-b"]);
    let n = await kube.patchNode("node-a", { unschedulable: true, labels: { "sluice.dev/state": "draining" }, annotations: { "sluice.dev/x": "1" } });
    expect(n.spec?.unschedulable).toBe(true);
    expect(n.metadata?.labels).toEqual({ zone: "a", "sluice.dev/state": "draining" });
    n = await kube.patchNode("node-a", { unschedulable: false, labels: { "sluice.dev/state": null }, annotations: { "sluice.dev/x": null } });
    expect(n.spec?.unschedulable).toBeUndefined();
    expect(n.metadata?.labels).toEqual({ zone: "a" });
    expect(n.metadata?.annotations).toBeUndefined();
    const taints = [...(n.spec?.taints ?? []), { key: "sluice.dev/rebooting", effect: "PreferNoSchedule" }];
    n = await kube.patchNode("node-a", { taints, resourceVersion: n.metadata?.resourceVersion });
    expect(n.spec?.taints?.map((t) => t.key)).toContain("sluice.dev/rebooting");
    await expectKubeError(kube.patchNode("node-a", { unschedulable: true, resourceVersion: "2" }), "conflict");
    await expectKubeError(kube.getNode("nope"), "not-found");
  });

  it("watches one node", async () => {
    const seen: string[] = [];
    const w = await kube.watchNode("node-b", {}, (type, node) => seen.push(`${type} ${node.metadata?.name}`));
    await kube.patchNode("node-b", { labels: { touched: "yes" } });
    await kube.patchNode("node-a", { labels: { touched: "yes" } });
    await waitFor(() => seen.length >= 2);
    expect(seen).toEqual(["ADDED node-b", "MODIFIED node-b"]);
    w.stop();
  });
});

describe("pods and evictions", () => {
  beforeAll(() => {
    for (const name of ["web-0", "web-1", "web-2"]) server.apply(pod(name, "node-a"));
    server.apply(pod("b-0", "node-b", { app: "other" }));
    for (const name of ["web-0", "web-1", "web-2", "b-0"]) markReady(name);
    server.apply({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "web", namespace: "apps" },
      spec: { minAvailable: 2, selector: { matchLabels: { app: "web" } } },
    });
  });

  it("lists a node's pods by field selector, optionally by label", async () => {
    expect((await kube.listPodsOnNode("node-a")).items.map((p) => p.metadata?.name)).toEqual(["web-0", "web-1", "web-2"]);
    expect((await kube.listPodsOnNode("node-b", "app=other")).items.map((p) => p.metadata?.name)).toEqual(["b-0"]);
    expect((await kube.getPod("apps", "web-0")).spec?.nodeName).toBe("node-a");
  });

  it("evicts with policy/v1; a PDB without budget answers too-many-requests with its cause", async () => {
    expect(await kube.evictionVersion()).toBe("policy/v1");
    const cur = server.store.get("policy/poddisruptionbudgets", "apps/web")!;
    server.registry.writeInternal("policy/poddisruptionbudgets", { ...cur, status: { observedGeneration: 1, disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 } });
    await kube.evictPod("apps", "web-0");
    expect((await kube.getPod("apps", "web-0")).metadata?.deletionTimestamp).toBeDefined();
    const err = await expectKubeError(kube.evictPod("apps", "web-1"), "too-many-requests");
    expect(err.details?.causes?.[0]?.reason).toBe("DisruptionBudget");
    expect(err.retryAfterMs).toBeUndefined();
    await expectKubeError(kube.evictPod("apps", "missing"), "not-found");
  });

  it("deletes with a grace period", async () => {
    const p = await kube.deletePod("apps", "b-0", 0);
    expect(p.metadata?.deletionGracePeriodSeconds).toBe(0);
    await expectKubeError(kube.getPod("apps", "b-0"), "not-found");
  });

  it("falls back to policy/v1beta1 on a server without policy/v1", async () => {
    const legacy = await new SimServer({ namespaces: ["apps"], legacyPolicy: true }).start();
    try {
      legacy.apply(pod("old-0", "node-a"));
      const k = simKube(legacy);
      expect(await k.evictionVersion()).toBe("policy/v1beta1");
      await k.evictPod("apps", "old-0");
      expect(legacy.faults.counters()["create pods/eviction"]).toBe(1);
    } finally {
      await legacy.stop();
    }
  });
});

describe("events", () => {
  it("creates, patches the count, replaces and lists core events", async () => {
    const node = await kube.getNode("node-a");
    const ev = await kube.createEvent("default", {
      metadata: { name: "node-a.1", namespace: "default" },
      involvedObject: { apiVersion: "v1", kind: "Node", name: "node-a", uid: node.metadata?.uid },
      reason: "Draining",
      message: "sluice is draining node-a",
      type: "Normal",
      source: { component: "sluice" },
      firstTimestamp: new Date(Date.UTC(2026, 0, 5, 9)),
      lastTimestamp: new Date(Date.UTC(2026, 0, 5, 9)),
      count: 1,
    });
    expect(ev.count).toBe(1);
    const patched = await kube.patchEvent("default", "node-a.1", { count: 2, lastTimestamp: new Date(Date.UTC(2026, 0, 5, 9, 1)) });
    expect(patched.count).toBe(2);
    const replaced = await kube.replaceEvent("default", { ...patched, count: 3 });
    expect(replaced.count).toBe(3);
    const list = await kube.listEvents("default", "involvedObject.name=node-a");
    expect(list.items.map((e) => e.metadata?.name)).toEqual(["node-a.1"]);
    await expectKubeError(kube.createEvent("sluice", { ...ev, metadata: { name: "x", namespace: "sluice" } }), "invalid");
  });
});

describe("error classification", () => {
  it("forbidden, unauthorized, 429 with Retry-After, and unavailable", async () => {
    const dev = server.addUser({ token: "dev-token", name: "dev", groups: ["devs"] });
    const forbidden = await expectKubeError(simKube(server, dev).getNode("node-a"), "forbidden");
    expect(forbidden.message).toContain('User "dev" cannot get resource "nodes"');
    await expectKubeError(simKube(server, "nobody").getNode("node-a"), "unauthorized");
    server.faults.rules = [{ verb: "get", resource: "nodes", errorRate: 1, code: 429, retryAfterSeconds: 3 }];
    const busy = await expectKubeError(kube.getNode("node-a"), "too-many-requests");
    expect(busy.retryAfterMs).toBe(3000);
    server.faults.rules = [{ verb: "get", resource: "nodes", errorRate: 1, code: 500 }];
    await expectKubeError(kube.getNode("node-a"), "unavailable");
    server.faults.rules = [];
    const down = await new SimServer().start();
    const k = simKube(down);
    await down.stop();
    await expectKubeError(k.getNode("node-a"), "unavailable");
  });

  it("formats MicroTime with exactly 6 digits", () => {
    expect(formatMicroTime(Date.UTC(2026, 10, 25, 3, 40, 6, 123))).toBe("2026-11-25T03:40:06.123000Z");
  });
});

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}
