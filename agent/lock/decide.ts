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
 * break ties so every agent computes the same order from the same cache. Nodes that hold a slot
 * are not waiting, whatever their waiting Lease still says.
 */
export function queueOrder(waiters: readonly WaiterRecord[], holders: ReadonlySet<string>): WaiterRecord[] {
  return waiters
    .filter((w) => w.node !== "" && !holders.has(w.node))
    .sort((a, b) => a.needSince - b.needSince || a.createdAt - b.createdAt || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
}

function before(a: WaiterRecord, b: WaiterRecord): boolean {
  if (a.needSince !== b.needSince) return a.needSince < b.needSince;
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt;
  return a.node < b.node;
}

export interface Standing {
  /** My index among the live waiters (-1: not queued). */
  position: number;
  /** The first `k` live waiters, in order. */
  heads: WaiterRecord[];
}

/**
 * Where `me` stands among the live waiters (not holding a slot, not judged stale; never myself
 * judged stale), and who the first k are: the same answer as queueOrder, in O(n·k) instead of a
 * sort, because every waiter computes it on every Lease event.
 */
export function queueStanding(me: string, waiters: readonly WaiterRecord[], holders: ReadonlySet<string>, stale: ReadonlySet<string>, k: number): Standing {
  const mine = waiters.find((w) => w.node === me);
  let position = mine && !holders.has(me) ? 0 : -1;
  const heads: WaiterRecord[] = [];
  for (const w of waiters) {
    if (w.node === "" || holders.has(w.node) || (w.node !== me && stale.has(w.node))) continue;
    if (position >= 0 && w !== mine && before(w, mine!)) position += 1;
    if (k <= 0) continue;
    let i = heads.length;
    while (i > 0 && before(w, heads[i - 1])) i -= 1;
    if (i < k) {
      heads.splice(i, 0, w);
      if (heads.length > k) heads.pop();
    }
  }
  return { position, heads };
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
