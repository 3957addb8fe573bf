/**
 * Retry timing and parallelism, exact to the millisecond: drainNode against a scripted Kube stub
 * on a FakeClock (no I/O, so the clock alone decides when things happen).
 */
import { describe, expect, it } from "vitest";
import { drainNode } from "../../agent/drain";
import { KubeError, type Kube, type V1Pod } from "../../agent/kube";
import { nullLogger } from "../../agent/log";
import { FakeClock, discardEvents } from "../../agent/ports";

type Answer = "ok" | KubeError;

/** Pods on node-a; each eviction answer comes from `script(name, attempt)`; accepted pods vanish after `goneAfterMs`. */
function stub(clock: FakeClock, names: string[], script: (name: string, attempt: number) => Answer, goneAfterMs = 0) {
  const pods = new Map<string, V1Pod>(names.map((n): [string, V1Pod] => [n, { metadata: { name: n, namespace: "ns", uid: `u-${n}` }, spec: { nodeName: "node-a", containers: [] }, status: { phase: "Running" } }]));
  const attempts = new Map<string, number[]>();
  const kube = {
    listPodsOnNode: async () => ({ items: [...pods.values()], resourceVersion: "1" }),
    getPod: async (_ns: string, name: string) => {
      const p = pods.get(name);
      if (!p) throw new KubeError("not-found", "not found", { status: 404 });
      return p;
    },
    evictPod: async (_ns: string, name: string) => {
      const at = [...(attempts.get(name) ?? []), clock.monotonic()];
      attempts.set(name, at);
      const a = script(name, at.length);
      if (a !== "ok") throw a;
      const p = pods.get(name)!;
      pods.set(name, { ...p, metadata: { ...p.metadata, deletionTimestamp: new Date(clock.now() + goneAfterMs) } });
      clock.sleep(goneAfterMs).then(() => pods.delete(name));
    },
  } as unknown as Kube;
  return { kube, attempts, pods };
}

async function run(clock: FakeClock, kube: Kube, timeoutMs = 0) {
  let out: Awaited<ReturnType<typeof drainNode>> | undefined;
  const p = drainNode({ node: "node-a", timeoutMs }, { kube, clock, log: nullLogger, events: discardEvents }).then((r) => (out = r));
  for (let i = 0; i < 2000 && !out; i++) await clock.advance(100);
  await p;
  return out!;
}

const pdb429 = new KubeError("too-many-requests", "Cannot evict pod as it would violate the pod's disruption budget.", {
  status: 429,
  details: { causes: [{ reason: "DisruptionBudget", message: "The disruption budget web needs 1 healthy pods and has 1 currently" }] },
});

describe("eviction retries", () => {
  it("a PDB's 429 is retried every 5 s (kubectl), without Retry-After", async () => {
    const clock = new FakeClock();
    const s = stub(clock, ["p"], (_n, a) => (a < 4 ? pdb429 : "ok"));
    const r = await run(clock, s.kube);
    expect(r.outcome).toBe("drained");
    expect(s.attempts.get("p")).toEqual([0, 5000, 10000, 15000]);
  });

  it("Retry-After is honoured", async () => {
    const clock = new FakeClock();
    const busy = new KubeError("too-many-requests", "slow down", { status: 429, retryAfterMs: 7000 });
    const s = stub(clock, ["p"], (_n, a) => (a === 1 ? busy : "ok"));
    await run(clock, s.kube);
    expect(s.attempts.get("p")).toEqual([0, 7000]);
  });

  it("other refusals back off exponentially (1, 2, 4 s …)", async () => {
    const clock = new FakeClock();
    const denied = new KubeError("forbidden", "admission webhook denied the request", { status: 403 });
    const s = stub(clock, ["p"], (_n, a) => (a <= 4 ? denied : "ok"));
    await run(clock, s.kube);
    expect(s.attempts.get("p")).toEqual([0, 1000, 3000, 7000, 15000]);
  });

  it("404 on eviction means gone: no wait, no retry", async () => {
    const clock = new FakeClock();
    const s = stub(clock, ["p"], () => new KubeError("not-found", "gone", { status: 404 }));
    const r = await run(clock, s.kube);
    expect(r).toMatchObject({ outcome: "drained", evicted: 1 });
    expect(s.attempts.get("p")).toEqual([0]);
  });

  it("evicts 100 pods at once, not one after another, and sees them gone within one poll", async () => {
    const clock = new FakeClock();
    const names = Array.from({ length: 100 }, (_, i) => `p${i}`);
    const s = stub(clock, names, () => "ok", 1000);
    const r = await run(clock, s.kube);
    expect(r.outcome).toBe("drained");
    expect(names.every((n) => s.attempts.get(n)?.[0] === 0)).toBe(true);
    expect(r.durationMs).toBeLessThanOrEqual(1300);
  });

  it("a timeout stops the retries and reports the PDB", async () => {
    const clock = new FakeClock();
    const s = stub(clock, ["p"], () => pdb429);
    const r = await run(clock, s.kube, 22_000);
    expect(r).toMatchObject({ outcome: "timed-out", durationMs: 22_000, pdbs: ["ns/web"] });
    expect(s.attempts.get("p")).toEqual([0, 5000, 10000, 15000, 20000]);
    expect(clock.pending).toBe(0);
  });
});
