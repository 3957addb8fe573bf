/**
 * Objects in the lock's namespace that look like sluice's but are not: each is reported, left
 * alone, never written in a loop, and never a source of numbers. Every case here failed before
 * group-view.ts validated Leases (the first two looped on create forever).
 */
import { afterEach, describe, expect, it } from "vitest";
import type { HttpKube } from "../../agent/kube";
import { type RebootLock, groupView, pauseGroup, readLockState, releaseSlotByOperator, resumeGroup } from "../../agent/lock";
import type { SimServer } from "../../agent/sim";
import { formatLockState } from "../../agent/cli/commands/lock";
import { LEASES, Lines, type LockSim, addNode, makeLock, run, settled, startSim, until } from "./harness";

let env: LockSim;
let server: SimServer;
let kube: HttpKube;
const locks: RebootLock[] = [];
const NEED = Date.UTC(2026, 0, 5, 8, 0, 0);
const REF = { namespace: "sluice", group: "default" };

afterEach(async () => {
  await Promise.all(locks.splice(0).map((l) => l.stop()));
  await server?.stop();
});

function lease(name: string, labels: Record<string, string> | undefined, spec: Record<string, unknown> = {}) {
  server.apply({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name, namespace: "sluice", ...(labels ? { labels } : {}) }, spec });
}
const slotLabels = (i: string) => ({ "sluice.dev/group": "default", "sluice.dev/role": "slot", "sluice.dev/slot": i });

describe("a foreign Lease on a slot's name", () => {
  it.each([
    ["no labels at all", undefined, {}],
    ["a wrong slot label", slotLabels("7"), { holderIdentity: "x" }],
    ["a holder with control characters", slotLabels("0"), { holderIdentity: "evil\u001b[2J" }],
  ] as const)("with %s blocks that slot: the agent takes the next one, with a bounded number of writes, and reports it once", async (_what, labels, spec) => {
    env = await startSim();
    ({ server, kube } = env);
    addNode(server, "a");
    lease("sluice-default-0", labels as Record<string, string> | undefined, spec);
    const lines = new Lines();
    const a = makeLock(env, "a", { concurrency: 2 }, { log: lines.logger });
    locks.push(a);
    await a.start();
    server.faults.resetCounters();
    const held = await a.acquire({ needSince: NEED, bootId: "b" });
    expect(held.name).toBe("sluice-default-1");
    // The waiting Lease, at most one attempt on slot 0, slot 1.
    expect(server.faults.counters()["create leases"] ?? 0).toBeLessThanOrEqual(3);
    await until(() => lines.matching(/sluice-default-0 .*is not sluice's/).length > 0, 5000, "the report");
    expect(lines.matching(/sluice-default-0 .*is not sluice's/)).toHaveLength(1);
    // Left alone.
    expect(server.store.get(LEASES, "sluice/sluice-default-0")!.metadata.labels).toEqual(labels);
  });
});

describe("lock list and status on a hostile namespace", () => {
  it("neither crash nor allocate by an attacker's number, and say what is wrong", async () => {
    env = await startSim();
    ({ server, kube } = env);
    lease("sluice-default-99999999", slotLabels("99999999"), { holderIdentity: "x" });
    lease("sluice-default-9999", slotLabels("9999"), { holderIdentity: "far" });
    lease("sluice-default-wait-ghost", { "sluice.dev/group": "default", "sluice.dev/role": "waiter" }, { holderIdentity: "ghost" });
    lease("sluice-default-wait-a", { "sluice.dev/group": "default", "sluice.dev/role": "waiter" }, { holderIdentity: "b", acquireTime: "2026-01-05T08:00:00.000000Z" });
    lease("evil", { "sluice.dev/group": "default", "sluice.dev/role": "pause" }, { holderIdentity: "x" });
    const st = await readLockState(kube, { ...REF, concurrency: 2 });
    expect(st.slots.map((s) => s.name)).toEqual(["sluice-default-0", "sluice-default-1", "sluice-default-9999"]);
    expect(st.queue).toEqual([]);
    expect(st.paused).toBeUndefined();
    expect(st.foreign.map((f) => f.name).sort()).toEqual(["evil", "sluice-default-99999999", "sluice-default-wait-a", "sluice-default-wait-ghost"]);
    const text = formatLockState(st, Date.UTC(2026, 0, 5, 9));
    expect(text).toMatch(/sluice-default-wait-ghost is not sluice's .*without a valid acquireTime/);
    expect(text).toMatch(/evil is not sluice's .*only sluice-default-paused pauses the group/);
  });

  it("prints a pause marker's holder with control characters escaped", async () => {
    env = await startSim();
    ({ server, kube } = env);
    lease("sluice-default-paused", { "sluice.dev/group": "default", "sluice.dev/role": "pause" }, { holderIdentity: "ops\u001b[31m" });
    const text = formatLockState(await readLockState(kube, { ...REF, concurrency: 1 }), 0);
    expect(text).toContain("PAUSED by ops\\u001b[31m");
    expect(text).not.toContain("\u001b");
  });
});

describe("pause is one truth; admin commands touch only sluice's objects", () => {
  it("a pause-named Lease without labels is neither 'already paused' nor deleted by resume", async () => {
    env = await startSim();
    ({ server, kube } = env);
    lease("sluice-default-paused", undefined, { holderIdentity: "someone" });
    await expect(pauseGroup(kube, REF, "ops", Date.now())).rejects.toMatchObject({ code: "lock-foreign-object", message: expect.stringMatching(/NOT paused/) });
    await expect(resumeGroup(kube, REF)).rejects.toMatchObject({ code: "lock-foreign-object" });
    expect(server.store.get(LEASES, "sluice/sluice-default-paused")).toBeDefined();
    // And the agents agree: the group is not paused.
    const list = await kube.listLeases("sluice", "");
    expect(groupView("default", list.items.map((l) => ({ lease: l, observedAt: 0 }))).paused).toBeUndefined();
  });

  it("a real pause is paused for both, and resume deletes only it", async () => {
    env = await startSim();
    ({ server, kube } = env);
    expect(await pauseGroup(kube, REF, "ops", Date.now())).toBe(true);
    expect(await pauseGroup(kube, REF, "ops", Date.now())).toBe(false);
    expect((await readLockState(kube, { ...REF, concurrency: 1 })).paused?.by).toBe("ops");
    expect(await resumeGroup(kube, REF)).toBe(true);
    expect(await resumeGroup(kube, REF)).toBe(false);
  });

  it("release refuses a slot-named Lease that is not sluice's", async () => {
    env = await startSim();
    ({ server, kube } = env);
    lease("sluice-default-0", undefined, { holderIdentity: "someone" });
    await expect(releaseSlotByOperator(kube, REF, "0", { force: true, nowMs: 0 })).rejects.toMatchObject({ code: "lock-foreign-object" });
    expect(server.store.get(LEASES, "sluice/sluice-default-0")!.spec.holderIdentity).toBe("someone");
    await expect(releaseSlotByOperator(kube, REF, "99999999", { force: true, nowMs: 0 })).rejects.toMatchObject({ code: "lock-bad-slot" });
  });
});

describe("dead waiters", () => {
  it("a waiter that never takes its turn has its Lease removed once, and the next waiter is served", async () => {
    env = await startSim();
    ({ server, kube } = env);
    addNode(server, "b");
    // ghost queued first and then vanished for good.
    lease("sluice-default-wait-ghost", { "sluice.dev/group": "default", "sluice.dev/role": "waiter" }, { holderIdentity: "ghost", acquireTime: "2026-01-05T07:00:00.000000Z" });
    const b = makeLock(env, "b");
    locks.push(b);
    await b.start();
    const t0 = env.clock.monotonic();
    const held = await run(env, b.acquire({ needSince: NEED, bootId: "x" }), 60_000);
    expect(held.holder).toBe("b");
    expect(env.clock.monotonic() - t0).toBe(15_000); // one headGrace for the dead waiter
    await settled(env);
    expect(server.store.get(LEASES, "sluice/sluice-default-wait-ghost")).toBeUndefined(); // removed once judged dead
  });
});
