/** The drain's pure decisions, table by table. */
import { describe, expect, it } from "vitest";
import {
  backoffMs, beforeRebootAnnotations, afterRebootAnnotations, evictionOutcome, labelsPatch, pdbsFromError, planPod, podGone, pollDelayMs,
  shouldReboot, summarize, terminatingReason, waitDecision, withPreferNoSchedule, type DrainResult,
} from "../../agent/drain";
import { KubeError, type V1Pod } from "../../agent/kube";

const NOW = Date.UTC(2026, 0, 5, 9, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

function pod(extra: { phase?: string; annotations?: Record<string, string>; owner?: { kind: string; controller?: boolean }; deletedAt?: number; uid?: string; finalizers?: string[] } = {}): V1Pod {
  return {
    metadata: {
      name: "p",
      namespace: "ns",
      uid: extra.uid ?? "u1",
      annotations: extra.annotations,
      ownerReferences: extra.owner ? [{ apiVersion: "apps/v1", kind: extra.owner.kind, name: "o", uid: "o1", controller: extra.owner.controller }] : undefined,
      deletionTimestamp: extra.deletedAt !== undefined ? (iso(extra.deletedAt) as unknown as Date) : undefined,
      finalizers: extra.finalizers,
    },
    status: { phase: extra.phase ?? "Running" },
  };
}

const pdb429 = (msg = "The disruption budget web-pdb needs 2 healthy pods and has 2 currently", retryAfterMs?: number) =>
  new KubeError("too-many-requests", "Cannot evict pod as it would violate the pod's disruption budget.", {
    status: 429,
    reason: "TooManyRequests",
    details: { causes: [{ reason: "DisruptionBudget", message: msg }] },
    retryAfterMs,
  });

describe("planPod: what kubectl drain (kured's flags) evicts", () => {
  it.each([
    ["a plain running pod", pod(), { evict: true }],
    ["a pending pod", pod({ phase: "Pending" }), { evict: true }],
    ["a mirror (static) pod", pod({ annotations: { "kubernetes.io/config.mirror": "abc" } }), { evict: false, reason: "mirror" }],
    ["a DaemonSet pod", pod({ owner: { kind: "DaemonSet", controller: true } }), { evict: false, reason: "daemonset" }],
    ["a pod merely referencing a DaemonSet, not controlled", pod({ owner: { kind: "DaemonSet" } }), { evict: true }],
    ["a ReplicaSet pod", pod({ owner: { kind: "ReplicaSet", controller: true } }), { evict: true }],
    ["a Succeeded pod", pod({ phase: "Succeeded" }), { evict: false, reason: "finished" }],
    ["a Failed pod", pod({ phase: "Failed" }), { evict: false, reason: "finished" }],
    ["a pod deleted 10 s ago, skipWait 5", pod({ deletedAt: NOW - 10_000 }), { evict: false, reason: "deleted-long-ago" }, 5],
    ["a pod deleted 3 s ago, skipWait 5", pod({ deletedAt: NOW - 3_000 }), { evict: true }, 5],
    ["a pod deleted long ago, skipWait 0 (always wait)", pod({ deletedAt: NOW - 3_600_000 }), { evict: true }, 0],
  ])("%s", (_name, p, want, skip = 0) => {
    expect(planPod(p, NOW, skip as number)).toEqual(want);
  });
});

describe("evictionOutcome: what an eviction's answer means", () => {
  it.each([
    ["success", undefined, 1, { kind: "accepted" }],
    ["404: gone already", new KubeError("not-found", 'pods "p" not found', { status: 404 }), 1, { kind: "gone" }],
  ])("%s", (_n, err, attempt, want) => {
    expect(evictionOutcome(err, attempt, "ns")).toEqual(want);
  });

  it("429 from a PDB: kubectl's 5 s, and the PDB named", () => {
    expect(evictionOutcome(pdb429(), 3, "apps")).toMatchObject({ kind: "retry", cause: "disruption-budget", delayMs: 5000, pdbs: ["apps/web-pdb"], code: "too-many-requests" });
    expect(evictionOutcome(pdb429("The disruption budget web-pdb is still being processed by the server."), 1, "apps")).toMatchObject({ pdbs: ["apps/web-pdb"] });
  });

  it("429 honours Retry-After, PDB or not", () => {
    expect(evictionOutcome(pdb429(undefined, 7000), 1, "apps")).toMatchObject({ delayMs: 7000, cause: "disruption-budget" });
    const busy = new KubeError("too-many-requests", "slow down", { status: 429, retryAfterMs: 3000 });
    expect(evictionOutcome(busy, 1, "apps")).toMatchObject({ delayMs: 3000, cause: "rate-limited", pdbs: [] });
    expect(evictionOutcome(new KubeError("too-many-requests", "slow down", { status: 429 }), 4, "apps")).toMatchObject({ delayMs: 8000, cause: "rate-limited" });
  });

  it.each([
    ["webhook denial 403", new KubeError("forbidden", 'admission webhook "deny.example.com" denied the request: maintenance', { status: 403 })],
    ["webhook denial 400", new KubeError("bad-request", "admission webhook denied", { status: 400 })],
    ["failing webhook / two PDBs 500", new KubeError("unavailable", "This pod has more than one PodDisruptionBudget", { status: 500 })],
    ["network", new KubeError("unavailable", "Kubernetes API unreachable: ECONNREFUSED")],
  ])("other errors (%s) are retried with backoff and reported", (_n, err) => {
    expect(evictionOutcome(err, 1, "ns")).toMatchObject({ kind: "retry", cause: "refused", delayMs: 1000, code: err.code, message: err.message });
    expect(evictionOutcome(err, 3, "ns")).toMatchObject({ delayMs: 4000 });
  });

  it("backoff doubles up to 30 s", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(backoffMs)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it("PDB names come only from DisruptionBudget causes", () => {
    expect(pdbsFromError(undefined, "a")).toEqual([]);
    expect(pdbsFromError(new KubeError("too-many-requests", "x", { details: { causes: [{ reason: "Other", message: "The disruption budget x" }] } }), "a")).toEqual([]);
  });
});

describe("gone and waiting", () => {
  it.each([
    ["404", undefined, true],
    ["same UID", pod({ uid: "u1" }), false],
    ["another pod of the same name (StatefulSet)", pod({ uid: "u2" }), true],
  ])("podGone: %s", (_n, observed, want) => {
    expect(podGone("u1", observed)).toBe(want);
  });

  it.each([
    ["gone", undefined, 0, "gone"],
    ["terminating within its grace", pod({ deletedAt: NOW + 5_000 }), 5, "wait"],
    ["stuck, skipWait 0", pod({ deletedAt: NOW - 60_000 }), 0, "wait"],
    ["stuck for longer than skipWait", pod({ deletedAt: NOW - 60_000 }), 30, "skip-wait"],
    ["stuck for less than skipWait", pod({ deletedAt: NOW - 10_000 }), 30, "wait"],
  ])("waitDecision: %s", (_n, observed, skip, want) => {
    expect(waitDecision("u1", observed, NOW, skip)).toBe(want);
  });

  it("explains a stuck pod", () => {
    expect(terminatingReason(pod({ deletedAt: NOW + 4_500 }), NOW)).toBe("terminating, grace period ends in 5s");
    expect(terminatingReason(pod({ deletedAt: NOW - 90_000, finalizers: ["example.com/backup"] }), NOW)).toBe("stuck Terminating 90s past its grace period; finalizers: example.com/backup");
    expect(terminatingReason(pod({ deletedAt: NOW - 90_000 }), NOW)).toContain("kubelet has not confirmed");
  });

  it("polls often at first, then once a second", () => {
    expect([0, 400, 1000, 2000, 4000, 16_000, 60_000].map(pollDelayMs)).toEqual([100, 100, 100, 125, 250, 1000, 1000]);
  });
});

describe("reporting and forceReboot", () => {
  const base: DrainResult = { outcome: "timed-out", node: "n1", durationMs: 60_000, evicted: 3, skipped: [], notWaitedFor: [], held: [], pdbs: [] };
  it("a timeout names pods and PDBs", () => {
    const r: DrainResult = { ...base, pdbs: ["apps/web-pdb"], held: [{ namespace: "apps", name: "web-0", state: "evicting", reason: "PodDisruptionBudget apps/web-pdb allows no disruption now", pdbs: ["apps/web-pdb"], attempts: 12 }] };
    expect(summarize(r)).toBe("drain of n1 timed out after 60.0s with 1 pod(s) left. PDBs holding it: apps/web-pdb. Pods: apps/web-0 (PodDisruptionBudget apps/web-pdb allows no disruption now)");
  });
  it.each([
    ["drained", false, true],
    ["timed-out", false, false],
    ["timed-out", true, true],
    ["failed", false, false],
    ["failed", true, true],
  ] as const)("shouldReboot(%s, force=%s) = %s", (outcome, force, want) => {
    expect(shouldReboot({ outcome }, force)).toBe(want);
  });
});

describe("node marking patches", () => {
  it("labels from key=value entries", () => {
    expect(labelsPatch(["sluice.dev/rebooting=true", "empty="])).toEqual({ "sluice.dev/rebooting": "true", empty: "" });
    expect(labelsPatch(undefined)).toEqual({});
  });
  it("annotations: sluice's keys, kured's on request, not rewritten while in progress", () => {
    expect(beforeRebootAnnotations(undefined, NOW)).toEqual({ "sluice.dev/reboot-in-progress": "2026-01-05T09:00:00Z", "sluice.dev/most-recent-reboot-needed": "2026-01-05T09:00:00Z" });
    expect(Object.keys(beforeRebootAnnotations({}, NOW, true)).sort()).toEqual([
      "sluice.dev/most-recent-reboot-needed", "sluice.dev/reboot-in-progress", "weave.works/kured-most-recent-reboot-needed", "weave.works/kured-reboot-in-progress",
    ]);
    expect(beforeRebootAnnotations({ "sluice.dev/reboot-in-progress": "earlier" }, NOW)).toEqual({});
    expect(afterRebootAnnotations(true)).toEqual({ "sluice.dev/reboot-in-progress": null, "weave.works/kured-reboot-in-progress": null });
  });
  it("PreferNoSchedule taint added once, removed once, others kept", () => {
    const other = { key: "dedicated", value: "db", effect: "NoSchedule" };
    expect(withPreferNoSchedule([other], "sluice.dev/reboot-pending", true)).toEqual([other, { key: "sluice.dev/reboot-pending", effect: "PreferNoSchedule" }]);
    expect(withPreferNoSchedule([other, { key: "k", effect: "PreferNoSchedule" }], "k", true)).toBeUndefined();
    expect(withPreferNoSchedule([other, { key: "k", effect: "PreferNoSchedule" }], "k", false)).toEqual([other]);
    expect(withPreferNoSchedule(undefined, "k", false)).toBeUndefined();
  });
});
