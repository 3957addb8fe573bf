/**
 * The lock against the sim server, one scenario at a time: what goes on the wire, fairness, and
 * each way a peer can fail (crashed waiter, deleted node, silent holder, pause, a stolen slot).
 */
import { afterEach, describe, expect, it } from "vitest";
import type { HttpKube } from "../../agent/kube";
import { type RebootLock, pauseGroup, resumeGroup } from "../../agent/lock";
import { SluiceError } from "../../agent/ports";
import type { SimServer } from "../../agent/sim";
import { Events, LEASES, Lines, type LockSim, Observer, SimClock, addNode, deleteNode, makeLock, pass, run, runUntil, settled, startSim, until } from "./harness";

let env: LockSim;
let server: SimServer;
let kube: HttpKube;
const locks: RebootLock[] = [];
const NEED = Date.UTC(2026, 0, 5, 8, 0, 0);

async function sim(nodes: string[]) {
  env = await startSim();
  ({ server, kube } = env);
  for (const n of nodes) addNode(server, n);
}

function lock(...args: Parameters<typeof makeLock> extends [unknown, ...infer R] ? R : never): RebootLock {
  const l = makeLock(env, ...args);
  locks.push(l);
  return l;
}

afterEach(async () => {
  await Promise.all(locks.splice(0).map((l) => l.stop()));
  await server?.stop();
});

const stored = (name: string) => server.store.get(LEASES, `sluice/${name}`);

/** Waiting Leases in the store. */
const queued = () => server.store.list(LEASES, "sluice").filter((l) => l.metadata.labels["sluice.dev/role"] === "waiter").length;

/**
 * A holder on the one slot and `names` queued behind it in that order of need, settled.
 * `before` sees each lock before it starts (to listen to its cache from the first list).
 */
async function queueBehindHolder(names: string[], before: (l: RebootLock, i: number) => void = () => {}) {
  await sim(["holder", ...names]);
  const holder = lock("holder");
  await holder.start();
  await holder.acquire({ needSince: NEED - 1, bootId: "b" });
  const locks = names.map((n) => lock(n));
  locks.forEach(before);
  await Promise.all(locks.map((l) => l.start()));
  const got = locks.map((l, i) => l.acquire({ needSince: NEED + i, bootId: "b" }));
  await until(() => queued() === names.length, 10_000, "all queued");
  await settled(env);
  return { holder, locks, got };
}

describe("take, phase, release", () => {
  it("writes the slot with 6-digit MicroTime, holder facts in annotations, and clears it on release", async () => {
    await sim(["a"]);
    const a = lock("a", { concurrency: 3 });
    await a.start();
    const held = await a.acquire({ needSince: NEED, bootId: "boot-1", wasUnschedulable: false });
    expect(held.name).toBe("sluice-default-0");
    const s = stored("sluice-default-0")!;
    expect(s.spec.holderIdentity).toBe("a");
    expect(s.spec.acquireTime).toMatch(/\.\d{6}Z$/);
    expect(s.spec.renewTime).toMatch(/\.\d{6}Z$/);
    expect(s.metadata.labels).toEqual({ "sluice.dev/group": "default", "sluice.dev/role": "slot", "sluice.dev/slot": "0" });
    expect(s.metadata.annotations).toMatchObject({
      "sluice.dev/phase": "acquired", "sluice.dev/boot-id": "boot-1", "sluice.dev/was-unschedulable": "false", "sluice.dev/concurrency": "3",
    });
    // The waiting Lease is gone once the slot is held.
    await until(() => !stored("sluice-default-wait-a"), 5000, "waiter deleted");
    await a.setPhase("rebooting");
    expect(stored("sluice-default-0")!.metadata.annotations["sluice.dev/phase"]).toBe("rebooting");
    await a.release();
    const r = stored("sluice-default-0")!;
    expect(r.spec.holderIdentity).toBeUndefined();
    expect(r.spec.leaseTransitions).toBe(1);
    expect(r.metadata.annotations?.["sluice.dev/phase"]).toBeUndefined();
    expect(a.heldSlot()).toBeUndefined();
    await expect(a.setPhase("draining")).rejects.toMatchObject({ code: "lock-not-held" });
  });

  it("fires the hold signal when an admin clears the held slot, and refuses steps after it", async () => {
    await sim(["a"]);
    const a = lock("a");
    await a.start();
    await a.acquire({ needSince: NEED, bootId: "b" });
    const hold = a.holdSignal();
    expect(hold.aborted).toBe(false);
    expect(a.confirmedWithin()).toBe(true);
    const cur = await kube.getLease("sluice", "sluice-default-0");
    await kube.replaceLease("sluice", { ...cur, spec: { ...cur.spec, holderIdentity: undefined } });
    await until(() => hold.aborted, 5_000, "the hold signal");
    expect((hold.reason as SluiceError).code).toBe("lock-lost");
    expect(a.confirmedWithin()).toBe(false);
    expect(a.holdSignal().aborted).toBe(true);
  });

  it("fires the hold signal when renewals fail for renewDeadline, measured on the holder's clock", async () => {
    await sim(["a"]);
    const a = lock("a", { lockTtlMs: 30_000, renewDeadlineMs: 20_000 });
    await a.start();
    await a.acquire({ needSince: NEED, bootId: "b" });
    const hold = a.holdSignal();
    server.faults.rules.push({ verb: "update", resource: "leases", errorRate: 1, code: 500 });
    server.faults.resetCounters();
    await pass(env, 19_000);
    expect(server.faults.counters()["update leases"]).toBeGreaterThanOrEqual(2); // it did try (and back off)
    expect(hold.aborted).toBe(false);
    await pass(env, 1_000);
    expect(hold.aborted).toBe(true);
    expect(String((hold.reason as SluiceError).message)).toMatch(/could not be renewed for 20 s/);
  });

  it("release clears the holder at once; the hold signal does not fire for a hand-over", async () => {
    await sim(["a"]);
    const a = lock("a");
    await a.start();
    await a.acquire({ needSince: NEED, bootId: "b" });
    const hold = a.holdSignal();
    await a.release();
    expect(stored("sluice-default-0")!.spec.holderIdentity).toBeUndefined();
    expect(hold.aborted).toBe(false);
  });

  it("throws lock-lost when another node took the slot meanwhile", async () => {
    await sim(["a"]);
    const a = lock("a");
    await a.start();
    await a.acquire({ needSince: NEED, bootId: "b" });
    const lost: string[] = [];
    a.onLost((s) => lost.push(s.name));
    const cur = await kube.getLease("sluice", "sluice-default-0");
    await kube.replaceLease("sluice", { ...cur, spec: { ...cur.spec, holderIdentity: "intruder" } });
    // The cache may not have seen it: the write's 409 makes the lock re-read and notice.
    const err = await a.setPhase("rebooting").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).code).toBe("lock-lost");
    expect(lost).toEqual(["sluice-default-0"]);
  });
});

describe("fair queue", () => {
  it("a waiter far back re-plans only when a slot or its own place can change, and is still served in turn", async () => {
    const behind = Array.from({ length: 15 }, (_, i) => `z${i}`);
    await sim(["holder", "first", "second", ...behind]);
    const holder = lock("holder");
    await holder.start();
    await holder.acquire({ needSince: NEED - 1, bootId: "b" });
    const [first, second] = [lock("first"), lock("second")];
    const plans = { first: 0, second: 0 };
    for (const [name, l] of [["first", first], ["second", second]] as const) {
      const plan = (l as unknown as { plan: () => Promise<unknown> }).plan.bind(l);
      (l as unknown as { plan: () => Promise<unknown> }).plan = () => (plans[name]++, plan());
    }
    await Promise.all([first.start(), second.start()]);
    const firstGot = first.acquire({ needSince: NEED, bootId: "b" });
    const secondGot = second.acquire({ needSince: NEED + 1, bootId: "b" });
    await until(() => queued() === 2, 10_000, "two queued");
    await settled(env);
    const before = { ...plans };
    // Fifteen waiters join behind, and the holder renews: nothing "second" can act on.
    const rest = behind.map((n) => lock(n));
    await Promise.all(rest.map((l) => l.start()));
    const restGot = rest.map((l, i) => l.acquire({ needSince: NEED + 10 + i, bootId: "b" }));
    await until(() => queued() === 17, 10_000, "all queued");
    await holder.renew();
    await settled(env);
    expect(plans.second).toBe(before.second);
    // "first" is next in line (position 0 < 1 slot): it follows every event.
    expect(plans.first).toBeGreaterThan(before.first);
    await holder.release();
    expect((await firstGot).holder).toBe("first");
    await first.release();
    expect((await secondGot).holder).toBe("second");
    await second.release();
    for (const [i, got] of restGot.entries()) {
      expect((await got).holder).toBe(`z${i}`);
      await rest[i]!.release();
    }
  });

  it("a waiter more than twice the concurrency back does not watch the slots: it hears no holder's step, and watches again as it comes near", async () => {
    const waiters = Array.from({ length: 6 }, (_, i) => `w${i}`);
    // What each waiter's cache hears of the slot Leases.
    const slotEvents = new Map(waiters.map((n) => [n, 0]));
    const { holder, locks, got } = await queueBehindHolder(waiters, (l, i) =>
      l.cache.onChange((c) => c?.lease?.metadata?.labels?.["sluice.dev/role"] === "slot" && slotEvents.set(waiters[i]!, slotEvents.get(waiters[i]!)! + 1)),
    );
    // One slot: places 0 and 1 watch the slots, 2 and beyond only the queue.
    expect(locks.map((l) => l.cache.wide)).toEqual([true, true, false, false, false, false]);
    expect(server.openWatches).toBe(2 * 3 + 4);
    slotEvents.forEach((_, k) => slotEvents.set(k, 0));
    await holder.setPhase("draining");
    await holder.setPhase("rebooting");
    await settled(env);
    expect(Object.fromEntries(slotEvents)).toEqual({ w0: 2, w1: 2, w2: 0, w3: 0, w4: 0, w5: 0 });
    // Each take moves the queue up one place; the waiter that comes within two places watches
    // the slots again before its turn, and every one is served in order of need.
    await holder.release();
    for (const [i, l] of locks.entries()) {
      expect((await run(env, got[i]!, 60_000)).holder).toBe(`w${i}`);
      if (i + 2 < locks.length) await until(() => locks[i + 2]!.cache.wide, 5000, `w${i + 2} watching the slots`);
      await l.release();
    }
  });

  it("a waiter far back in a queue that keeps moving never looks at the slots: each move starts its stall time again", async () => {
    const { holder, locks, got } = await queueBehindHolder(Array.from({ length: 8 }, (_, i) => `m${i}`));
    const last = locks[7]!;
    expect(last.cache.wide).toBe(false);
    const lists = last.cache.slots.stats.lists;
    // Each holder keeps its slot 8 minutes. m7, 7 places back, would look after about 32 minutes
    // (10 min × (1 + log2(1 + 7/2))) of a queue standing still; this one moves every 8.
    let current = holder;
    for (let i = 0; i < 5; i++) {
      await pass(env, 8 * 60_000);
      await current.release();
      expect((await run(env, got[i]!, 60_000)).holder).toBe(`m${i}`);
      current = locks[i]!;
    }
    // 40 minutes, and m7 now 2 places back: still not near enough, and it never listed the slots.
    expect(last.cache.slots.stats.lists).toBe(lists);
    expect(last.cache.wide).toBe(false);
    await current.release();
    for (let i = 5; i < 8; i++) {
      expect((await run(env, got[i]!, 60_000)).holder).toBe(`m${i}`);
      await locks[i]!.release();
    }
  });

  it("serves waiters in order of need, whatever order they started in, with one write per take", async () => {
    const nodes = Array.from({ length: 20 }, (_, i) => `n${i}`);
    await sim(["holder", ...nodes]);
    const observer = new Observer(server, 1);
    const holder = lock("holder");
    await holder.start();
    await holder.acquire({ needSince: NEED - 1, bootId: "b" });
    // Need order is a permutation of start order.
    const need = new Map(nodes.map((n, i) => [n, NEED + ((i * 7) % 20) * 1000]));
    const served: string[] = [];
    const runs = nodes.map(async (n) => {
      const l = lock(n);
      await l.start();
      await l.acquire({ needSince: need.get(n)!, bootId: "b" });
      served.push(n);
      await l.release();
    });
    await until(() => queued() === 20, 10_000, "all queued");
    server.faults.resetCounters();
    await holder.release();
    // Fake time stands still: every hand-over happens on a watch event, none waits for headGrace.
    await Promise.all(runs);
    observer.stop();
    expect(served).toEqual([...nodes].sort((x, y) => need.get(x)! - need.get(y)!));
    expect(observer.violations).toEqual([]);
    // Per handover: one release and one take, then the waiting Lease is deleted; no losing attempts.
    const c = server.faults.counters();
    expect(c["update leases"]).toBe(41); // 20 takes, 21 releases (the first holder too)
    expect(c["delete leases"]).toBe(20);
    expect(c["create leases"] ?? 0).toBe(0);
  });

  it("steps past a waiter that crashed at the head of the queue, and past one whose node is gone", async () => {
    await sim(["b", "ghost"]);
    // Waiting Leases left behind by agents that are no longer running.
    for (const [node, at] of [["ghost", NEED - 2000], ["vanished", NEED - 1000]] as const) {
      server.apply({
        apiVersion: "coordination.k8s.io/v1", kind: "Lease",
        metadata: { name: `sluice-default-wait-${node}`, namespace: "sluice", labels: { "sluice.dev/group": "default", "sluice.dev/role": "waiter" } },
        spec: { holderIdentity: node, acquireTime: new Date(at).toISOString().replace("Z", "000Z") },
      });
    }
    const lines = new Lines();
    const b = lock("b", {}, { log: lines.logger });
    await b.start();
    const acquired = b.acquire({ needSince: NEED, bootId: "b" });
    const t0 = env.clock.monotonic();
    // Each dead waiter gets headGrace (15 s) to take the free slot: not a millisecond less.
    await pass(env, 14_999);
    expect(b.heldSlot()).toBeUndefined();
    expect(stored("sluice-default-wait-ghost")).toBeDefined();
    await pass(env, 1);
    expect(stored("sluice-default-wait-ghost")).toBeUndefined();
    expect(b.heldSlot()).toBeUndefined(); // vanished, next in line, gets its own grace
    expect((await run(env, acquired, 60_000)).holder).toBe("b");
    expect(env.clock.monotonic() - t0).toBe(30_000);
    expect(stored("sluice-default-wait-vanished")).toBeUndefined();
    expect(lines.lines.join("\n")).toMatch(/did not take a free slot.*ghost/);
    expect(lines.lines.join("\n")).toMatch(/did not take a free slot.*vanished/);
  });
});

describe("reclaiming", () => {
  it("takes over the slot of a holder whose Node was deleted mid-reboot, with an Event and a log line", async () => {
    await sim(["a", "b"]);
    const a = lock("a");
    await a.start();
    await a.acquire({ needSince: NEED, bootId: "b" });
    await a.setPhase("rebooting");
    await a.stop(); // the host went down for good
    const events = new Events();
    const lines = new Lines();
    const b = lock("b", {}, { events, log: lines.logger });
    await b.start();
    server.faults.resetCounters();
    const acquired = b.acquire({ needSince: NEED + 1, bootId: "b" });
    // b looks at a's Node once at once, then every nodeCheckInterval (60 s), finds it, and reclaims nothing.
    await settled(env);
    const nodeGets = () => server.faults.counters()["get nodes"] ?? 0;
    expect(nodeGets()).toBe(1);
    await pass(env, 59_999);
    expect(nodeGets()).toBe(1);
    await pass(env, 1);
    expect(nodeGets()).toBe(2);
    await pass(env, 10 * 60_000);
    expect(nodeGets()).toBe(12);
    expect(b.heldSlot()).toBeUndefined(); // a's Node still exists: no reclaim
    deleteNode(server, "a");
    const deletedAt = env.clock.monotonic();
    const held = await run(env, acquired, 5 * 60_000);
    // Two 404s nodeGoneGrace (30 s) apart, the first at the next check (60 s after the last), and
    // the slot is taken on the second: not one nodeGoneGrace later.
    expect(env.clock.monotonic() - deletedAt).toBe(60_000 + 30_000);
    expect(nodeGets()).toBe(12 + 3); // the two misses, and one more look right before the take
    expect(held.holder).toBe("b");
    expect(stored("sluice-default-0")!.spec.leaseTransitions).toBe(1);
    expect(events.seen).toEqual([expect.objectContaining({ node: "b", type: "Warning", reason: "RebootSlotReclaimed", message: expect.stringContaining("from a") })]);
    expect(lines.lines.join("\n")).toMatch(/took over reboot slot sluice-default-0 from a: its Node object no longer exists/);
  });

  it("a holder judged gone while it is not this waiter's turn: no polling, no spinning, the waiter ahead gets its grace", async () => {
    await sim(["x", "y", "me"]);
    const x = lock("x", { concurrency: 2 });
    const y = lock("y", { concurrency: 2 });
    for (const [l, n] of [[x, 1], [y, 2]] as const) {
      await l.start();
      await l.acquire({ needSince: NEED - n, bootId: "b" });
    }
    await x.stop(); // x's host is gone for good
    // A waiter ahead of me that no longer runs.
    server.apply({
      apiVersion: "coordination.k8s.io/v1", kind: "Lease",
      metadata: { name: "sluice-default-wait-ghost", namespace: "sluice", labels: { "sluice.dev/group": "default", "sluice.dev/role": "waiter" } },
      spec: { holderIdentity: "ghost", acquireTime: new Date(NEED).toISOString().replace("Z", "000Z") },
    });
    // me's clock is the sim's, counting reads: a lock that decides again and again without
    // waiting reads it on every round.
    let reads = 0;
    const counting = { now: () => env.clock.now(), monotonic: () => (reads++, env.clock.monotonic()), sleep: (ms: number, s?: AbortSignal) => env.clock.sleep(ms, s) };
    const me = lock("me", { concurrency: 2 }, { clock: counting });
    await me.start();
    const acquired = me.acquire({ needSince: NEED + 1, bootId: "b" });
    deleteNode(server, "x");
    await settled(env);
    // x's Node: a 404 at once, one nodeGoneGrace (30 s) later the second: x is gone, slot 0 free.
    await pass(env, 30_000);
    server.faults.resetCounters();
    reads = 0;
    // The ghost is first in line for it and gets headGrace (15 s) from then: no polling meanwhile.
    await pass(env, 14_999);
    expect(server.faults.counters()).toEqual({});
    expect(reads).toBeLessThan(20);
    expect(me.heldSlot()).toBeUndefined();
    expect((await run(env, acquired, 60_000)).name).toBe("sluice-default-0");
    expect(stored("sluice-default-0")!.spec.holderIdentity).toBe("me");
    expect(stored("sluice-default-1")!.spec.holderIdentity).toBe("y");
  });

  it("a live waiter behind dead ones, too far back to watch the slots, looks at them once the queue has stood still for queueStall, and takes the expired slot", async () => {
    await sim(["a", "b"]);
    const a = lock("a", { lockTtlMs: 60_000 });
    await a.start();
    await a.acquire({ needSince: NEED, bootId: "b" });
    await a.stop(); // crashed: no more renewals
    // Two waiting Leases left ahead of b by agents that no longer run: b's narrow view counts it third.
    for (const [node, at] of [["ghost1", NEED + 1], ["ghost2", NEED + 2]] as const) {
      server.apply({
        apiVersion: "coordination.k8s.io/v1", kind: "Lease",
        metadata: { name: `sluice-default-wait-${node}`, namespace: "sluice", labels: { "sluice.dev/group": "default", "sluice.dev/role": "waiter" } },
        spec: { holderIdentity: node, acquireTime: new Date(at).toISOString().replace("Z", "000Z") },
      });
    }
    const b = lock("b", { lockTtlMs: 60_000, queueStallMs: 600_000 });
    await b.start();
    let got = false;
    const acquired = b.acquire({ needSince: NEED + 3, bootId: "b" }).then((s) => ((got = true), s));
    await settled(env);
    expect(b.cache.wide).toBe(false);
    const t0 = env.clock.monotonic();
    // a's slot expired long ago, but b does not watch the slots: nothing moves in its queue.
    await pass(env, 15 * 60_000);
    expect(got).toBe(false);
    // 10 min × (1 + log2(1 + 2/2)) = 20 min, ±10 %: b looks, watches a's slot not change for
    // lockTtl (60 s), steps past each ghost after its headGrace (15 s), and takes.
    expect((await run(env, acquired, 15 * 60_000)).holder).toBe("b");
    const waited = env.clock.monotonic() - t0;
    expect(waited).toBeGreaterThanOrEqual(18 * 60_000 + 90_000);
    expect(waited).toBeLessThanOrEqual(22 * 60_000 + 90_000);
    expect(stored("sluice-default-wait-ghost1")).toBeUndefined();
    expect(stored("sluice-default-wait-ghost2")).toBeUndefined();
  });

  it("expires a silent holder after lockTtl on the observer's monotonic clock, whatever the holder's wall clock", async () => {
    await sim(["a", "b"]);
    const ca = new SimClock(Date.UTC(2026, 0, 5, 9, 10)); // a's wall clock runs 10 minutes ahead
    const a = lock("a", { lockTtlMs: 600_000 }, { clock: ca });
    await a.start();
    await a.acquire({ needSince: NEED, bootId: "b" });
    await a.stop(); // crashed: no more renewals
    const cb = new SimClock(Date.UTC(2026, 0, 5, 9, 0));
    const events = new Events();
    const b = lock("b", { lockTtlMs: 600_000 }, { clock: cb, events });
    await b.start();
    let got = false;
    const acquired = b.acquire({ needSince: NEED + 1, bootId: "b" }).then((s) => ((got = true), s));
    await settled(env);
    expect(stored("sluice-default-wait-b")).toBeDefined();
    cb.setWall(Date.UTC(2026, 0, 5, 10, 0)); // b's wall clock jumps an hour: irrelevant
    await pass(env, 599_999, cb);
    // b waits on its clock for the rest of the TTL: idle, not done.
    expect(cb.nextDueIn()).toBeDefined();
    expect(got).toBe(false);
    await pass(env, 1, cb);
    expect(got).toBe(true);
    expect((await acquired).holder).toBe("b");
    expect(events.seen[0]?.message).toMatch(/had not changed for lockTtl/);
  });

  it("keeps a holder renewing itself, and never expires anything with lockTtl 0", async () => {
    await sim(["a", "b"]);
    const ca = new SimClock();
    const a = lock("a", { lockTtlMs: 30_000 }, { clock: ca });
    await a.start();
    await a.acquire({ needSince: NEED, bootId: "b" });
    const renewed = () => stored("sluice-default-0")!.spec.renewTime as string;
    const before = renewed();
    // A renewal every third of the TTL, on the holder's clock.
    await pass(env, 9_999, ca);
    expect(renewed()).toBe(before);
    await pass(env, 1, ca);
    expect(renewed()).not.toBe(before);
    await a.stop();
    const cb = new SimClock();
    const b = lock("b", { lockTtlMs: 0 }, { clock: cb });
    await b.start();
    let got = false;
    void b.acquire({ needSince: NEED + 1, bootId: "b" }).then(() => (got = true), () => {});
    await settled(env);
    expect(stored("sluice-default-wait-b")).toBeDefined();
    // Ten hours in one step (b's node checks wake once; what matters is how old a's record is).
    await cb.advance(10 * 3600_000);
    await settled(env);
    expect(cb.nextDueIn()).toBeDefined(); // b is waiting on its clock again, not done
    expect(got).toBe(false);
    expect(b.view().slots.get(0)?.record.holder).toBe("a");
  });
});

describe("pause", () => {
  it("lets no new holder in while paused; the current holder finishes", async () => {
    await sim(["a", "b"]);
    const a = lock("a");
    const b = lock("b");
    await a.start();
    await b.start();
    await a.acquire({ needSince: NEED, bootId: "b" });
    expect(await pauseGroup(kube, { namespace: "sluice", group: "default" }, "ops", env.clock.now())).toBe(true);
    expect(await pauseGroup(kube, { namespace: "sluice", group: "default" }, "ops", env.clock.now())).toBe(false);
    let got = false;
    const acquired = b.acquire({ needSince: NEED + 1, bootId: "b" }).then((s) => ((got = true), s));
    await until(() => b.view().paused !== undefined && a.view().paused !== undefined, 5000, "pause seen");
    await a.setPhase("rebooting"); // the holder carries on
    await a.release();
    await until(() => b.view().slots.get(0)?.record.holder === "" && b.view().paused !== undefined, 5000, "b saw the free slot while paused");
    // However long the pause lasts: every grace and check interval passes many times over.
    await pass(env, 2 * 3600_000);
    expect(got).toBe(false);
    expect(stored("sluice-default-0")!.spec.holderIdentity).toBeUndefined();
    expect(await resumeGroup(kube, { namespace: "sluice", group: "default" })).toBe(true);
    expect((await acquired).holder).toBe("b");
  });
});

describe("idle load", () => {
  it("a started lock watches only the slots, about one request an hour, both halves while queued, and none once suspended", async () => {
    await sim(["a", "b"]);
    const a = lock("a");
    await a.start();
    server.faults.resetCounters();
    await pass(env, 3 * 3600_000);
    // The slots' watch, renewed once per server-side watch timeout (3600 s, jittered by ±10 %):
    // 2 to 4 requests in 3 hours, and nothing else. The queue is not listed until a node queues.
    const counts = () => {
      const { "watch leases": watches = 0, ...other } = server.faults.counters();
      return { watches, other };
    };
    expect(counts().other).toEqual({});
    expect(counts().watches).toBeGreaterThanOrEqual(2);
    expect(counts().watches).toBeLessThanOrEqual(4);
    expect(server.openWatches).toBe(1);
    // Queued behind a holder: the queue's watch too.
    const b = lock("b");
    await b.start();
    await b.acquire({ needSince: NEED, bootId: "b" });
    const waiting = a.acquire({ needSince: NEED + 1, bootId: "b" });
    await settled(env);
    expect(server.openWatches).toBe(4); // a's two and the holder's two
    server.faults.resetCounters();
    await pass(env, 3 * 3600_000);
    // Next in line, a looks at its holder's Node every nodeCheckInterval (60 s).
    expect(counts().other).toEqual({ "get nodes": 180 });
    expect(counts().watches).toBeGreaterThanOrEqual(4 * 2);
    expect(counts().watches).toBeLessThanOrEqual(4 * 4);
    await b.release();
    await run(env, waiting);
    await a.release();
    await Promise.all([a.suspend(), b.suspend()]);
    server.faults.resetCounters();
    await pass(env, 3 * 3600_000);
    expect(server.faults.counters()).toEqual({});
  });
});
