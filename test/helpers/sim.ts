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
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
