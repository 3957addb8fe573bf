/**
 * The Lease cache of an idle agent is suspended: no watch, no entries (never a stale group), and
 * resumed by a fresh list before the agent queues. Against the sim server on a fake clock.
 */
import { afterEach, describe, expect, it } from "vitest";
import { LeaseCache, RebootLock } from "../../agent/lock";
import { waiterLease } from "../../agent/lock/leases";
import { nullLogger } from "../../agent/log";
import { type LockSim, addNode, makeLock, pass, settled, startSim, until } from "./harness";

let env: LockSim | undefined;
afterEach(async () => {
  await env?.server.stop();
  env = undefined;
});

const options = { namespace: "sluice", labelSelector: "sluice.dev/group=default", watchTimeoutSeconds: 3600, random: () => 0.5 };

describe("LeaseCache.suspend", () => {
  it("closes the watch and forgets the group; resume lists again and follows new writes", async () => {
    env = await startSim();
    const { server, kube, clock } = env;
    await kube.createLease("sluice", waiterLease("sluice", "default", "a", Date.UTC(2026, 0, 5)));
    const cache = new LeaseCache(kube, clock, nullLogger, options);
    const changes: (string | undefined)[] = [];
    cache.onChange((c) => changes.push(c?.name));
    await cache.start();
    await until(() => server.openWatches === 1, 5000, "the watch");
    expect(cache.get("sluice-default-wait-a")).toBeDefined();

    await cache.suspend();
    await until(() => server.openWatches === 0, 5000, "the watch closed");
    expect(cache.active).toBe(false);
    expect(cache.all()).toEqual([]);
    // Forgetting is a change like a relist: listeners rebuild from an empty cache.
    expect(changes.at(-1)).toBeUndefined();

    // Written while suspended: seen by the list that resume makes, then by the watch.
    await kube.createLease("sluice", waiterLease("sluice", "default", "b", Date.UTC(2026, 0, 5)));
    server.faults.resetCounters();
    await cache.resume();
    expect(cache.get("sluice-default-wait-b")).toBeDefined();
    expect(server.faults.counters()["list leases"]).toBe(1);
    await kube.createLease("sluice", waiterLease("sluice", "default", "c", Date.UTC(2026, 0, 5)));
    await until(() => cache.get("sluice-default-wait-c") !== undefined, 5000, "c by the watch");
    await cache.stopped();
    await settled(env);
    expect(server.openWatches).toBe(0);
  });

  it("a resume right after a suspend waits for it and ends with one watch and a full cache", async () => {
    env = await startSim();
    const { server, kube, clock } = env;
    await kube.createLease("sluice", waiterLease("sluice", "default", "a", Date.UTC(2026, 0, 5)));
    const cache = new LeaseCache(kube, clock, nullLogger, options);
    await cache.start();
    const suspended = cache.suspend();
    await cache.resume();
    await suspended;
    expect(cache.get("sluice-default-wait-a")).toBeDefined();
    await until(() => server.openWatches === 1, 5000, "one watch");
    await cache.stopped();
  });

  it("an acquire that must list again while the API server refuses lists ends when it is stopped", async () => {
    env = await startSim();
    const { server } = env;
    addNode(server, "a");
    const lock: RebootLock = makeLock(env, "a");
    await lock.start();
    await lock.suspend();
    server.faults.rules = [{ verb: "list", resource: "leases", errorRate: 1, code: 500 }];
    const stop = new AbortController();
    const got = lock.acquire({ needSince: Date.UTC(2026, 0, 5), bootId: "b" }, stop.signal);
    await pass(env, 30_000);
    expect(server.faults.counters()["list leases"]).toBeGreaterThan(1);
    stop.abort(new Error("stopping"));
    await expect(got).rejects.toThrow("stopping");
    server.faults.rules = [];
    await lock.stop();
  });
});
