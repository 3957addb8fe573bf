/**
 * 50 agents race for 1, 2 and 5 slots through real HTTP against the sim server, with injected
 * 409/500/429 answers, watches cut every few hundred milliseconds and watch-cache restarts (410,
 * relist). An observer of every committed Lease write asserts that there are never more
 * holders than slots and that every waiter is served once.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { HttpKube } from "../../agent/kube";
import type { SimServer } from "../../agent/sim";
import { LEASES, Observer, addNode, makeLock, startSim } from "./harness";

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
  { verb: "watch", resource: "leases", closeWatchAfterMs: 1500 },
];

async function race(slots: number, agents: number): Promise<{ observer: Observer; served: string[]; counters: Record<string, number> }> {
  const sim = await startSim();
  server = sim.server;
  const kube: HttpKube = sim.kube;
  const names = Array.from({ length: agents }, (_, i) => `node-${String(i).padStart(2, "0")}`);
  for (const n of names) addNode(sim.server, n);
  const observer = new Observer(sim.server, slots);
  sim.server.faults.rules = process.env.NOFAULT ? [] : FAULTS;
  const restarts = setInterval(() => sim.server.restartWatchCache(), 700);
  const served: string[] = [];
  try {
    await Promise.all(
      names.map(async (node, i) => {
        const lock = makeLock(kube, node, { concurrency: slots, headGraceMs: 500 });
        // Start in a scattered order so that need order and start order differ.
        await new Promise((r) => setTimeout(r, (i * 37) % 50));
        await lock.start();
        await lock.acquire({ needSince: Date.UTC(2026, 0, 5) + i * 1000, bootId: `boot-${node}` });
        served.push(node);
        await lock.setPhase("draining", { wasUnschedulable: false });
        await new Promise((r) => setTimeout(r, 2 + (i % 5)));
        await lock.setPhase("rebooting");
        await lock.setPhase("recovering", { bootId: `boot2-${node}` });
        await lock.release();
        await lock.stop();
      }),
    );
  } finally {
    clearInterval(restarts);
    sim.server.faults.rules = [];
    observer.stop();
  }
  return { observer, served, counters: sim.server.faults.counters() };
}

describe("50 agents racing", () => {
  it.each([1, 2, 5])("never more holders than %i slot(s), every waiter served once", async (slots) => {
    const { observer, served, counters } = await race(slots, 50);
    expect(observer.violations).toEqual([]);
    expect(observer.maxHolders).toBeLessThanOrEqual(slots);
    expect(new Set(served).size).toBe(50);
    expect(new Set(observer.served).size).toBe(50);
    expect(observer.served.length).toBe(50);
    // The faults were really exercised.
    expect(Object.keys(counters).some((k) => k.startsWith("watch"))).toBe(true);
    // Nothing is left behind: slots free, no waiting Leases.
    const left = server!.store.list(LEASES, "sluice");
    expect(left.filter((l) => l.metadata.labels["sluice.dev/role"] === "waiter")).toEqual([]);
    expect(left.filter((l) => l.spec?.holderIdentity)).toEqual([]);
  }, 120_000);
});
