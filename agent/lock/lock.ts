/**
 * The reboot semaphore of one group: takes a slot in queue order, renews it, changes its phase,
 * releases it. All state comes from one watched cache (two watches: the queue, and the slots, which
 * a waiter far back in the queue stops watching); every write is optimistic (409: re-read, decide
 * again). The decisions themselves live in decide.ts.
 */
import type { Logger } from "../log";
import type { Clock } from "../ports/clock";
import { SluiceError } from "../ports/errors";
import type { EventRecorder } from "../ports/events";
import { KubeError } from "../kube/errors";
import type { Kube, V1Lease } from "../kube/types";
import type { CacheChange } from "./cache";
import { GroupCache } from "./group-cache";
import { type NodeAbsence, type SlotVerdict, concurrencyMismatches, isNodeGone, isSlotFree, overdueHeads, queueStanding, shouldITry } from "./decide";
import { type GroupView, GroupIndex, validLease } from "./group-view";
import { releasedSlot, renewedSlot, takenSlot, waiterLease } from "./leases";
import { pauseName, slotName, waiterName } from "./names";
import { type LockPhase, type SlotRecord, roleOf } from "./record";
import { isTransient, retryDelayMs } from "./retry";

export interface LockOptions {
  namespace: string;
  group: string;
  concurrency: number;
  nodeName: string;
  /** 0: a held slot never expires. */
  lockTtlMs: number;
  /**
   * A holder whose slot was last confirmed (written, or read back as its own) longer ago than this
   * is treated as not holding: its hold signal fires and `confirmedWithin` says no. Default 30 s,
   * and below lockTtl when there is one (client-go's renewDeadline).
   */
  renewDeadlineMs?: number;
  /** Two 404s for the holder's Node at least this far apart free its slot. Default 30 s. */
  nodeGoneGraceMs?: number;
  /** How often the head of the queue checks that the holders' Nodes still exist. Default 60 s. */
  nodeCheckIntervalMs?: number;
  /** How long free slots may sit untaken before the waiters at the head are judged stale. Default 15 s. */
  headGraceMs?: number;
  /** Server-side timeout of the Lease watch. Default 3600 s. */
  watchTimeoutSeconds?: number;
  /**
   * A waiter far back in the queue, not watching the slots, looks at them anyway when the queue
   * ahead of it has not moved for this long (longer the further back it is). Default 10 min.
   */
  queueStallMs?: number;
  random?: () => number;
}

export interface LockDeps {
  kube: Kube;
  clock: Clock;
  log: Logger;
  events: EventRecorder;
}

export interface AcquireRequest {
  /** Wall-clock ms at which this node started needing the reboot: its place in the queue. */
  needSince: number;
  bootId: string;
  wasUnschedulable?: boolean;
}

export type { LockPhase, SlotRecord };

function validate(o: LockOptions): void {
  const bad = (what: string) => {
    throw new SluiceError("lock-invalid-options", `lock: ${what}`);
  };
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1) bad(`concurrency must be a positive integer, not ${o.concurrency}`);
  if (!o.nodeName) bad("nodeName is empty");
  if (!(o.lockTtlMs >= 0)) bad("lockTtl must not be negative");
  if (o.renewDeadlineMs !== undefined && !(o.renewDeadlineMs > 0)) bad("renewDeadline must be positive");
  if (o.lockTtlMs > 0 && o.renewDeadlineMs !== undefined && o.renewDeadlineMs >= o.lockTtlMs) bad("renewDeadline must be shorter than lockTtl");
  // A renewal every third of the TTL needs a TTL that survives a few slow requests.
  if (o.lockTtlMs > 0 && o.lockTtlMs < 3000) bad(`lockTtl ${o.lockTtlMs} ms is shorter than 3 s`);
  // leaseDurationSeconds is int32: past it the API server answers 400 and the holder could not renew.
  if (Math.ceil(o.lockTtlMs / 1000) > 2 ** 31 - 1) bad(`lockTtl ${o.lockTtlMs} ms is longer than a Lease can say (2147483647 s)`);
}

/** Settles (rejecting with the reason) once `signal` aborts. */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/** Reason for cancelling an internal timer: abort() without one builds an exception with a stack each time, on a hot path. */
const DONE = "done";

export class RebootLock {
  readonly cache: GroupCache;
  private readonly absent = new Map<string, NodeAbsence>();
  private readonly nextNodeCheck = new Map<string, number>();
  /** Waiters this host judged stale, by node, with the waiter Lease version that was judged. */
  private readonly stale = new Map<string, string>();
  private progress = { key: "", at: 0 };
  /** The estimated place from which a narrow waiter, its queue standing still, went to look at the slots. */
  private lookedFrom: number | undefined;
  private readonly warned = new Set<string>();
  private writes: Promise<unknown> = Promise.resolve();
  private renewing: AbortController | undefined;
  private readonly lostListeners = new Set<(slot: SlotRecord) => void>();
  /** Monotonic time of the last write or read that showed this node holding its slot. */
  private confirmedAt = -Infinity;
  /** Fires when the slot this node holds is lost; a new one for each holding. */
  private hold: AbortController | undefined;
  private readonly o: Required<Omit<LockOptions, "random">> & Pick<LockOptions, "random">;

  constructor(options: LockOptions, private readonly deps: LockDeps) {
    validate(options);
    const renewDeadlineMs = options.renewDeadlineMs ?? (options.lockTtlMs > 0 ? Math.min(30_000, Math.floor((options.lockTtlMs * 2) / 3)) : 30_000);
    this.o = { nodeGoneGraceMs: 30_000, nodeCheckIntervalMs: 60_000, headGraceMs: 15_000, watchTimeoutSeconds: 3600, queueStallMs: 600_000, ...options, renewDeadlineMs };
    this.cache = new GroupCache(deps.kube, deps.clock, deps.log, {
      namespace: options.namespace,
      group: options.group,
      watchTimeoutSeconds: this.o.watchTimeoutSeconds,
      random: options.random,
    });
    this.index = new GroupIndex(options.group);
    // First listener of the cache: the view is current before anyone else hears of a change.
    this.cache.onChange((change) => {
      if (change) this.index.set(change.name, this.cache.get(change.name));
      else this.index.reset(this.cache.all());
      // Only slot changes can reveal a misconfigured holder; waiter churn must stay O(1) here.
      const lease = change?.lease;
      if (!lease || roleOf(lease) !== "waiter" || validLease(this.o.group, lease).kind === "foreign") this.warnMismatches();
      if (!lease || roleOf(lease) === "slot") this.checkHold();
    });
  }

  /**
   * Lists and watches the slots; resumes renewing a slot this node already holds (after a
   * restart). The queue is listed when this node queues (acquire).
   */
  async start(signal?: AbortSignal): Promise<void> {
    await this.cache.start(signal, false);
    if (this.heldSlot()) {
      // The list just read shows this node as the holder: that is a confirmation.
      this.confirmed();
      this.startRenewing();
    }
  }

  async stop(): Promise<void> {
    this.renewing?.abort();
    await this.cache.stopped();
  }

  /**
   * Stops watching the group while this node neither waits nor holds (its agent is idle): a fleet
   * of idle nodes then costs the API server no watch and no event fan-out. Refused while a slot is
   * held. acquire() resumes by itself; resume() is for a caller that wants the view back sooner.
   */
  async suspend(): Promise<void> {
    if (this.heldSlot()) return;
    await this.cache.suspend();
  }

  resume(): Promise<void> {
    return this.cache.resume();
  }

  /**
   * Whether the slot was confirmed within `ms` (default renewDeadline): no drain step and no reboot
   * may start otherwise. Confirmations are this host's successful writes of its slot and reads that
   * show it as the holder, timed on its own monotonic clock.
   */
  confirmedWithin(ms: number = this.o.renewDeadlineMs): boolean {
    return this.heldSlot() !== undefined && this.deps.clock.monotonic() - this.confirmedAt < ms;
  }

  /** Monotonic ms of the last confirmation (-Infinity when never). */
  lastConfirmed(): number {
    return this.confirmedAt;
  }

  /**
   * A signal that fires (reason: SluiceError "lock-lost") when the slot this node holds is taken,
   * cleared, deleted, or cannot be renewed for renewDeadline. Already aborted when nothing is held.
   */
  holdSignal(): AbortSignal {
    if (!this.heldSlot()) return AbortSignal.abort(new SluiceError("lock-lost", `${this.o.nodeName} holds no reboot slot of group ${this.o.group}`));
    if (!this.hold || this.hold.signal.aborted) this.hold = new AbortController();
    return this.hold.signal;
  }

  private confirmed(): void {
    this.confirmedAt = this.deps.clock.monotonic();
  }

  private loseHold(why: string): void {
    const hold = this.hold;
    if (!hold || hold.signal.aborted) return;
    this.hold = undefined;
    this.deps.log.warning("lost the reboot slot", { group: this.o.group, why });
    hold.abort(new SluiceError("lock-lost", why));
  }

  /** Fires the hold signal when the cache no longer shows this node as a holder. */
  private checkHold(): void {
    if (this.hold && !this.hold.signal.aborted && !this.heldSlot()) this.loseHold("the slot's Lease no longer names this node as its holder");
  }

  private readonly index: GroupIndex;

  /** The group as this host sees it now: kept up to date with the cache, so read it synchronously. */
  view(): GroupView {
    return this.index.view;
  }

  /** The slot this node holds, by the cache. */
  heldSlot(): SlotRecord | undefined {
    for (const { record } of this.view().slots.values()) if (record.holder === this.o.nodeName) return record;
    return undefined;
  }

  /** Called when a renewal or phase change finds that another node took this node's slot. */
  onLost(listener: (slot: SlotRecord) => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  /**
   * Queues this node and resolves with the slot once it is its turn and the slot is taken.
   * Aborting leaves the queue (the waiting Lease is deleted); `needSince` keeps the place when it
   * comes back.
   */
  async acquire(req: AcquireRequest, signal?: AbortSignal): Promise<SlotRecord> {
    // Resumed after idling; a list that cannot be made (API server away) must not outlive a stop.
    await (signal ? Promise.race([this.cache.resume(), aborted(signal)]) : this.cache.resume());
    signal?.throwIfAborted();
    const held = this.heldSlot();
    if (held) return held;
    let failures = 0;
    this.lookedFrom = undefined;
    try {
      await this.joinQueue(req.needSince, signal);
      for (;;) {
        signal?.throwIfAborted();
        if (!this.cache.wide) {
          const place = this.estimatedPlace();
          if (place < 0) {
            this.deps.log.warning("this node's waiting Lease disappeared; joining the queue again", { group: this.o.group });
            await this.joinQueue(req.needSince, signal);
            continue;
          }
          // Far back: only a move in the queue can bring this node near the head. A queue that
          // stands still for long may hide a stuck head only the slots show: look then too.
          if (place >= this.nearPlaces()) {
            if (await this.waitForChange(this.cache.version, this.stallMs(place), signal, (c) => this.mattersWhenNarrow(c, place))) continue;
            // Expiry is judged by watching a slot not change for lockTtl: stay wide for that,
            // until the queue moves.
            this.lookedFrom = place;
          }
          await (signal ? Promise.race([this.cache.widen(), aborted(signal)]) : this.cache.widen());
          continue;
        }
        const seen = this.cache.version;
        const mine = this.heldSlot();
        if (mine) return await this.tookSlot(mine);
        const plan = await this.plan();
        if (plan.rejoin) {
          // Our waiting Lease is gone (deleted by hand, or lost with the namespace): without it
          // no one counts us in the queue, and we would wait forever. Write it again.
          this.deps.log.warning("this node's waiting Lease disappeared; joining the queue again", { group: this.o.group });
          await this.joinQueue(req.needSince, signal);
          continue;
        }
        if (plan.take) {
          try {
            const got = await this.takeSlot(plan.take.index, plan.take.verdict, req);
            failures = 0;
            if (got) return await this.tookSlot(got);
          } catch (err) {
            const e = err instanceof KubeError ? err : undefined;
            if (!e || !isTransient(e.code)) throw err;
            failures += 1;
            await this.deps.clock.sleep(retryDelayMs(failures, e.retryAfterMs, this.o.random), signal);
          }
          continue;
        }
        if (plan.narrow && this.lookedFrom !== this.estimatedPlace()) {
          this.lookedFrom = undefined;
          await this.cache.narrow();
          continue;
        }
        await this.waitForChange(seen, plan.wakeInMs, signal, plan.farBack ? this.mattersFromFarBack(plan.farBack) : undefined);
      }
    } catch (err) {
      if (signal?.aborted) await this.leaveQueue().catch(() => {});
      throw err;
    }
  }

  /** Marks where the holder is (agent/reboot calls it before each step); throws `lock-lost` if the slot is gone. */
  setPhase(phase: LockPhase, change: { wasUnschedulable?: boolean; bootId?: string } = {}, signal?: AbortSignal): Promise<SlotRecord> {
    return this.writeHeld((cur) => renewedSlot(cur, this.deps.clock.now(), { ...change, phase }), signal);
  }

  /** Renews the slot without a change (the renewal loop; also before a step that must not run without the slot). */
  renew(signal?: AbortSignal): Promise<SlotRecord> {
    return this.writeHeld((cur) => renewedSlot(cur, this.deps.clock.now()), signal);
  }

  /**
   * Clears the holder at once and leaves the queue. Waiting `lockReleaseDelay` is the caller's
   * (agent/reboot persists when the wait began, so a restart does not wait twice).
   */
  async release(): Promise<void> {
    this.renewing?.abort();
    // Handing the slot on is not losing it: nobody is to be told.
    this.hold = undefined;
    await this.serialWrite(async () => {
      for (let attempt = 1; ; attempt++) {
        const held = this.heldSlot();
        if (!held) break;
        const cur = this.cache.get(held.name)!.lease;
        try {
          this.cache.upsert(await this.deps.kube.replaceLease(this.o.namespace, releasedSlot(cur, this.deps.clock.now())));
          this.deps.log.info("released reboot slot", { slot: held.name });
          break;
        } catch (err) {
          await this.recover(err, held.name, attempt);
        }
      }
    });
    await this.leaveQueue();
  }

  // ---- internals ----

  private async tookSlot(slot: SlotRecord): Promise<SlotRecord> {
    this.confirmed();
    this.startRenewing();
    // Off the critical path (not awaited): the queue already ignores nodes that hold a slot, and
    // release() deletes the waiting Lease again should this attempt fail.
    void this.leaveQueue().catch((err: unknown) => this.deps.log.debug("could not leave the queue", { code: (err as KubeError).code }));
    return slot;
  }

  private async plan(): Promise<{ take?: { index: number; verdict: SlotVerdict }; rejoin?: boolean; wakeInMs: number; farBack?: string[]; narrow?: boolean }> {
    const { clock } = this.deps;
    const view = this.view();
    let now = clock.monotonic();
    let wake = Infinity;
    const free: number[] = [];
    const verdicts = new Map<number, SlotVerdict>();
    for (let i = 0; i < this.o.concurrency; i++) {
      const slot = view.slots.get(i);
      const holder = slot?.record.holder ?? "";
      const v = isSlotFree(slot, {
        me: this.o.nodeName,
        lockTtlMs: this.o.lockTtlMs,
        now,
        paused: view.paused !== undefined,
        holderNodeGone: holder !== "" && isNodeGone(this.absent.get(holder), this.o.nodeGoneGraceMs),
        blocked: view.blocked.has(i),
      });
      verdicts.set(i, v);
      if (v.free) free.push(i);
      else if (v.expiresInMs !== undefined) wake = Math.min(wake, v.expiresInMs);
    }
    const staleNodes = this.currentStale(view);
    let standing = queueStanding(this.o.nodeName, view, view.holders, staleNodes, free.length);
    const key = JSON.stringify([free, standing.heads.map((w) => w.node)]);
    if (key !== this.progress.key) this.progress = { key, at: now };
    const overdue = free.length > 0 ? overdueHeads(this.o.nodeName, standing.heads, now - this.progress.at, this.o.headGraceMs) : [];
    if (overdue.length > 0) {
      for (const node of overdue) {
        this.stale.set(node, standing.heads.find((x) => x.node === node)!.resourceVersion);
        staleNodes.add(node);
        this.deps.log.info("waiter at the head of the queue did not take a free slot; stepping past it", { waiter: node, graceMs: this.o.headGraceMs });
        this.reclaimWaiter(node, this.stale.get(node)!);
      }
      this.progress = { key: "", at: now };
      standing = queueStanding(this.o.nodeName, view, view.holders, staleNodes, free.length);
    }
    const d = shouldITry(standing.position, free);
    if (d.kind === "take") return { take: { index: d.slot, verdict: verdicts.get(d.slot)! }, wakeInMs: 0 };
    if (d.reason === "not-queued") return { rejoin: true, wakeInMs: 0 };
    if (d.reason === "not-my-turn") wake = Math.min(wake, Math.max(0, this.progress.at + this.o.headGraceMs - now));
    // Only the waiters next in line spend requests on the holders' Nodes.
    if (d.position >= 0 && d.position < this.o.concurrency && !view.paused) {
      // A holder judged gone just now frees its slot now: decide again at once, not at its next check.
      if (await this.checkHolderNodes(view)) return { wakeInMs: 0 };
      // The checks took time: deadlines computed before them are that much closer.
      const later = clock.monotonic();
      wake = Math.max(0, wake - (later - now));
      now = later;
      for (const at of this.nextNodeCheck.values()) wake = Math.min(wake, Math.max(0, at - now));
    }
    // No slot free and too far back to take one if all were: only a freed or changed slot, or
    // moving up to the first `concurrency`, can change that (expiry is the timer's).
    const farBack = free.length === 0 && d.position >= this.o.concurrency && !view.paused ? this.slotHolders(view) : undefined;
    // Further back still: the slots' events are not worth receiving until the queue moves up.
    if (free.length === 0 && d.position >= this.nearPlaces()) return { wakeInMs: wake, narrow: true };
    return { wakeInMs: wake, ...(farBack ? { farBack } : {}) };
  }

  /**
   * Places from the head within which a waiter watches the slots: twice the concurrency, so that
   * the next `concurrency` waiters are watching even while each holder's waiting Lease is still
   * counted ahead of them (a narrow view cannot tell a holder's waiting Lease from a waiter's).
   */
  private nearPlaces(): number {
    return 2 * this.o.concurrency;
  }

  /** This node's place in the queue as a narrow view shows it: holders unknown, so never too near (-1: not queued). */
  private estimatedPlace(): number {
    const view = this.view();
    return queueStanding(this.o.nodeName, view, view.holders, this.currentStale(view), 0).position;
  }

  /**
   * How long a narrow waiter lets the queue stand still before it looks at the slots: the stall
   * of a queue behind a dead head or a holder gone silent, which only waiters watching the slots
   * resolve. Longer further back (the waiter next behind a stuck head looks first, and its
   * steps unstick the queue for the others), jittered so that a queue does not look all at once.
   * A paused group stands still on purpose: its resume is a queue event.
   */
  private stallMs(place: number): number {
    if (this.view().paused) return Infinity;
    const jitter = 0.9 + 0.2 * (this.o.random ?? Math.random)();
    return Math.round(this.o.queueStallMs * (1 + Math.log2(1 + place / this.nearPlaces())) * jitter);
  }

  /**
   * A narrow waiter re-plans on a relist, on its own Lease, on a pause or resume, and when its
   * place changes: near the head it watches the slots again, and anywhere a queue that moved
   * starts its stall time again (joins behind it change nothing).
   */
  private mattersWhenNarrow(change: CacheChange | undefined, place: number): boolean {
    if (!change || change.name === waiterName(this.o.group, this.o.nodeName)) return true;
    const lease = change.lease;
    if (lease && roleOf(lease) === "pause") return true;
    if (!lease && change.name === pauseName(this.o.group)) return true;
    return this.estimatedPlace() !== place;
  }

  private slotHolders(view: GroupView): string[] {
    return Array.from({ length: this.o.concurrency }, (_, i) => (view.blocked.has(i) ? "\u0000blocked" : (view.slots.get(i)?.record.holder ?? "")));
  }

  /**
   * Which Lease events can matter to a waiter that planned from far back (see plan): in a queue
   * of thousands, most events are other waiters joining behind it or holders renewing, and
   * re-planning on each would cost every waiter O(events) for nothing.
   */
  private mattersFromFarBack(holders: string[]): (change: CacheChange | undefined) => boolean {
    return (change) => {
      if (!change || change.name === waiterName(this.o.group, this.o.nodeName)) return true;
      const lease = change.lease;
      const role = lease ? roleOf(lease) : undefined;
      if (role !== "waiter" && role !== "slot" && lease) return true; // pause marker, foreign objects: rare, re-plan
      const view = this.view();
      const now = this.slotHolders(view);
      if (now.some((h, i) => h !== holders[i])) return true;
      // Same holders: a slot's renewal or phase change moves nobody in the queue.
      if (role === "slot") return false;
      return queueStanding(this.o.nodeName, view, view.holders, this.currentStale(view), 0).position < this.o.concurrency;
    };
  }

  private currentStale(view: GroupView): Set<string> {
    if (this.stale.size > 0) {
      for (const [node, rv] of this.stale) if (view.byNode.get(node)?.resourceVersion !== rv) this.stale.delete(node);
    }
    return new Set(this.stale.keys());
  }

  /** Looks at the holders' Nodes that are due; true when one of them was judged gone by this look. */
  private async checkHolderNodes(view: GroupView): Promise<boolean> {
    const { clock, kube } = this.deps;
    let judgedGone = false;
    const holders = new Set<string>();
    for (let i = 0; i < this.o.concurrency; i++) {
      const h = view.slots.get(i)?.record.holder;
      if (h && h !== this.o.nodeName) holders.add(h);
    }
    for (const h of [...this.nextNodeCheck.keys()]) if (!holders.has(h)) (this.nextNodeCheck.delete(h), this.absent.delete(h));
    for (const h of holders) {
      if (isNodeGone(this.absent.get(h), this.o.nodeGoneGraceMs)) continue;
      if ((this.nextNodeCheck.get(h) ?? 0) > clock.monotonic()) continue;
      try {
        await kube.getNode(h);
        this.absent.delete(h);
        this.nextNodeCheck.set(h, clock.monotonic() + this.o.nodeCheckIntervalMs);
      } catch (err) {
        const now = clock.monotonic();
        if (err instanceof KubeError && err.code === "not-found") {
          const a = this.absent.get(h);
          this.absent.set(h, a ? { ...a, lastMissingAt: now, misses: a.misses + 1 } : { firstMissingAt: now, lastMissingAt: now, misses: 1 });
          this.nextNodeCheck.set(h, now + this.o.nodeGoneGraceMs);
          judgedGone ||= isNodeGone(this.absent.get(h), this.o.nodeGoneGraceMs);
        } else this.nextNodeCheck.set(h, now + retryDelayMs(3, (err as KubeError).retryAfterMs, this.o.random));
      }
    }
    return judgedGone;
  }

  /** Confirms with a fresh GET that `holder`'s Node is gone; clears the verdict when it is back. */
  private async holderStillGone(holder: string): Promise<boolean> {
    try {
      await this.deps.kube.getNode(holder);
    } catch (err) {
      if (err instanceof KubeError && err.code === "not-found") return true;
      throw err; // acquire() backs off on transient errors
    }
    this.deps.log.info("holder's Node is back; not reclaiming its slot", { holder });
    this.absent.delete(holder);
    this.nextNodeCheck.set(holder, this.deps.clock.monotonic() + this.o.nodeCheckIntervalMs);
    return false;
  }

  /** One optimistic take; false when someone else won (the cache then holds what they wrote). */
  private async takeSlot(index: number, verdict: SlotVerdict, req: AcquireRequest): Promise<SlotRecord | undefined> {
    const { kube, clock, log, events } = this.deps;
    const name = slotName(this.o.group, index);
    // A node-gone verdict may be old (the group was paused, or the wake came late): the Node may
    // have registered again meanwhile. Taking a live node's slot is the one mistake the lock must
    // never make, so look once more, right before the take.
    if (verdict.reason === "node-gone" && !(await this.holderStillGone(verdict.holder))) return undefined;
    const cur = verdict.reason === "absent" ? undefined : this.cache.get(name)?.lease;
    const body = takenSlot(this.o.namespace, this.o.group, index, cur, {
      node: this.o.nodeName, phase: "acquired", bootId: req.bootId, wasUnschedulable: req.wasUnschedulable, concurrency: this.o.concurrency, needSince: req.needSince,
    }, clock.now(), this.o.lockTtlMs);
    try {
      const written = cur ? await kube.replaceLease(this.o.namespace, body) : await kube.createLease(this.o.namespace, body);
      this.cache.upsert(written);
    } catch (err) {
      if (!(err instanceof KubeError) || !["conflict", "already-exists", "not-found"].includes(err.code)) throw err;
      await this.reread(name);
      return undefined;
    }
    if (verdict.reason === "node-gone" || verdict.reason === "expired") {
      const why = verdict.reason === "node-gone" ? "its Node object no longer exists" : `its Lease had not changed for lockTtl (${Math.round(this.o.lockTtlMs / 1000)} s) on this host's clock`;
      const message = `took over reboot slot ${name} from ${verdict.holder}: ${why}`;
      log.notice(message, { slot: name, previousHolder: verdict.holder, reason: verdict.reason });
      await events.record({ node: this.o.nodeName, type: "Warning", reason: "RebootSlotReclaimed", message });
      this.absent.delete(verdict.holder);
    } else log.info("took reboot slot", { slot: name });
    return this.heldSlot();
  }

  private async reread(name: string): Promise<void> {
    try {
      this.cache.upsert(await this.deps.kube.getLease(this.o.namespace, name));
      if (this.heldSlot()?.name === name) this.confirmed();
    } catch (err) {
      if (err instanceof KubeError && err.code === "not-found") this.cache.forget(name);
      else throw err;
    }
  }

  /**
   * Handles a failed write of `name`: conflicts re-read, transient errors back off, the rest throw.
   * A conflict whose re-read fails is handled as that read's failure: writing again on the same
   * stale copy would only earn another 409, at once and forever.
   */
  private async recover(err: unknown, name: string, attempt: number, signal?: AbortSignal): Promise<void> {
    if (!(err instanceof KubeError)) throw err;
    if (err.code === "conflict" || err.code === "not-found") {
      try {
        return await this.reread(name);
      } catch (readErr) {
        err = readErr;
        if (!(err instanceof KubeError)) throw err;
      }
    }
    if (!isTransient(err.code)) throw err;
    await this.deps.clock.sleep(retryDelayMs(attempt, err.retryAfterMs, this.o.random), signal);
  }

  private serialWrite<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writes.then(fn, fn);
    this.writes = run.catch(() => {});
    return run;
  }

  private writeHeld(change: (cur: V1Lease) => V1Lease, signal?: AbortSignal): Promise<SlotRecord> {
    return this.serialWrite(async () => {
      for (let attempt = 1; ; attempt++) {
        signal?.throwIfAborted();
        const held = this.heldSlot();
        if (!held) throw new SluiceError("lock-not-held", `${this.o.nodeName} holds no reboot slot of group ${this.o.group}`);
        try {
          this.cache.upsert(await this.deps.kube.replaceLease(this.o.namespace, change(this.cache.get(held.name)!.lease)));
          this.confirmed();
          return this.heldSlot()!;
        } catch (err) {
          await this.recover(err, held.name, attempt, signal);
          if (!this.heldSlot()) {
            const now = this.cache.get(held.name)?.lease.spec?.holderIdentity ?? "";
            this.deps.log.error("lost the reboot slot to another node", { slot: held.name, holder: now });
            for (const l of this.lostListeners) l(held);
            this.loseHold(`reboot slot ${held.name} is now held by ${now || "nobody"}`);
            throw new SluiceError("lock-lost", `reboot slot ${held.name} is now held by ${now || "nobody"}`);
          }
        }
      }
    });
  }

  private startRenewing(): void {
    if (this.o.lockTtlMs <= 0 || (this.renewing && !this.renewing.signal.aborted)) return;
    const stop = (this.renewing = new AbortController());
    const every = Math.max(1000, Math.floor(this.o.lockTtlMs / 3));
    void (async () => {
      while (!stop.signal.aborted) {
        await this.deps.clock.sleep(every, stop.signal).catch(() => {});
        if (stop.signal.aborted || !this.heldSlot()) break;
        await this.renew(stop.signal).catch((err: unknown) => stop.signal.aborted || this.deps.log.warning("could not renew the reboot slot", { code: (err as SluiceError).code }));
      }
    })();
    // client-go's renewDeadline, on its own timer: a renewal stuck in retries must not keep a
    // holder believing it holds after its peers may have reclaimed the slot.
    void (async () => {
      while (!stop.signal.aborted && this.heldSlot()) {
        const due = this.confirmedAt + this.o.renewDeadlineMs - this.deps.clock.monotonic();
        if (due <= 0) {
          this.loseHold(`the slot could not be renewed for ${Math.round(this.o.renewDeadlineMs / 1000)} s`);
          break;
        }
        await this.deps.clock.sleep(due, stop.signal).catch(() => {});
      }
    })();
  }

  private async joinQueue(needSince: number, signal?: AbortSignal): Promise<void> {
    const name = waiterName(this.o.group, this.o.nodeName);
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      const cur = this.cache.get(name)?.lease;
      const at = cur?.spec?.acquireTime ? new Date(cur.spec.acquireTime as Date | string).getTime() : undefined;
      // Only a valid waiting Lease counts: one the queue ignores (labels lost, say) is rewritten,
      // or plan() would send us back here at once, forever.
      if (cur && at === needSince && cur.spec?.holderIdentity === this.o.nodeName && validLease(this.o.group, cur).kind === "waiter") return;
      const body = waiterLease(this.o.namespace, this.o.group, this.o.nodeName, needSince, cur);
      try {
        this.cache.upsert(cur ? await this.deps.kube.replaceLease(this.o.namespace, body) : await this.deps.kube.createLease(this.o.namespace, body));
        this.deps.log.info("waiting for a reboot slot", { group: this.o.group, needSince: new Date(needSince).toISOString() });
        return;
      } catch (err) {
        if (err instanceof KubeError && err.code === "already-exists") await this.reread(name);
        else await this.recover(err, name, attempt);
      }
    }
  }

  /**
   * A waiter that let a free slot sit for headGrace is most likely gone for good (its host was
   * replaced, its agent removed): delete its waiting Lease, so that it costs the queue one grace
   * once instead of once per observer and per freed slot. The delete carries the version that was
   * judged, so a waiter that wrote meanwhile keeps its Lease; one that is alive after all sees its
   * Lease gone and queues again with the same needSince, keeping its place.
   */
  private reclaimWaiter(node: string, resourceVersion: string): void {
    void this.deps.kube.deleteLease(this.o.namespace, waiterName(this.o.group, node), resourceVersion).then(
      () => this.deps.log.info("removed the waiting Lease of a waiter that did not take a free slot", { waiter: node }),
      (err: unknown) => this.deps.log.debug("could not remove a stale waiting Lease", { waiter: node, code: (err as KubeError).code }),
    );
  }

  private async leaveQueue(): Promise<void> {
    const name = waiterName(this.o.group, this.o.nodeName);
    if (!this.cache.queue.active) {
      // Started holding (a restart mid-reboot) without listing the queue: this node's own waiting
      // Lease, if one was left, goes by name; nobody else writes it.
      await this.deps.kube.deleteLease(this.o.namespace, name).catch((err: unknown) => {
        if (!(err instanceof KubeError && err.code === "not-found")) throw err;
      });
      return;
    }
    for (let attempt = 1; attempt <= 5; attempt++) {
      const cur = this.cache.get(name);
      if (!cur) return;
      try {
        await this.deps.kube.deleteLease(this.o.namespace, name, cur.lease.metadata?.resourceVersion);
        this.cache.forget(name);
        return;
      } catch (err) {
        if (err instanceof KubeError && err.code === "not-found") return this.cache.forget(name);
        await this.recover(err, name, attempt);
      }
    }
  }

  /** Resolves true on a change that matters, false when `ms` ran out first. */
  private waitForChange(seen: number, ms: number, signal?: AbortSignal, matters?: (change: CacheChange | undefined) => boolean): Promise<boolean> {
    // A fake clock resolves even a zero sleep only when advanced: do not ask it for one.
    if (this.cache.version !== seen) return Promise.resolve(true);
    if (ms <= 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      const timer = new AbortController();
      const finish = (err: unknown, changed: boolean) => {
        off();
        timer.abort(DONE);
        signal?.removeEventListener("abort", onAbort);
        if (err !== undefined) reject(err);
        else resolve(changed);
      };
      const onAbort = () => finish(signal?.reason ?? new Error("aborted"), false);
      const off = this.cache.onChange((change) => (!matters || matters(change)) && finish(undefined, true));
      signal?.addEventListener("abort", onAbort, { once: true });
      if (Number.isFinite(ms)) this.deps.clock.sleep(ms, timer.signal).then(() => finish(undefined, false), () => {});
    });
  }

  private warnMismatches(): void {
    const slots = [...this.view().slots.values()].map((s) => s.record);
    for (const s of concurrencyMismatches(slots, this.o.concurrency)) {
      const k = `${s.holder}/${s.concurrency}`;
      if (this.warned.has(k)) continue;
      this.warned.add(k);
      this.deps.log.warning("a holder of this group is configured with another concurrency; every agent of a group must agree", {
        slot: s.name, holder: s.holder, theirs: s.concurrency, ours: this.o.concurrency,
      });
    }
    for (const f of this.view().foreign) {
      const k = `foreign/${f.name}/${f.problem}`;
      if (this.warned.has(k) || this.warned.size > 10_000) continue;
      this.warned.add(k);
      this.deps.log.warning(`Lease ${f.name} in the lock's namespace is not sluice's and is left alone: it ${f.problem}`, {
        lease: f.name, ...(f.blocksSlot !== undefined ? { blocksSlot: f.blocksSlot } : {}),
      });
    }
    for (const s of slots) {
      if (s.index >= this.o.concurrency && s.holder && !this.warned.has(s.name)) {
        this.warned.add(s.name);
        this.deps.log.warning("a slot beyond this agent's concurrency is held; more nodes may reboot at once than configured here", { slot: s.name, holder: s.holder });
      }
    }
  }
}
