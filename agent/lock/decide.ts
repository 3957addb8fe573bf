/**
 * The lock's decisions as pure functions of what this host observed (records, the local
 * monotonic times at which they last changed, node existence checks), the configuration and the
 * local monotonic now. No other host's timestamp is ever compared with a local clock here.
 */
import type { SlotRecord, WaiterRecord } from "./record";

export interface Observed<T> {
  record: T;
  /** Local monotonic ms at which this host last saw the record change (client-go's observedTime). */
  observedAt: number;
}

/** GET node → 404 bookkeeping for one holder, on the local monotonic clock. */
export interface NodeAbsence {
  firstMissingAt: number;
  lastMissingAt: number;
  misses: number;
}

/** Gone means two 404s at least `graceMs` apart, so one odd answer never frees a slot. */
export function isNodeGone(absence: NodeAbsence | undefined, graceMs: number): boolean {
  return absence !== undefined && absence.misses >= 2 && absence.lastMissingAt - absence.firstMissingAt >= graceMs;
}

export type SlotVerdict =
  | { free: true; reason: "absent" | "empty" | "node-gone" | "expired"; holder: string }
  | { free: false; reason: "held" | "mine" | "paused" | "foreign"; holder: string; expiresInMs?: number };

export interface SlotContext {
  me: string;
  /** 0: never expires. */
  lockTtlMs: number;
  now: number;
  paused: boolean;
  /** Whether the holder's Node is known to be gone (see isNodeGone). */
  holderNodeGone: boolean;
  /** A Lease that is not sluice's occupies the slot's name (group-view.ts): never free, never fought over. */
  blocked?: boolean;
}

/**
 * May this host take `slot` now? An absent Lease is a free slot (created on demand). Paused
 * groups take no new holders, not even over a vanished node, since reclaiming is taking.
 */
export function isSlotFree(slot: Observed<SlotRecord> | undefined, ctx: SlotContext): SlotVerdict {
  const holder = slot?.record.holder ?? "";
  if (ctx.blocked) return { free: false, reason: "foreign", holder: "" };
  if (holder !== "" && holder === ctx.me) return { free: false, reason: "mine", holder };
  if (ctx.paused) return { free: false, reason: "paused", holder };
  if (!slot) return { free: true, reason: "absent", holder };
  if (holder === "") return { free: true, reason: "empty", holder };
  if (ctx.holderNodeGone) return { free: true, reason: "node-gone", holder };
  // Expiry needs both sides: this observer's lockTtl, and a holder that promised to renew (its
  // own lockTtl in leaseDurationSeconds). A holder configured with lockTtl 0 never renews, so an
  // observer configured with a TTL must not reclaim its slot mid-drain; and of two TTLs the longer
  // one counts, so a mixed fleet never expires a slot sooner than its holder expects.
  if (ctx.lockTtlMs > 0 && slot.record.ttlMs !== undefined) {
    const ttl = Math.max(ctx.lockTtlMs, slot.record.ttlMs);
    const unchangedFor = ctx.now - slot.observedAt;
    if (unchangedFor >= ttl) return { free: true, reason: "expired", holder };
    return { free: false, reason: "held", holder, expiresInMs: ttl - unchangedFor };
  }
  return { free: false, reason: "held", holder };
}

/**
 * The fair order: earliest need first; the API server's creation time, then the node name,
 * break ties so every agent computes the same order from the same cache. A total order: no two
 * waiters of a group share a node.
 */
export function compareWaiters(a: WaiterRecord, b: WaiterRecord): number {
  return a.needSince - b.needSince || a.createdAt - b.createdAt || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0);
}

/** Nodes that hold a slot are not waiting, whatever their waiting Lease still says. */
export function queueOrder(waiters: readonly WaiterRecord[], holders: ReadonlySet<string>): WaiterRecord[] {
  return waiters.filter((w) => w.node !== "" && !holders.has(w.node)).sort(compareWaiters);
}

/** A group's waiting Leases kept in queue order, and by node (GroupView is one). */
export interface WaiterQueue {
  /** Every waiter, in queue order (compareWaiters), holders and stale ones included. */
  readonly waiters: readonly WaiterRecord[];
  readonly byNode: ReadonlyMap<string, WaiterRecord>;
}

/** A WaiterQueue from records in any order (a list, a test); the cache keeps its own up to date. */
export function waiterQueue(records: readonly WaiterRecord[]): WaiterQueue {
  const byNode = new Map<string, WaiterRecord>();
  for (const w of records) if (w.node !== "") byNode.set(w.node, w);
  return { waiters: [...byNode.values()].sort(compareWaiters), byNode };
}

/** Index at which `w` stands or would stand in `sorted` (binary search by compareWaiters). */
export function queueIndex(sorted: readonly WaiterRecord[], w: WaiterRecord): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareWaiters(sorted[mid]!, w) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface Standing {
  /** My index among the live waiters (-1: not queued). */
  position: number;
  /** The first `k` live waiters, in order. */
  heads: WaiterRecord[];
  /** How many live waiters there are. */
  live: number;
}

/**
 * Where `me` stands among the live waiters (not holding a slot, not judged stale; never myself
 * judged stale), and who the first k are: the same answer as queueOrder without a sort or a pass
 * over the queue — O(log n + holders + stale + k) — because every waiter computes it on every
 * Lease event, and a simulated fleet runs thousands of waiters in one process.
 */
export function queueStanding(me: string, queue: WaiterQueue, holders: ReadonlySet<string>, stale: ReadonlySet<string>, k: number): Standing {
  const out = (w: WaiterRecord) => holders.has(w.node) || (w.node !== me && stale.has(w.node));
  // The waiters that do not count, each once: holders, then the stale that are not holders.
  let gone = 0;
  let goneBefore = 0;
  const mine = queue.byNode.get(me);
  const skipped = (node: string) => {
    const w = queue.byNode.get(node);
    if (!w) return;
    gone += 1;
    if (mine && compareWaiters(w, mine) < 0) goneBefore += 1;
  };
  for (const h of holders) skipped(h);
  for (const s of stale) if (s !== me && !holders.has(s)) skipped(s);
  const position = mine && !holders.has(me) ? queueIndex(queue.waiters, mine) - goneBefore : -1;
  const heads: WaiterRecord[] = [];
  for (const w of queue.waiters) {
    if (heads.length >= k) break;
    if (!out(w)) heads.push(w);
  }
  return { position, heads, live: queue.waiters.length - gone };
}

export type TryDecision =
  | { kind: "take"; slot: number }
  | { kind: "wait"; reason: "not-queued" | "no-free-slot" | "not-my-turn"; position: number };

/**
 * With k slots free, the first k live waiters each try one, the i-th waiter the i-th free slot,
 * so that agreeing observers never collide and nobody else writes: no thundering herd.
 */
export function shouldITry(position: number, freeSlots: readonly number[]): TryDecision {
  if (position < 0) return { kind: "wait", reason: "not-queued", position };
  if (freeSlots.length === 0) return { kind: "wait", reason: "no-free-slot", position };
  if (position < freeSlots.length) return { kind: "take", slot: freeSlots[position] };
  return { kind: "wait", reason: "not-my-turn", position };
}

/**
 * Heads of the queue that let free slots sit for `headGraceMs` since the last progress are
 * judged stale (crashed, stopped, node deleted) by this observer, so the next waiters step up.
 * A stale mark lasts until the waiter's Lease changes; a stale waiter that is alive still takes
 * a slot when it can (it never marks itself), at worst one conflict.
 */
export function overdueHeads(me: string, heads: readonly WaiterRecord[], sinceProgressMs: number, headGraceMs: number): string[] {
  if (sinceProgressMs < headGraceMs) return [];
  return heads.map((w) => w.node).filter((n) => n !== me);
}

/** Holders whose configured concurrency differs from ours: surfaced, never acted upon. */
export function concurrencyMismatches(slots: readonly SlotRecord[], concurrency: number): SlotRecord[] {
  return slots.filter((s) => s.holder !== "" && s.concurrency !== undefined && s.concurrency !== concurrency);
}

/** Phases in which taking the slot away would let another node disrupt the fleet concurrently. */
export function isBusyPhase(phase: SlotRecord["phase"]): boolean {
  return phase === "draining" || phase === "rebooting";
}
