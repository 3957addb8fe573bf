/**
 * 50 agents race for 1, 2 and 5 slots through real HTTP against the sim server, with injected
 * 409/500/429 answers, watches cut every 1.5 s and watch-cache restarts (410, relist). An observer
 * of every committed Lease write asserts that there are never more holders than slots and that
 * every waiter is served once. Server and agents share one fake clock, moved timer by timer while
 * no request is in flight: the agents' real durations apply, and cost no real time.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { HttpKube, Kube } from "../../agent/kube";
import type { SimServer } from "../../agent/sim";
import type { Clock } from "../../agent/ports";
import { seededRandom } from "../helpers/sim";
import { LEASES, Observer, addNode, makeLock, run, startSim } from "./harness";

/**
 * The agents' Kube port, counting every error an agent was handed by method and code: proof that
 * the injected faults reached the code under test (the server's request counters are not).
 */
function countingKube(kube: HttpKube, seen: Map<string, number>): Kube {
  const count = (method: string, err: unknown) => {
    const k = `${method} ${(err as { code?: string }).code ?? "?"}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
  };
  return new Proxy(kube, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        const res = (v as (...a: unknown[]) => unknown).apply(target, args);
        if (!(res instanceof Promise)) return res;
        return res.then(
          (r: unknown) => {
            const done = (r as { done?: Promise<unknown> } | undefined)?.done;
            if (done instanceof Promise) done.catch((err: unknown) => count(`${String(prop)}.done`, err));
            return r;
          },
          (err: unknown) => {
            count(String(prop), err);
            throw err;
          },
        );
      };
    },
  }) as unknown as Kube;
}

/**
 * One agent's Kube port on a slow host: now and then a request leaves only after a pause on the
 * fake clock (a GC pause, a starved CPU), longer than headGrace at times. The agent decided on
 * what it saw before the pause, so its peers step past it meanwhile and its write then lands on a
 * slot that changed: the contention the lock's optimistic writes must resolve. Seeded: the same
 * pauses every run, and fake time may pass during them since no request is in flight yet.
 */
function stallingKube(kube: Kube, clock: Clock, random: () => number): Kube {
  return new Proxy(kube, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== "function" || prop === "watchLeases") return v;
      return async (...args: unknown[]) => {
        if (random() < 0.08) await clock.sleep(Math.floor(random() * 25_000));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as unknown as Kube;
}

let server: SimServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

const FAULTS = [
  { verb: "update", resource: "leases", errorRate: 0.1, code: 409 as const },
  { verb: "update", resource: "leases", errorRate: 0.05, code: 500 as const },
  { verb: "create", resource: "leases", errorRate: 0.05, code: 429 as const, retryAfterSeconds: 0 },
  { verb: "delete", resource: "leases", errorRate: 0.05, code: 500 as const },
  { verb: "get", resource: "leases", errorRate: 0.05, code: 500 as const },
  { verb: "list", resource: "leases", errorRate: 0.2, code: 429 as const, retryAfterSeconds: 0 },
  { verb: "watch", resource: "leases", errorRate: 0.1, code: 500 as const },
  { verb: "watch", resource: "leases", closeWatchAfterMs: 20_000 },
];

async function race(slots: number, agents: number): Promise<{ observer: Observer; served: string[]; seen: Map<string, number> }> {
  // Seeded: the same faults land on the same requests' positions in every run.
  const sim = await startSim({ random: seededRandom(slots * 7919) });
  server = sim.server;
  const { clock } = sim;
  const seen = new Map<string, number>();
  const kube = countingKube(sim.kube, seen) as HttpKube;
  const names = Array.from({ length: agents }, (_, i) => `node-${String(i).padStart(2, "0")}`);
  for (const n of names) addNode(sim.server, n);
  const observer = new Observer(sim.server, slots);
  sim.server.faults.rules = process.env.NOFAULT ? [] : FAULTS;
  const stopRestarts = new AbortController();
  void (async () => {
    while (!stopRestarts.signal.aborted) {
      await clock.sleep(25_000, stopRestarts.signal).catch(() => {});
      if (!stopRestarts.signal.aborted) sim.server.restartWatchCache();
    }
  })();
  const served: string[] = [];
  try {
    const agents = Promise.all(
      names.map(async (node, i) => {
        const lock = makeLock({ kube: stallingKube(kube, clock, seededRandom(1000 + i)), clock }, node, { concurrency: slots, random: seededRandom(i + 1) });
        // Start in a scattered order so that need order and start order differ.
        await clock.sleep((i * 37) % 50);
        await lock.start();
        await lock.acquire({ needSince: Date.UTC(2026, 0, 5) + i * 1000, bootId: `boot-${node}` });
        served.push(node);
        await lock.setPhase("draining", { wasUnschedulable: false });
        await clock.sleep(500 + ((i * 7919) % 5_000)); // the drain and the reboot take a while
        await lock.setPhase("rebooting");
        await lock.setPhase("recovering", { bootId: `boot2-${node}` });
        await lock.release();
        await lock.stop();
      }),
    );
    // Timers within a second of each other wake together: the race needs no finer grain, and
    // thousands of watch cuts, restarts and back-offs would otherwise each cost a real pause.
    await run(sim, agents, 3_600_000, { quantumMs: 1000 });
  } finally {
    stopRestarts.abort();
    sim.server.faults.rules = [];
    observer.stop();
  }
  return { observer, served, seen };
}

describe("50 agents racing", () => {
  it.each([1, 2, 5])("never more holders than %i slot(s), every waiter served once", async (slots) => {
    const { observer, served, seen } = await race(slots, 50);
    expect(observer.violations).toEqual([]);
    expect(observer.maxHolders).toBeLessThanOrEqual(slots);
    expect(new Set(served).size).toBe(50);
    expect(new Set(observer.served).size).toBe(50);
    expect(observer.served.length).toBe(50);
    // The faults really reached the agents: conflicts, server errors, throttling, broken watches.
    const total = (re: RegExp) => [...seen].filter(([k]) => re.test(k)).reduce((n, [, v]) => n + v, 0);
    expect(total(/^replaceLease conflict$/)).toBeGreaterThan(0);
    expect(total(/^replaceLease unavailable$/)).toBeGreaterThan(0);
    expect(total(/^(createLease|listLeases) too-many-requests$/)).toBeGreaterThan(0);
    expect(total(/^watchLeases/)).toBeGreaterThan(0);
    // Nothing is left behind: slots free, no waiting Leases.
    const left = server!.store.list(LEASES, "sluice");
    expect(left.filter((l) => l.metadata.labels["sluice.dev/role"] === "waiter")).toEqual([]);
    expect(left.filter((l) => l.spec?.holderIdentity)).toEqual([]);
  }, 120_000);
});
