/**
 * Regressions found in review, proven against the sim before they were fixed.
 */
import { getEventListeners } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import type { HttpKube } from "../../agent/kube";
import { KubeError, type Kube } from "../../agent/kube";
import { LeaseCache, type RebootLock, pauseGroup, resumeGroup } from "../../agent/lock";
import { nullLogger } from "../../agent/log";
import { FakeClock } from "../../agent/ports";
import type { SimServer } from "../../agent/sim";
import { LEASES, addNode, deleteNode, makeLock, startSim, until } from "../lock/harness";

let server: SimServer;
let kube: HttpKube;
const locks: RebootLock[] = [];
const NEED = Date.UTC(2026, 0, 5, 8, 0, 0);

function lock(...args: Parameters<typeof makeLock> extends [unknown, ...infer R] ? R : never): RebootLock {
  const l = makeLock(kube, ...args);
  locks.push(l);
  return l;
}

afterEach(async () => {
  server.faults.rules = [];
  await Promise.all(locks.splice(0).map((l) => l.stop()));
  await server?.stop();
});

describe("lock regressions", () => {
  it("writeHeld does not spin without delay when a 409's re-read fails (429 from API priority and fairness)", async () => {
    ({ server, kube } = await startSim());
    addNode(server, "a");
    const clock = new FakeClock();
    const a = lock("a", {}, { clock });
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
    await until(() => updates() === 1 && (server.faults.counters()["get leases"] ?? 0) === 1 && clock.pending > 0, 5000, "first attempt and back-off");
    // The server asked for 5 s between attempts: not one more try before they have passed ...
    await clock.advance(4_999);
    expect(updates()).toBe(1);
    // ... and the next one right after.
    await clock.advance(1);
    await until(() => updates() === 2, 5000, "second attempt");
    server.faults.rules = [];
  });

  it("does not take over a live holder on a node-gone verdict that is older than a pause", async () => {
    ({ server, kube } = await startSim());
    addNode(server, "a");
    addNode(server, "b");
    const a = lock("a");
    await a.start();
    await a.acquire({ needSince: NEED, bootId: "x" });
    await a.setPhase("rebooting");
    const b = lock("b", { nodeGoneGraceMs: 200, nodeCheckIntervalMs: 100 });
    await b.start();
    const got = b.acquire({ needSince: NEED + 1, bootId: "y" });
    got.catch(() => {});
    await until(() => Boolean(server.store.get(LEASES, "sluice/sluice-default-wait-b")), 5000, "b queued");
    // a's Node is deleted while it reboots (cloud controller), b sees it gone ...
    deleteNode(server, "a");
    const absent = (b as unknown as { absent: Map<string, { misses: number }> }).absent;
    await until(() => (absent.get("a")?.misses ?? 0) >= 2, 5000, "b judged a's node gone");
    // ... and the operator pauses the group at once to investigate.
    await pauseGroup(kube, { namespace: "sluice", group: "default" }, "ops", Date.now());
    await until(() => b.view().paused !== undefined, 5000, "pause seen");
    expect(server.store.get(LEASES, "sluice/sluice-default-0")!.spec.holderIdentity).toBe("a"); // not taken before the pause
    // a comes back: its Node re-registers, a is alive and still holds its slot.
    addNode(server, "a");
    await resumeGroup(kube, { namespace: "sluice", group: "default" });
    // b acts on its old verdict only after one more look, which finds a's Node and clears it.
    await until(() => b.view().paused === undefined && !absent.has("a"), 5000, "b saw a's Node back");
    // a's Node exists: its slot must not be reclaimed.
    expect(server.store.get(LEASES, "sluice/sluice-default-0")!.spec.holderIdentity).toBe("a");
  });

  it("does not leave an abort listener on the cache's stop signal for every re-established watch", async () => {
    const clock = new FakeClock();
    ({ server, kube } = await startSim());
    server.faults.rules = [{ verb: "watch", resource: "leases", closeWatchAfterMs: 5 }];
    const a = lock("a", {}, { clock });
    await a.start();
    const stats = a.cache.stats;
    for (let i = 0; i < 40 && stats.watches < 20; i++) {
      await new Promise((r) => setTimeout(r, 30));
      await clock.advance(1000);
    }
    expect(stats.watches).toBeGreaterThanOrEqual(15);
    const stop = (a.cache as unknown as { stop: AbortController }).stop.signal;
    expect(getEventListeners(stop, "abort").length).toBeLessThanOrEqual(2);
  });

  it("a waiter whose waiting Lease is deleted joins again and is served", async () => {
    ({ server, kube } = await startSim());
    addNode(server, "a");
    addNode(server, "b");
    const a = lock("a");
    await a.start();
    await a.acquire({ needSince: NEED, bootId: "x" });
    const b = lock("b");
    await b.start();
    const got = b.acquire({ needSince: NEED + 1, bootId: "y" });
    await until(() => Boolean(server.store.get(LEASES, "sluice/sluice-default-wait-b")), 5000, "b queued");
    await kube.deleteLease("sluice", "sluice-default-wait-b");
    await until(() => Boolean(server.store.get(LEASES, "sluice/sluice-default-wait-b")), 5000, "b queued again");
    await a.release();
    expect((await got).holder).toBe("b");
  });

  it("a server that answers every watch with 410 does not get a busy loop of lists", async () => {
    ({ server, kube } = await startSim());
    const gone = () => new KubeError("gone", "too old resource version", { status: 410 });
    const always410: Kube = Object.assign(Object.create(kube) as Kube, {
      watchLeases: async () => ({ done: Promise.reject(gone()), stop: () => {} }),
    });
    const clock = new FakeClock();
    const cache = new LeaseCache(always410, clock, nullLogger, { namespace: "sluice", labelSelector: "sluice.dev/group=default", watchTimeoutSeconds: 3600, random: () => 0.5 });
    const stop = new AbortController();
    await cache.start(stop.signal);
    // The first 410 is answered with a list at once; the second one backs off on the clock.
    await until(() => cache.stats.lists === 2 && clock.pending > 0, 5000, "second list, then a back-off");
    expect(cache.stats.lists).toBe(2);
    // Each later 410 waits longer (capped at 5 s): ten seconds of clock allow only a few lists.
    for (let i = 0; i < 100; i++) await clock.advance(100);
    await until(() => clock.pending > 0, 5000, "backing off again");
    expect(cache.stats.lists).toBeGreaterThanOrEqual(4);
    expect(cache.stats.lists).toBeLessThanOrEqual(10); // 75+150+…+4800 ms of back-off: 9 lists
    stop.abort();
    await cache.stopped();
  });
});
