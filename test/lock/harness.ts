/**
 * In-process agents against one sim API server: a shared HttpKube (the ServiceAccount's
 * credentials, as every agent's lock uses), Node objects for the agents, an observer that sees
 * every Lease write in the store, and a recorder of Events.
 *
 * Time is fake: the server and every lock share one SimClock that moves only when a test moves it
 * (`run`, `runUntil`, `pass`), timer by timer and only while no request is in flight. So the lock's
 * real durations (headGrace 15 s, nodeGoneGrace 30 s, nodeCheckInterval 60 s) cost no real time,
 * and no outcome depends on how fast the machine answers loopback HTTP.
 */
import type { HttpKube, Kube } from "../../agent/kube";
import { type Logger, nullLogger } from "../../agent/log";
import { RebootLock, type LockOptions } from "../../agent/lock";
import type { Clock, EventRecorder } from "../../agent/ports";
import type { SimServer, SimServerOptions } from "../../agent/sim";
import { LEASES, Lines, RecordedEvents, SimClock, elapse, play, playUntil, quiet, seededRandom, startSim as startSimServer, trackRequests, until } from "../helpers/sim";

export { LEASES, Lines, SimClock, until };
/** The Events recorder under the lock suites' name. */
export const Events = RecordedEvents;

export interface LockSim {
  server: SimServer;
  /** The admin's client, counting requests in flight (`busy`). */
  kube: HttpKube;
  /** The server's clock and every lock's unless a test gives one its own. */
  clock: SimClock;
  /** Whether a request made through `kube` is still unanswered. */
  busy: () => boolean;
}

/** A sim server on a fresh SimClock, with a client whose requests are tracked. */
export async function startSim(options: Omit<SimServerOptions, "clock"> = {}): Promise<LockSim> {
  const clock = new SimClock();
  const { server, kube } = await startSimServer({ ...options, clock });
  const tracked = trackRequests(kube);
  return { server, kube: tracked.kube, clock, busy: tracked.busy };
}

/** Moves the sim's clock until `p` settles; fails after `maxMs` (default 1 h) of fake time. */
export function run<T>(sim: LockSim, p: Promise<T>, maxMs?: number, o: { clock?: SimClock; quantumMs?: number } = {}): Promise<T> {
  return play(o.clock ?? sim.clock, p, { busy: sim.busy, maxMs, quantumMs: o.quantumMs });
}

/** Moves the sim's clock until `cond` holds; fails after `maxMs` (default 1 h) of fake time. */
export function runUntil(sim: LockSim, cond: () => boolean, what: string, maxMs?: number, clock: SimClock = sim.clock): Promise<void> {
  return playUntil(clock, cond, { busy: sim.busy, maxMs, what });
}

/** Lets exactly `ms` of fake time pass, timer by timer. */
export function pass(sim: LockSim, ms: number, clock: SimClock = sim.clock): Promise<void> {
  return elapse(clock, ms, sim.busy);
}

/** Waits in real time until no request is in flight and their consequences have run. */
export function settled(sim: LockSim): Promise<void> {
  return quiet(sim.busy);
}

export function addNode(server: SimServer, name: string): void {
  server.apply({ apiVersion: "v1", kind: "Node", metadata: { name } });
}

export function deleteNode(server: SimServer, name: string): void {
  const cur = server.store.get("/nodes", name);
  if (cur) server.store.write("/nodes", "DELETED", { ...cur, metadata: { ...cur.metadata } });
}

/** A seed per node name, so that each lock's jitter differs from its peers' and from run to run does not. */
function seedOf(node: string): number {
  let h = 2166136261;
  for (const c of node) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

/**
 * A lock with the agent's default durations and seeded jitter, on the sim's clock unless
 * `deps.clock` says otherwise.
 */
export function makeLock(sim: { kube: Kube; clock: Clock }, node: string, over: Partial<LockOptions> = {}, deps: { clock?: Clock; events?: EventRecorder; log?: Logger } = {}): RebootLock {
  return new RebootLock(
    { namespace: "sluice", group: "default", concurrency: 1, nodeName: node, lockTtlMs: 0, random: seededRandom(seedOf(node)), ...over },
    { kube: sim.kube, clock: deps.clock ?? sim.clock, log: deps.log ?? nullLogger, events: deps.events ?? new Events() },
  );
}
/** Sees every committed Lease write (not a watch: nothing can be dropped) and checks the invariant. */
export class Observer {
  readonly holders = new Map<string, string>();
  maxHolders = 0;
  violations: string[] = [];
  readonly served: string[] = [];
  private readonly unsubscribe: () => void;

  constructor(server: SimServer, private readonly slots: number, group = "default") {
    this.unsubscribe = server.store.subscribe(LEASES, (ev) => {
      const labels = ev.obj.metadata.labels ?? {};
      if (labels["sluice.dev/role"] !== "slot" || labels["sluice.dev/group"] !== group) return;
      const name = ev.obj.metadata.name as string;
      const holder = ev.type === "DELETED" ? "" : ((ev.obj.spec?.holderIdentity as string | undefined) ?? "");
      const before = this.holders.get(name) ?? "";
      if (holder) this.holders.set(name, holder);
      else this.holders.delete(name);
      if (holder && holder !== before) this.served.push(holder);
      const all = [...this.holders.values()];
      this.maxHolders = Math.max(this.maxHolders, all.length);
      if (all.length > this.slots) this.violations.push(`${all.length} holders for ${this.slots} slots at rv ${ev.rv}: ${all.join(",")}`);
      if (new Set(all).size !== all.length) this.violations.push(`a node holds two slots at rv ${ev.rv}: ${all.join(",")}`);
      const idx = Number(labels["sluice.dev/slot"]);
      if (!(idx < this.slots)) this.violations.push(`slot ${name} beyond concurrency`);
    });
  }

  stop(): void {
    this.unsubscribe();
  }
}
