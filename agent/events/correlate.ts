/**
 * The deduplication half of client-go's EventCorrelator (tools/record/events_cache.go), pure: an
 * Event identical in node, type, reason, message (and source) to one recorded shortly before is
 * not created again; the existing one gets `count + 1` and a new `lastTimestamp`. client-go keeps
 * an LRU of 4096 keys without a time limit and relies on the server's Event TTL (1 h); we also
 * start a fresh Event once the previous one is older than `windowMs`, so `kubectl describe node`
 * shows each reboot's steps as their own lines rather than one count spanning weeks.
 */
import type { NodeEvent } from "../ports";

export interface SeenEvent {
  name: string;
  count: number;
  firstTimestampMs: number;
  /** Monotonic time of the last occurrence: the window is a duration, not a wall-clock comparison. */
  lastMono: number;
}

export const DEFAULT_WINDOW_MS = 10 * 60_000;
const MAX_KEYS = 4096;

export function eventKey(e: NodeEvent, component: string, host: string): string {
  return JSON.stringify([component, host, "Node", e.node, e.type, e.reason, e.message]);
}

/** Fold into `prev` (patch) or start a new Event (create)? */
export function correlate(prev: SeenEvent | undefined, nowMono: number, windowMs: number): { action: "create" } | { action: "patch"; name: string; count: number } {
  if (!prev || nowMono - prev.lastMono > windowMs) return { action: "create" };
  return { action: "patch", name: prev.name, count: prev.count + 1 };
}

/** client-go's event name: the object's name and the time in nanoseconds, in hex. */
export function eventName(node: string, nowMs: number, seq: number): string {
  return `${node}.${(BigInt(Math.floor(nowMs)) * 1_000_000n + BigInt(seq % 1_000_000)).toString(16)}`;
}

/** A small LRU: a Map keeps insertion order, so re-inserting moves a key to the end. */
export class SeenCache {
  private readonly map = new Map<string, SeenEvent>();
  constructor(private readonly max = MAX_KEYS) {}

  get(key: string): SeenEvent | undefined {
    return this.map.get(key);
  }

  set(key: string, v: SeenEvent): void {
    this.map.delete(key);
    this.map.set(key, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }

  delete(key: string): void {
    this.map.delete(key);
  }
}
