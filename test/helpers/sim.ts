/**
 * The one harness every suite that talks to the sim shares: starting a SimServer, the Kube client
 * for it (built in kubeFor alone, so swapping the client is a one-line change), recording Events,
 * capturing logs, and waiting — by polling a condition, or by moving a FakeClock while loopback
 * I/O completes. Nothing here sleeps to prove that something did not happen.
 */
import type { HttpKube } from "../../agent/kube";
import { simKube } from "./kube";
import { Logger } from "../../agent/log";
import { type EventRecorder, FakeClock, type NodeEvent } from "../../agent/ports";
import { SimServer } from "../../agent/sim";

export const LEASES = "coordination.k8s.io/leases";

/** The Kube port the agent would use against `server`. */
export function kubeFor(server: SimServer): HttpKube {
  return simKube(server);
}

export async function startSim(options: ConstructorParameters<typeof SimServer>[0] = {}): Promise<{ server: SimServer; kube: HttpKube }> {
  const server = await new SimServer({ namespaces: ["sluice"], ...options }).start();
  return { server, kube: kubeFor(server) };
}

export class RecordedEvents implements EventRecorder {
  readonly list: NodeEvent[] = [];
  async record(e: NodeEvent): Promise<void> {
    this.list.push(e);
  }
  /** The same list under the name the lock suites use. */
  get seen(): NodeEvent[] {
    return this.list;
  }
  reasons(): string[] {
    return this.list.map((e) => e.reason);
  }
}

/** A debug-level logger that keeps its lines. */
export class Lines {
  readonly lines: string[] = [];
  readonly logger: Logger;
  constructor(now?: () => number) {
    this.logger = new Logger({ sink: { write: (l: string) => this.lines.push(l) }, level: "debug", ...(now ? { now } : {}) });
  }
  matching(re: RegExp): string[] {
    return this.lines.filter((l) => re.test(l));
  }
}

/** Polls `cond` (real loopback I/O needs real time to complete) until it holds, or fails. */
export async function until(cond: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Moves the fake clock in steps, letting loopback I/O finish between steps, until `p` settles. */
export async function drive<T>(clock: FakeClock, p: Promise<T>, o: { stepMs?: number; maxMs?: number } = {}): Promise<T> {
  let settled = false;
  const done = p.finally(() => (settled = true));
  done.catch(() => {});
  const step = o.stepMs ?? 100;
  const max = o.maxMs ?? 3_600_000;
  for (let t = 0; !settled && t <= max; t += step) {
    await new Promise((r) => setTimeout(r, 3));
    if (!settled) await clock.advance(step);
  }
  return done;
}

/** A seeded pseudo-random source (mulberry32): tests that need noise get the same noise each run. */
export { seeded as seededRandom } from "../../agent/sim/fleet/random";

/**
 * A FakeClock that knows when its next sleeper is due, so a test can move time timer by timer
 * (`elapse`, `play`) instead of in fixed steps: a 30-minute wait costs as much as a 30 ms one.
 */
export class SimClock extends FakeClock {
  /** Milliseconds until the next sleeper is due (0 when one is due now); undefined when none sleeps. */
  nextDueIn(): number | undefined {
    const due = this.nextDue();
    return due === undefined || !Number.isFinite(due) ? undefined : Math.max(0, due - this.monotonic());
  }
}

/**
 * Wraps a Kube port so that a test can tell whether any request is in flight (`busy`). A watch
 * counts until its stream is open, not while it streams. Fake time is moved only when nothing is
 * in flight, so a request never sees more time pass than the code under test allowed it.
 */
export function trackRequests<K extends object>(kube: K): { kube: K; busy: () => boolean } {
  let inFlight = 0;
  const wrapped = new Proxy(kube, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        const res = (v as (...a: unknown[]) => unknown).apply(target, args);
        if (!(res instanceof Promise)) return res;
        inFlight += 1;
        const done = () => void (inFlight -= 1);
        res.then(done, done);
        return res;
      };
    },
  });
  return { kube: wrapped, busy: () => inFlight > 0 };
}

const macrotask = () => new Promise<void>((r) => setImmediate(r));
const realMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Waits (in real time) until no request is in flight and the answers' consequences have run:
 * promise chains, and watch events already on their way over loopback. The sim writes a change's
 * watch events (flushed on setImmediate) before the write's answer reaches its client, so they
 * are readable by then: a few event-loop turns deliver them. While requests are in flight it
 * polls every millisecond.
 */
export async function quiet(busy: () => boolean = () => false, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  for (;;) {
    for (let i = 0; i < 3; i++) await macrotask();
    if (!busy()) return;
    await realMs(1);
    if (Date.now() - start > timeoutMs) throw new Error("requests still in flight after 10 s of real time");
  }
}

/**
 * Moves `clock` forward by `ms`, waking sleepers one due time at a time and letting the I/O each
 * wake-up starts finish before the next (what a real clock gives code whose requests are fast).
 */
export async function elapse(clock: SimClock, ms: number, busy?: () => boolean): Promise<void> {
  const target = clock.monotonic() + ms;
  await quiet(busy);
  for (;;) {
    const next = clock.nextDueIn();
    const left = target - clock.monotonic();
    if (next === undefined || next > left) break;
    await clock.advance(next);
    await quiet(busy);
  }
  await clock.advance(target - clock.monotonic());
  await quiet(busy);
}

export interface PlayOptions {
  /** Whether requests are in flight (trackRequests): time stands still until they are answered. */
  busy?: () => boolean;
  /** Fake time after which to give up (default 1 h). */
  maxMs?: number;
  /**
   * Each step moves at least this far (default 0: exactly to the next timer), waking every timer
   * due within it in order without I/O in between: coarser, and far fewer steps for a suite with
   * thousands of timers whose exact interleaving it does not assert.
   */
  quantumMs?: number;
}

/**
 * Moves `clock` timer by timer until `cond` holds; fails when `maxMs` of fake time passed without
 * (a lock test's wait is bounded by its durations: not getting there within them is the bug).
 */
export async function playUntil(clock: SimClock, cond: () => boolean, o: PlayOptions & { what?: string } = {}): Promise<void> {
  const maxMs = o.maxMs ?? 3_600_000;
  const end = clock.monotonic() + maxMs;
  await quiet(o.busy);
  while (!cond()) {
    const next = clock.nextDueIn();
    if (next === undefined || clock.monotonic() + next > end) {
      throw new Error(`${o.what ?? "condition"} still not reached after ${maxMs} ms of fake time${next === undefined ? " (nothing sleeps on the clock)" : ""}`);
    }
    await clock.advance(Math.min(Math.max(next, o.quantumMs ?? 0), end - clock.monotonic()));
    await quiet(o.busy);
  }
}

/** Moves `clock` timer by timer until `p` settles (see playUntil); resolves or rejects as `p` does. */
export async function play<T>(clock: SimClock, p: Promise<T>, o: PlayOptions = {}): Promise<T> {
  let settled = false;
  const done = p.finally(() => (settled = true));
  done.catch(() => {});
  await playUntil(clock, () => settled, { ...o, what: "the promise" });
  return done;
}
