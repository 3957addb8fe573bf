/**
 * drainNode against the in-memory API server (loopback HTTP through the real HttpKube), on a
 * fake clock shared with the simulated kubelets and controllers.
 */
import { afterEach, describe, expect, it } from "vitest";
import { cordon, drainNode, summarize, type DrainOptions } from "../../agent/drain";
import { KubeError, type Kube } from "../../agent/kube";
import { type Harness, addPdb, addPod, drive, pod, startSim, statefulSet } from "./harness";
import { simKube } from "../helpers/kube";

let h: Harness;
afterEach(async () => h?.stop());

const opts = (o: Partial<DrainOptions> = {}): DrainOptions => ({ node: "node-a", ...o });

describe("drainNode", () => {
  it("evicts what kubectl would, skips mirror, DaemonSet and finished pods, and waits for long grace periods", async () => {
    h = await startSim();
    addPod(h.server, { name: "web-0", grace: 1 });
    addPod(h.server, { name: "slow-0", grace: 45 });
    addPod(h.server, { name: "bare-0", grace: 0 });
    addPod(h.server, { name: "kube-proxy-a", ns: "kube-system", annotations: { "kubernetes.io/config.mirror": "x" } });
    addPod(h.server, { name: "ds-a", ns: "kube-system", owner: { kind: "DaemonSet", name: "ds" } });
    addPod(h.server, { name: "job-done", phase: "Succeeded" });
    addPod(h.server, { name: "job-failed", phase: "Failed" });
    addPod(h.server, { name: "elsewhere", node: "node-b" });
    await cordon(h.deps, "node-a");
    const r = await drive(h.clock, drainNode(opts(), h.deps));
    expect(r.outcome).toBe("drained");
    expect(r.evicted).toBe(3);
    expect(r.skipped.map((s) => `${s.name}:${s.reason}`).sort()).toEqual(["ds-a:daemonset", "job-done:finished", "job-failed:finished", "kube-proxy-a:mirror"]);
    // The 45 s pod holds the drain for its whole grace period, and not much longer.
    expect(r.durationMs).toBeGreaterThanOrEqual(45_000);
    expect(r.durationMs).toBeLessThan(48_000);
    for (const gone of ["web-0", "slow-0", "bare-0"]) expect(pod(h.server, "apps", gone)).toBeUndefined();
    for (const kept of ["job-done", "job-failed", "elsewhere"]) expect(pod(h.server, "apps", kept)).toBeDefined();
    expect(pod(h.server, "kube-system", "ds-a")?.metadata.deletionTimestamp).toBeUndefined();
    expect(h.server.faults.counters()["create pods/eviction"]).toBe(3);
    // The drain's start and outcome are the agent's transitions' to say (RebootSlotTaken, Rebooting, RebootAborted).
    expect(h.events.reasons()).toEqual(["Cordoned"]);
  });

  it("drainPodSelector evicts only matching pods; drainGracePeriod overrides each pod's own", async () => {
    h = await startSim();
    addPod(h.server, { name: "a", labels: { tier: "web" }, grace: 600 });
    addPod(h.server, { name: "b", labels: { tier: "db" }, grace: 600 });
    const r = await drive(h.clock, drainNode(opts({ podSelector: "tier=web", gracePeriodSeconds: 2 }), h.deps));
    expect(r.outcome).toBe("drained");
    expect(r.durationMs).toBeLessThan(5_000);
    expect(pod(h.server, "apps", "a")).toBeUndefined();
    expect(pod(h.server, "apps", "b")?.metadata.deletionTimestamp).toBeUndefined();
  });

  it("waits while a PDB refuses (429), and finishes once replacements are Ready elsewhere", async () => {
    h = await startSim({ podReadyDelayMs: 20_000 });
    h.cluster!.addWorkload("apps", "web", 3, ["node-a", "node-a", "node-b"]);
    addPdb(h.server, "web-pdb", { app: "web" }, { minAvailable: 2 });
    await cordon(h.deps, "node-a");
    const r = await drive(h.clock, drainNode(opts(), h.deps));
    expect(r.outcome).toBe("drained");
    expect(r.evicted).toBe(2);
    // One pod goes at once; the second waits for the first's replacement to become Ready (20 s).
    expect(r.durationMs).toBeGreaterThan(20_000);
    expect(h.server.faults.counters()["create pods/eviction"]).toBeGreaterThan(2);
    expect(h.server.store.list("/pods", "apps").every((p) => p.spec.nodeName !== "node-a")).toBe(true);
    expect(h.logs.text).toContain("PodDisruptionBudget apps/web-pdb allows no disruption now");
  });

  it("a drain that times out names the pods and the PDBs that held it (result, log, Event)", async () => {
    h = await startSim();
    h.cluster!.addWorkload("apps", "db", 2, ["node-a", "node-b"]);
    addPdb(h.server, "db-pdb", { app: "db" }, { minAvailable: 2 });
    const r = await drive(h.clock, drainNode(opts({ timeoutMs: 60_000 }), h.deps));
    expect(r.outcome).toBe("timed-out");
    expect(r.durationMs).toBe(60_000);
    expect(r.pdbs).toEqual(["apps/db-pdb"]);
    expect(r.held).toHaveLength(1);
    expect(r.held[0]).toMatchObject({ namespace: "apps", state: "evicting", pdbs: ["apps/db-pdb"], errorCode: "too-many-requests" });
    expect(r.held[0].attempts).toBeGreaterThanOrEqual(10);
    const line = summarize(r);
    expect(line).toContain("PDBs holding it: apps/db-pdb");
    expect(line).toContain(r.held[0].name);
    expect(h.logs.text).toMatch(/WARNING drain of node-a timed out after 60.0s with 1 pod\(s\) left. PDBs holding it: apps\/db-pdb/);
  });

  it("a StatefulSet pod replaced under the same name elsewhere counts as gone and is not evicted again", async () => {
    h = await startSim();
    const off = statefulSet(h.server, "db", "node-b");
    addPod(h.server, { name: "db-0", grace: 5, labels: { app: "db" }, owner: { kind: "StatefulSet", name: "db" } });
    const before = pod(h.server, "apps", "db-0")!.metadata.uid;
    await cordon(h.deps, "node-a");
    const r = await drive(h.clock, drainNode(opts(), h.deps));
    off();
    expect(r.outcome).toBe("drained");
    const now = pod(h.server, "apps", "db-0")!;
    expect(now.metadata.uid).not.toBe(before);
    expect(now.spec.nodeName).toBe("node-b");
    expect(now.metadata.deletionTimestamp).toBeUndefined();
    expect(h.server.faults.counters()["create pods/eviction"]).toBe(1);
  });

  it("does not evict the new incarnation of a StatefulSet pod replaced while its eviction was being refused", async () => {
    h = await startSim();
    const off = statefulSet(h.server, "db", "node-b");
    addPod(h.server, { name: "db-0", grace: 5, labels: { app: "db" }, owner: { kind: "StatefulSet", name: "db" } });
    addPdb(h.server, "db-pdb", { app: "db" }, { minAvailable: 1 });
    const drain = drainNode(opts({ timeoutMs: 120_000 }), h.deps);
    // Let the first eviction be refused, then someone deletes the pod; it comes back on node-b.
    await drive(h.clock, new Promise((r) => setTimeout(r, 200)), { stepMs: 10 });
    expect(h.server.faults.counters()["create pods/eviction"]).toBeGreaterThanOrEqual(1);
    h.server.registry.deletePod(pod(h.server, "apps", "db-0")!, 0);
    const r = await drive(h.clock, drain);
    off();
    expect(r.outcome).toBe("drained");
    expect(pod(h.server, "apps", "db-0")!.spec.nodeName).toBe("node-b");
    expect(pod(h.server, "apps", "db-0")!.metadata.deletionTimestamp).toBeUndefined();
  });

  it("keeps retrying an eviction a failing webhook refuses (500), with one Warning Event, until it allows", async () => {
    h = await startSim();
    addPod(h.server, { name: "guarded", grace: 1 });
    h.server.faults.rules = [{ verb: "create", resource: "pods/eviction", errorRate: 1, code: 500 }];
    const drain = drainNode(opts(), h.deps);
    await drive(h.clock, new Promise((r) => setTimeout(r, 300)), { stepMs: 1_000 });
    h.server.faults.rules = [];
    const r = await drive(h.clock, drain);
    expect(r.outcome).toBe("drained");
    const refused = h.events.list.filter((e) => e.reason === "EvictionRefused");
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ type: "Warning" });
    expect(refused[0].message).toContain("apps/guarded refused (unavailable)");
  });

  it("reports a validating webhook's denial (403) as the reason a drain timed out", async () => {
    h = await startSim();
    addPod(h.server, { name: "guarded", grace: 1 });
    addPod(h.server, { name: "free", grace: 1 });
    const denying: Kube = Object.create(h.kube);
    denying.evictPod = async (ns, name, o) => {
      if (name === "guarded") throw new KubeError("forbidden", 'admission webhook "maint.example.com" denied the request: backups running', { status: 403, reason: "Forbidden" });
      return h.kube.evictPod(ns, name, o);
    };
    const r = await drive(h.clock, drainNode(opts({ timeoutMs: 30_000 }), { ...h.deps, kube: denying }));
    expect(r.outcome).toBe("timed-out");
    expect(r.held).toEqual([
      expect.objectContaining({ name: "guarded", state: "evicting", errorCode: "forbidden", pdbs: [], reason: expect.stringContaining("denied the request: backups running") }),
    ]);
    expect(pod(h.server, "apps", "free")).toBeUndefined();
  });

  it("a pod stuck Terminating holds the drain and is reported; skipWaitForDeleteTimeout stops waiting for it", async () => {
    h = await startSim({ kubelets: false }); // no kubelet confirms deletions: every evicted pod stays Terminating
    addPod(h.server, { name: "stuck", grace: 10 });
    const r = await drive(h.clock, drainNode(opts({ timeoutMs: 40_000 }), h.deps));
    expect(r.outcome).toBe("timed-out");
    expect(r.held).toEqual([expect.objectContaining({ name: "stuck", state: "terminating", reason: expect.stringMatching(/^stuck Terminating 3\ds past its grace period/) })]);
    expect(r.pdbs).toEqual([]);

    const again = await drive(h.clock, drainNode(opts({ skipWaitForDeleteTimeoutSeconds: 5, timeoutMs: 600_000 }), h.deps));
    // Deleted more than 5 s ago already: kubectl's skipDeletedFilter does not even evict it again.
    expect(again.outcome).toBe("drained");
    expect(again.skipped).toEqual([{ namespace: "apps", name: "stuck", reason: "deleted-long-ago" }]);
  });

  it("skipWaitForDeleteTimeout: stops waiting N seconds after the deletionTimestamp", async () => {
    h = await startSim({ kubelets: false });
    addPod(h.server, { name: "stuck", grace: 10 });
    const r = await drive(h.clock, drainNode(opts({ skipWaitForDeleteTimeoutSeconds: 5 }), h.deps));
    expect(r.outcome).toBe("drained");
    expect(r.notWaitedFor).toEqual(["apps/stuck"]);
    expect(r.durationMs).toBeGreaterThanOrEqual(15_000);
    expect(r.durationMs).toBeLessThan(17_500);
  });

  it("falls back to policy/v1beta1 on a server without policy/v1", async () => {
    h = await startSim({ legacyPolicy: true });
    addPod(h.server, { name: "old", grace: 1 });
    const r = await drive(h.clock, drainNode(opts(), h.deps));
    expect(r.outcome).toBe("drained");
    expect(pod(h.server, "apps", "old")).toBeUndefined();
  });

  it("drainDelay waits before the first eviction; the caller's abort rejects with its reason", async () => {
    h = await startSim();
    addPod(h.server, { name: "p", grace: 1 });
    const ac = new AbortController();
    const drain = drainNode(opts({ delayMs: 30_000 }), h.deps, ac.signal);
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 10));
      await h.clock.advance(5_000);
    }
    expect(h.server.faults.counters()["create pods/eviction"]).toBeUndefined();
    ac.abort(new Error("stopping"));
    await expect(drain).rejects.toThrow("stopping");
  });

  it("an abort that comes while an eviction is on its way ends the drain (SIGTERM must not hang)", async () => {
    h = await startSim();
    addPod(h.server, { name: "p", grace: 1 });
    const ac = new AbortController();
    const kube = h.deps.kube;
    // The abort lands between the request and its answer: the pod is then "terminating".
    const racing = new Proxy(kube, {
      get: (t, k, r) => (k === "evictPod" ? async (...a: Parameters<typeof kube.evictPod>) => { const out = await kube.evictPod(...a); ac.abort(new Error("SIGTERM")); return out; } : Reflect.get(t, k, r)),
    });
    const drain = drainNode(opts(), { ...h.deps, kube: racing }, ac.signal);
    await expect(drive(h.clock, drain, { maxMs: 600_000 })).rejects.toThrow("SIGTERM");
  });

  it("a drain that cannot list pods for lack of rights fails at once with the reason", async () => {
    h = await startSim();
    const dev = h.server.addUser({ token: "dev", name: "dev", groups: ["devs"] });
    const r = await drive(h.clock, drainNode(opts(), { ...h.deps, kube: simKube(h.server, dev) }));
    expect(r.outcome).toBe("failed");
    expect(r.error?.code).toBe("forbidden");
    expect(r.outcome).toBe("failed");
  });
});
