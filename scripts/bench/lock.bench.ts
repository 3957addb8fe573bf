/**
 * The reboot semaphore at scale, in-process against the sim server on loopback: N agents wait on
 * one slot and are served one after another. Handover latency runs from the commit of a release
 * to the commit of the next take (both seen in the store); writes count slot-Lease requests
 * (releases, takes, conflicts) per handover, and separately the waiting-Lease bookkeeping
 * (join + leave) per served node. Fairness is Spearman's rank correlation between the order of
 * need and the order of service. Idle load runs on a fake clock: three simulated hours.
 */
import { HttpKube, resolveKubeconfig } from "../../agent/kube";
import { nullLogger } from "../../agent/log";
import { RebootLock } from "../../agent/lock";
import { FakeClock, discardEvents, systemClock } from "../../agent/ports";
import { SimServer } from "../../agent/sim";
import { type BenchSuite, type Figure, figure, percentiles } from "./types";

const LEASES = "coordination.k8s.io/leases";
const NEED = Date.UTC(2026, 0, 5, 8, 0, 0);

function lockFor(kube: HttpKube, node: string, clock = systemClock): RebootLock {
  return new RebootLock(
    { namespace: "sluice", group: "default", concurrency: 1, nodeName: node, lockTtlMs: 0, headGraceMs: 15_000 },
    { kube, clock, log: nullLogger, events: discardEvents },
  );
}

function spearman(a: number[], b: number[]): number {
  const rank = (xs: number[]) => {
    const order = xs.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
    const r = new Array<number>(xs.length);
    order.forEach(([, i], k) => (r[i] = k));
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  const n = a.length;
  const d2 = ra.reduce((s, x, i) => s + (x - rb[i]) ** 2, 0);
  return n < 2 ? 1 : 1 - (6 * d2) / (n * (n * n - 1));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t0 = performance.now();
const phase = (what: string) => process.env.LOCK_BENCH_DEBUG && process.stderr.write(`lock bench: ${what} at ${Math.round(performance.now() - t0)} ms\n`);

/** N waiters on one slot; `measured` handovers (the first ones) are timed. */
async function handovers(n: number, measured: number): Promise<Figure[]> {
  const server = await new SimServer({ namespaces: ["sluice"], historyLimit: 20_000 }).start();
  const kube = new HttpKube(resolveKubeconfig(server.kubeconfigYaml()));
  const nodes = Array.from({ length: n }, (_, i) => `node-${String(i).padStart(4, "0")}`);
  // Need order is a fixed permutation of start order, so serving in start order would score low.
  const needRank = new Map(nodes.map((node, i) => [node, (i * 7919) % n]));
  for (const node of nodes) server.apply({ apiVersion: "v1", kind: "Node", metadata: { name: node } });
  const holder = lockFor(kube, "holder");
  server.apply({ apiVersion: "v1", kind: "Node", metadata: { name: "holder" } });
  await holder.start();
  await holder.acquire({ needSince: NEED - 1, bootId: "b" });

  phase(`${n}: holder ready`);
  const locks = nodes.map((node) => lockFor(kube, node));
  // Started, then listing the queue too, as an agent does when it is about to queue (a started
  // lock lists only the slots).
  for (let i = 0; i < n; i += 50) await Promise.all(locks.slice(i, i + 50).map((l) => l.start().then(() => l.resume())));
  phase(`${n}: agents started`);
  // The waiting Leases are written before the agents wait, as if they had queued over the past
  // hours: otherwise joining costs n² re-decisions in this one process (on real hosts each agent
  // pays only its own n), which is setup, not what is measured. acquire() finds its Lease as is.
  for (const node of nodes) {
    const at = new Date(NEED + needRank.get(node)! * 1000).toISOString().replace("Z", "000Z");
    server.apply({
      apiVersion: "coordination.k8s.io/v1", kind: "Lease",
      metadata: { name: `sluice-default-wait-${node}`, namespace: "sluice", labels: { "sluice.dev/group": "default", "sluice.dev/role": "waiter" } },
      spec: { holderIdentity: node, acquireTime: at },
    });
  }
  const cached = () => locks.every((l) => l.view().waiters.length === n);
  while (!cached()) await sleep(50);
  phase(`${n}: queue cached`);
  const served: string[] = [];
  let stopAfter = measured;
  const giveUp = new AbortController();
  const runs = locks.map(async (l, i) => {
    const node = nodes[i];
    await l.acquire({ needSince: NEED + needRank.get(node)! * 1000, bootId: "b" }, giveUp.signal);
    served.push(node);
    if (served.length < stopAfter) await l.release();
  });
  const waiters = () => server.store.list(LEASES, "sluice").filter((o) => o.metadata.labels?.["sluice.dev/role"] === "waiter").length;
  while (waiters() < n) await sleep(50);
  await sleep(500); // let every agent see the whole queue

  const releasedAt: number[] = [];
  const latencies: number[] = [];
  let slotWrites = 0;
  const unsubscribe = server.store.subscribe(LEASES, (ev) => {
    if (ev.obj.metadata.labels?.["sluice.dev/role"] !== "slot") return;
    const h = ev.obj.spec?.holderIdentity as string | undefined;
    if (!h) releasedAt.push(performance.now());
    else if (releasedAt.length > latencies.length) latencies.push(performance.now() - releasedAt[releasedAt.length - 1]);
  });
  server.faults.resetCounters();
  phase(`${n}: measuring`);
  await holder.release();
  while (served.length < measured) await sleep(20);
  unsubscribe();
  const c = server.faults.counters();
  slotWrites = (c["update leases"] ?? 0) + (c["create leases"] ?? 0);
  const queueWrites = c["delete leases"] ?? 0; // leaving; joining happened before the measurement
  // Writes of the measured window: `measured` takes and `measured` releases (the first holder's
  // included, the last one's not), attempts that lost a conflict included.
  const perHandover = slotWrites / measured;
  const order = served.slice(0, measured);
  const fairness = spearman(order.map((node) => needRank.get(node)!), order.map((_, k) => k));
  const firstByNeed = [...nodes].sort((x, y) => needRank.get(x)! - needRank.get(y)!).slice(0, measured);
  const exact = firstByNeed.every((node, k) => order[k] === node);
  stopAfter = 0;
  const t = performance.now();
  // The unserved agents give up without tidying the queue: the server is gone by then, which
  // is quicker than 950 deletes fanned out to 950 watchers in this one process.
  await Promise.all([...locks, holder].map((l) => l.stop()));
  await server.stop();
  giveUp.abort();
  await Promise.allSettled(runs);
  phase(`${n}: stopped in ${Math.round(performance.now() - t)} ms`);
  const p = percentiles(latencies);
  return [
    figure(`lock.handover.${n}.p50`, p.p50, "ms", { maxValue: 1000 }),
    figure(`lock.handover.${n}.p95`, p.p95, "ms", { maxValue: 200 }),
    figure(`lock.writes_per_handover.${n}`, perHandover, "writes", { maxValue: 2 }),
    figure(`lock.queue_writes_per_need.${n}`, (queueWrites + measured) / measured, "writes", { goal: "join + leave = 2" }),
    figure(`lock.fairness.${n}`, exact ? fairness : Math.min(fairness, 0.999), "rho", { minValue: 1 }),
  ];
}

/**
 * Locks for three simulated hours. An idle agent suspends its lock after the start-up list (it
 * has no use for the group's events: lock.idle_*). lock.waiting_*: the agents queue behind a
 * holder that keeps its slot; what they ask for is their watches' renewals (two for the two
 * places nearest the head, one further back) and the head's look at the holder's Node every
 * nodeCheckInterval (60 s).
 */
async function idle(agents: number, waiting: boolean): Promise<Figure> {
  const clock = new FakeClock();
  const server = await new SimServer({ namespaces: ["sluice"], clock }).start();
  const kube = new HttpKube(resolveKubeconfig(server.kubeconfigYaml()));
  const locks = Array.from({ length: agents }, (_, i) => lockFor(kube, `idle-${i}`, clock));
  const holder = lockFor(kube, "holder", clock);
  await Promise.all(locks.map((l) => l.start()));
  const stop = new AbortController();
  if (waiting) {
    server.apply({ apiVersion: "v1", kind: "Node", metadata: { name: "holder" } });
    await holder.start();
    await holder.acquire({ needSince: Date.UTC(2026, 0, 5), bootId: "b" });
    locks.forEach((l, i) => void l.acquire({ needSince: Date.UTC(2026, 0, 5) + 1000 * (i + 1), bootId: "b" }, stop.signal).catch(() => {}));
    const queued = () => server.store.list("coordination.k8s.io/leases", "sluice").filter((l) => l.metadata.labels?.["sluice.dev/role"] === "waiter").length;
    while (queued() < agents) await sleep(5);
    await sleep(50);
  } else await Promise.all(locks.map((l) => l.suspend()));
  server.faults.resetCounters();
  const hours = 3;
  for (let m = 0; m < hours * 60; m++) {
    await clock.advance(60_000);
    await sleep(2);
  }
  const total = Object.values(server.faults.counters()).reduce((x, y) => x + y, 0);
  process.stderr.write(`lock: ${agents} agents ${waiting ? "queued" : "idle"} ${hours} h: ${JSON.stringify(server.faults.counters())}\n`);
  stop.abort();
  await Promise.all([...locks, holder].map((l) => l.stop()));
  await server.stop();
  const name = waiting ? "lock.waiting_requests_per_agent_hour" : "lock.idle_requests_per_agent_hour";
  return figure(name, total / agents / hours, "requests", waiting ? { goal: "watch renewals (1 or 2 a waiter) and the head's Node look each minute" } : { maxValue: 1 });
}

const suite: BenchSuite = {
  prefix: "lock",
  async run(only?: string): Promise<Figure[]> {
    // --only lock.handover.100 must not run the 1000 case: compare whole name parts.
    const want = (n: string) => !only || only === "lock" || [`lock.handover.${n}`, `lock.writes_per_handover.${n}`, `lock.queue_writes_per_need.${n}`, `lock.fairness.${n}`, `lock.${n}`].some((f) => f === only || f.startsWith(`${only}.`) || only.startsWith(`${f}.`) || f === only);
    const out: Figure[] = [];
    if (want("100")) out.push(...(await handovers(100, 100)));
    if (want("1000")) out.push(...(await handovers(1000, 50)));
    if (want("idle_requests_per_agent_hour")) out.push(await idle(20, false));
    if (want("waiting_requests_per_agent_hour")) out.push(await idle(20, true));
    return out;
  },
};

export default suite;
