/**
 * Regressions found in review, proven against the sim before they were fixed.
 */
import { getEventListeners } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import type { HttpKube } from "../../agent/kube";
import { KubeError, type Kube } from "../../agent/kube";
import { LeaseCache, type RebootLock, pauseGroup, resumeGroup } from "../../agent/lock";
import { nullLogger } from "../../agent/log";
import type { SimServer } from "../../agent/sim";
import { LEASES, type LockSim, SimClock, addNode, deleteNode, makeLock, pass, runUntil, settled, startSim, until } from "../lock/harness";

let env: LockSim;
let server: SimServer;
let kube: HttpKube;
const locks: RebootLock[] = [];
const NEED = Date.UTC(2026, 0, 5, 8, 0, 0);

async function sim(): Promise<void> {
  env = await startSim();
  ({ server, kube } = env);
}

function lock(...args: Parameters<typeof makeLock> extends [unknown, ...infer R] ? R : never): RebootLock {
  const l = makeLock(env, ...args);
  locks.push(l);
  return l;
}

/** Nodes a and b; a holds the one slot (in `phase`, if given), b has queued behind it. */
async function aHoldsBWaits(phase?: Parameters<RebootLock["setPhase"]>[0]) {
  await sim();
  addNode(server, "a");
  addNode(server, "b");
  const a = lock("a");
  await a.start();
  await a.acquire({ needSince: NEED, bootId: "x" });
  if (phase) await a.setPhase(phase);
  const b = lock("b");
  await b.start();
  const got = b.acquire({ needSince: NEED + 1, bootId: "y" });
  got.catch(() => {});
  await settled(env);
  expect(server.store.get(LEASES, "sluice/sluice-default-wait-b")).toBeDefined();
  return { a, b, got };
}

afterEach(async () => {
  server.faults.rules = [];
  await Promise.all(locks.splice(0).map((l) => l.stop()));
  await server?.stop();
});

describe("lock regressions", () => {
  it("writeHeld does not spin without delay when a 409's re-read fails (429 from API priority and fairness)", async () => {
    await sim();
    addNode(server, "a");
    const a = lock("a");
    await a.start();
    await a.acquire({ needSince: NEED, bootId: "b" });
    server.faults.rules = [
      { verb: "update", resource: "leases", errorRate: 1, code: 409 },
      { verb: "get", resource: "leases", errorRate: 1, code: 429, retryAfterSeconds: 5 },
    ];
    server.faults.resetCounters();
    void a.setPhase("draining").catch(() => {});
    const updates = () => server.faults.counters()["update leases"] ?? 0;
    // The first try, its 409, the failed re-read: then the lock sleeps on its clock.
    await settled(env);
    expect(updates()).toBe(1);
    expect(server.faults.counters()["get leases"]).toBe(1);
    expect(env.clock.nextDueIn()).toBe(5_000);
    // The server asked for 5 s between attempts: not one more try before they have passed ...
    await pass(env, 4_999);
    expect(updates()).toBe(1);
    // ... and the next one right after.
    await pass(env, 1);
    expect(updates()).toBe(2);
    server.faults.rules = [];
  });

  it("does not take over a live holder on a node-gone verdict that is older than a pause", async () => {
    const { b } = await aHoldsBWaits("rebooting");
    // b's writes of the slot fail for now (an API server in trouble): its take cannot land.
    server.faults.rules = [{ verb: "update", resource: "leases", errorRate: 1, code: 500 }];
    // a's Node is deleted while it reboots (cloud controller), b sees it gone ...
    deleteNode(server, "a");
    const absent = (b as unknown as { absent: Map<string, { misses: number }> }).absent;
    server.faults.resetCounters();
    await runUntil(env, () => (server.faults.counters()["update leases"] ?? 0) >= 1, "b's first attempt to take a's slot", 5 * 60_000);
    expect(absent.get("a")?.misses).toBe(2);
    // ... and the operator pauses the group to investigate while b backs off.
    await pauseGroup(kube, { namespace: "sluice", group: "default" }, "ops", env.clock.now());
    await settled(env);
    expect(b.view().paused).toBeDefined();
    expect(server.store.get(LEASES, "sluice/sluice-default-0")!.spec.holderIdentity).toBe("a"); // not taken before the pause
    await pass(env, 10 * 60_000); // paused: nothing is taken, however long it lasts
    // a comes back: its Node re-registers, a is alive and still holds its slot.
    addNode(server, "a");
    server.faults.rules = [];
    await resumeGroup(kube, { namespace: "sluice", group: "default" });
    await settled(env);
    expect(b.view().paused).toBeUndefined();
    // b acts on its old verdict only after one more look, which finds a's Node and clears it ...
    expect(absent.has("a")).toBe(false);
    // ... and a's slot is not reclaimed, then or later.
    await pass(env, 10 * 60_000);
    expect(server.store.get(LEASES, "sluice/sluice-default-0")!.spec.holderIdentity).toBe("a");
  });

  it("does not leave an abort listener on the cache's stop signal for every re-established watch", async () => {
    await sim();
    server.faults.rules = [{ verb: "watch", resource: "leases", closeWatchAfterMs: 5 }];
    const a = lock("a");
    await a.start();
    // Each half of the group cache (queue, slots) runs its own watch loop; a started lock, the slots'.
    const stats = a.cache.slots.stats;
    await runUntil(env, () => stats.watches >= 20, "20 watches", 60_000);
    const stop = (a.cache.slots as unknown as { running: { stop: AbortController } }).running.stop.signal;
    expect(getEventListeners(stop, "abort").length).toBeLessThanOrEqual(2);
  });

  it("a waiter whose waiting Lease is deleted joins again and is served", async () => {
    const { a, got } = await aHoldsBWaits();
    await kube.deleteLease("sluice", "sluice-default-wait-b");
    await until(() => Boolean(server.store.get(LEASES, "sluice/sluice-default-wait-b")), 5000, "b queued again");
    await a.release();
    expect((await got).holder).toBe("b");
  });

  it("a server that answers every watch with 410 does not get a busy loop of lists", async () => {
    await sim();
    const gone = () => new KubeError("gone", "too old resource version", { status: 410 });
    const always410: Kube = Object.assign(Object.create(kube) as Kube, {
      watchLeases: async () => ({ done: Promise.reject(gone()), stop: () => {} }),
    });
    const clock = new SimClock();
    const cache = new LeaseCache(always410, clock, nullLogger, { namespace: "sluice", labelSelector: "sluice.dev/group=default", watchTimeoutSeconds: 3600, random: () => 0.5 });
    const stop = new AbortController();
    await cache.start(stop.signal);
    // The first 410 is answered with a list at once; the second one backs off on the clock.
    await settled(env);
    expect(cache.stats.lists).toBe(2);
    expect(clock.nextDueIn()).toBe(75);
    // Each later 410 waits longer (capped at 5 s): ten seconds of clock allow only a few lists.
    await pass(env, 10_000, clock);
    expect(cache.stats.lists).toBe(9); // 75+150+…+4800 ms of back-off
    expect(clock.nextDueIn()).toBeGreaterThan(0); // backing off again
    stop.abort();
    await cache.stopped();
  });
});
