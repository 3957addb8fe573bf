/**
 * A local copy of the group's Leases, fed by one list and one long watch (an informer in
 * miniature). Each entry remembers when this host last saw its record change, on the local
 * monotonic clock, which is all expiry is ever judged by.
 */
import type { Logger } from "../log";
import type { Clock } from "../ports/clock";
import { errorMessage } from "../ports/errors";
import { KubeError } from "../kube/errors";
import type { Kube, V1Lease, Watch } from "../kube/types";
import { recordKey } from "./record";
import { retryDelayMs } from "./retry";

export interface CachedLease {
  lease: V1Lease;
  key: string;
  observedAt: number;
}

export interface LeaseCacheOptions {
  namespace: string;
  labelSelector: string;
  /**
   * Server-side watch timeout. Every re-watch is a request, so it is long (the idle budget is
   * 2 requests an hour); bookmarks keep the resume point fresh meanwhile. Jittered ±10 %.
   */
  watchTimeoutSeconds?: number;
  random?: () => number;
}

/** Numeric resourceVersions (etcd revisions) order writes; anything else is taken as newer. */
function isOlder(candidate: string | undefined, current: string | undefined): boolean {
  if (!candidate || !current || !/^\d+$/.test(candidate) || !/^\d+$/.test(current)) return false;
  return BigInt(candidate) < BigInt(current);
}

/** One entry changed: `lease` is its new content, undefined when it was deleted. */
export interface CacheChange {
  name: string;
  lease: V1Lease | undefined;
}

export class LeaseCache {
  private readonly entries = new Map<string, CachedLease>();
  private readonly listeners = new Set<(change: CacheChange | undefined) => void>();
  private resourceVersion = "";
  /** The current list-and-watch, while the cache runs. */
  private running: { stop: AbortController; loop: Promise<void>; synced: Promise<void> } | undefined;
  /** A suspension still winding down: the next run starts after it. */
  private suspending: Promise<void> = Promise.resolve();
  private closed = false;
  private watch: Watch | undefined;
  /** Requests this cache made (lists and watches), for tests and the idle figure. */
  readonly stats = { lists: 0, watches: 0, relists: 0 };

  constructor(
    private readonly kube: Kube,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly options: LeaseCacheOptions,
  ) {}

  /** Starts listing and watching; resolves once the first list is in (or the cache is closed). */
  start(signal?: AbortSignal): Promise<void> {
    this.onStop(signal);
    return this.resume();
  }

  /** Closes the cache when `signal` aborts, without starting it. */
  onStop(signal?: AbortSignal): void {
    signal?.addEventListener("abort", () => this.close(), { once: true });
  }

  /** Whether the cache is listing and watching (not suspended, not closed). */
  get active(): boolean {
    return this.running !== undefined;
  }

  /**
   * Stops watching and forgets every entry (a suspended cache shows an empty group, never a stale
   * one), until resume(). An idle agent has no use for its group's Lease events.
   */
  suspend(): Promise<void> {
    const run = this.running;
    if (!run) return this.suspending;
    this.running = undefined;
    run.stop.abort();
    this.watch?.stop();
    // A resume meanwhile starts its list only after this: the clearing never hides a fresh list.
    this.suspending = run.loop.then(() => {
      this.entries.clear();
      this.resourceVersion = "";
      this.emit();
    });
    return this.suspending;
  }

  /** Lists and watches again after suspend(); resolves once the list is in (at once when running). */
  resume(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.running) return this.running.synced;
    const stop = new AbortController();
    let ready!: () => void;
    const synced = new Promise<void>((r) => (ready = r));
    const loop = this.suspending.then(() => this.run(stop.signal, ready)).finally(ready);
    this.running = { stop, loop, synced };
    return synced;
  }

  close(): void {
    this.closed = true;
    this.running?.stop.abort();
    this.watch?.stop();
  }

  async stopped(): Promise<void> {
    const run = this.running;
    this.close();
    await run?.loop;
    await this.suspending;
  }

  get(name: string): CachedLease | undefined {
    return this.entries.get(name);
  }

  all(): CachedLease[] {
    return [...this.entries.values()];
  }

  /** Called after every change with what changed (undefined after a relist: anything may have); returns the unsubscribe function. */
  onChange(listener: (change: CacheChange | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Takes in a Lease read or written by this host, so its next decision needs no watch event. */
  upsert(lease: V1Lease): void {
    const name = lease.metadata?.name ?? "";
    const cur = this.entries.get(name);
    if (cur && isOlder(lease.metadata?.resourceVersion, cur.lease.metadata?.resourceVersion)) return;
    const key = recordKey(lease);
    this.entries.set(name, { lease, key, observedAt: cur && cur.key === key ? cur.observedAt : this.clock.monotonic() });
    this.emit({ name, lease });
  }

  forget(name: string): void {
    if (this.entries.delete(name)) this.emit({ name, lease: undefined });
  }

  /** Increments on every change: lets a waiter tell whether anything happened since it looked. */
  version = 0;

  private emit(change?: CacheChange): void {
    this.version += 1;
    for (const l of [...this.listeners]) l(change);
  }

  private async run(stop: AbortSignal, ready: () => void): Promise<void> {
    let failures = 0;
    let needList = true;
    while (!stop.aborted) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
          ready();
        }
        const began = this.clock.monotonic();
        await this.watchOnce(stop);
        // A server that keeps closing watches at once must not turn this loop into a busy one;
        // the pause stays short, since a waiter is blind while it lasts.
        if (this.clock.monotonic() - began < 1000) {
          failures += 1;
          await this.clock.sleep(Math.min(1000, retryDelayMs(failures, undefined, this.options.random)), stop).catch(() => {});
        } else failures = 0;
      } catch (err) {
        if (stop.aborted) break;
        const e = err instanceof KubeError ? err : undefined;
        if (e?.code === "gone") {
          needList = true;
          // One 410 is routine (the watch window moved on) and is answered with a list at once;
          // a server that answers every watch so must not turn this into a loop of lists.
          failures += 1;
          if (failures > 1) await this.clock.sleep(Math.min(5000, retryDelayMs(failures - 1, undefined, this.options.random)), stop).catch(() => {});
          continue;
        }
        failures += 1;
        const delay = retryDelayMs(failures, e?.retryAfterMs, this.options.random);
        // The server's words are kept (an apiserver warming up answers 403 with a reason); a
        // streak that does not clear is a person's business: said once at warning.
        const fields = { code: e?.code ?? "internal", error: errorMessage(err), delayMs: delay };
        if (failures === 3) this.log.warning("the Lease watch keeps failing; retrying", fields);
        else this.log.debug("lease watch failed; retrying", fields);
        await this.clock.sleep(delay, stop).catch(() => {});
      }
    }
  }

  private async relist(): Promise<void> {
    this.stats.lists += 1;
    const list = await this.kube.listLeases(this.options.namespace, this.options.labelSelector);
    const seen = new Set<string>();
    const now = this.clock.monotonic();
    for (const lease of list.items) {
      const name = lease.metadata?.name ?? "";
      seen.add(name);
      const key = recordKey(lease);
      const cur = this.entries.get(name);
      this.entries.set(name, { lease, key, observedAt: cur && cur.key === key ? cur.observedAt : now });
    }
    for (const name of [...this.entries.keys()]) if (!seen.has(name)) this.entries.delete(name);
    this.resourceVersion = list.resourceVersion;
    this.emit();
  }

  private async watchOnce(stop: AbortSignal): Promise<void> {
    const base = this.options.watchTimeoutSeconds ?? 3600;
    const jitter = 0.9 + 0.2 * (this.options.random ?? Math.random)();
    this.stats.watches += 1;
    this.watch = await this.kube.watchLeases(
      this.options.namespace,
      { resourceVersion: this.resourceVersion, labelSelector: this.options.labelSelector, allowBookmarks: true, timeoutSeconds: Math.max(1, Math.round(base * jitter)), signal: stop },
      (type, lease) => {
        const rv = lease.metadata?.resourceVersion;
        if (rv) this.resourceVersion = rv;
        if (type === "BOOKMARK") return;
        const name = lease.metadata?.name ?? "";
        if (type === "DELETED") this.forget(name);
        else this.upsert(lease);
      },
    );
    await this.watch.done;
  }
}
