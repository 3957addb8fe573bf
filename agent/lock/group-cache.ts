/**
 * The group's Leases as two watched halves, so that a waiter far back in the queue can stop
 * hearing the slots:
 * - the queue: waiting Leases and the pause marker (`role in (waiter,pause)`), watched by every
 *   node that waits or holds;
 * - the slots: everything else in the group (`role notin (waiter,pause)`: the slots, and objects
 *   someone else labelled into the group), watched only while `wide`.
 * The two selectors split the group selector exactly, so a wide cache sees what one watch of the
 * group would. Most Lease writes of a reboot are the holder's (taken, draining, rebooting,
 * recovering, released): a narrow waiter receives none of them, only the queue's joins and leaves.
 */
import type { Logger } from "../log";
import type { Clock } from "../ports/clock";
import type { Kube, V1Lease } from "../kube/types";
import { type CacheChange, type CachedLease, LeaseCache, type LeaseCacheOptions } from "./cache";
import { ROLE_LABEL, groupSelector } from "./names";

export interface GroupCacheOptions extends Omit<LeaseCacheOptions, "labelSelector"> {
  group: string;
}

/** Which half keeps a Lease: the queue's roles, or the slots' (everything else). */
function inQueue(lease: V1Lease): boolean {
  const role = lease.metadata?.labels?.[ROLE_LABEL];
  return role === "waiter" || role === "pause";
}

export class GroupCache {
  readonly queue: LeaseCache;
  readonly slots: LeaseCache;

  constructor(kube: Kube, clock: Clock, log: Logger, options: GroupCacheOptions) {
    const { group, ...rest } = options;
    const base = groupSelector(group);
    this.queue = new LeaseCache(kube, clock, log, { ...rest, labelSelector: `${base},${ROLE_LABEL} in (waiter,pause)` });
    this.slots = new LeaseCache(kube, clock, log, { ...rest, labelSelector: `${base},${ROLE_LABEL} notin (waiter,pause)` });
    this.queue.onChange((change) => this.emit(change));
    this.slots.onChange((change) => this.slotsChanged(change));
  }

  /**
   * Lists and watches the slots, and the queue too unless `queueToo` is false (an agent starting
   * needs to know whether it holds a slot; the queue, a list as long as the fleet, only once it
   * waits: resume() brings it). Resolves once the lists are in.
   */
  async start(signal?: AbortSignal, queueToo = true): Promise<void> {
    this.queue.onStop(signal);
    await Promise.all([queueToo ? this.queue.resume() : undefined, this.slots.start(signal)]);
  }

  /** Whether the slots are being watched: only then are holders and free slots known. */
  get wide(): boolean {
    return this.slots.active;
  }

  /** Stops both watches and forgets everything (an idle node). */
  async suspend(): Promise<void> {
    await Promise.all([this.queue.suspend(), this.slots.suspend()]);
  }

  /** Watches both halves again; resolves once both lists are in. */
  resume(): Promise<void> {
    return Promise.all([this.queue.resume(), this.slots.resume()]).then(() => {});
  }

  /** Stops watching the slots (and forgets them) while the queue stays watched. */
  narrow(): Promise<void> {
    return this.slots.suspend();
  }

  /** Watches the slots again; resolves once their list is in. */
  widen(): Promise<void> {
    return this.slots.resume();
  }

  close(): void {
    this.queue.close();
    this.slots.close();
  }

  async stopped(): Promise<void> {
    await Promise.all([this.queue.stopped(), this.slots.stopped()]);
  }

  get(name: string): CachedLease | undefined {
    return this.queue.get(name) ?? this.slots.get(name);
  }

  all(): CachedLease[] {
    return [...this.queue.all(), ...this.slots.all()];
  }

  /**
   * Changes of either half. After a relist or a suspension of the queue: undefined (anything may
   * have changed). The slots half, which a waiter narrows and widens, reports its relists entry
   * by entry instead: a handful of slots, where a whole new view would cost every far waiter
   * O(queue) each time.
   */
  onChange(listener: (change: CacheChange | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private readonly listeners = new Set<(change: CacheChange | undefined) => void>();
  /** Names the slots half held after its last change, to turn its relists into changes. */
  private readonly slotNames = new Set<string>();

  private emit(change: CacheChange | undefined): void {
    for (const l of [...this.listeners]) l(change);
  }

  private slotsChanged(change: CacheChange | undefined): void {
    if (change) {
      if (change.lease) this.slotNames.add(change.name);
      else this.slotNames.delete(change.name);
      return this.emit(change);
    }
    const now = new Map(this.slots.all().map((e) => [e.lease.metadata?.name ?? "", e.lease] as const));
    for (const name of [...this.slotNames]) {
      if (now.has(name)) continue;
      this.slotNames.delete(name);
      this.emit({ name, lease: undefined });
    }
    for (const [name, lease] of now) {
      this.slotNames.add(name);
      this.emit({ name, lease });
    }
  }

  /** Takes in a Lease this host read or wrote, in the half that watches its kind. */
  upsert(lease: V1Lease): void {
    if (inQueue(lease)) this.queue.upsert(lease);
    else this.slots.upsert(lease);
  }

  forget(name: string): void {
    this.queue.forget(name);
    this.slots.forget(name);
  }

  /** Moves on every change of either half. */
  get version(): number {
    return this.queue.version + this.slots.version;
  }

  /** Requests of both halves (lists and watches), for tests and the request figures. */
  get stats(): { lists: number; watches: number; relists: number } {
    const q = this.queue.stats;
    const s = this.slots.stats;
    return { lists: q.lists + s.lists, watches: q.watches + s.watches, relists: q.relists + s.relists };
  }
}
