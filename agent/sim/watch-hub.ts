/**
 * Fan-out of store events to open watches. Profiling the 2000-watcher bench showed the cost was a
 * writev per watcher per event (~60% of the server's CPU) plus selector matching per watcher, so:
 * - watches with the same resource, version, namespace and selectors form one group: an event is
 *   matched and serialised once per group, not once per watcher (2000 agents send one selector);
 * - groups are indexed by namespace and by the name a `metadata.name=` field selector pins, so an
 *   event costs nothing for watches that cannot match it (an agent watching its own Node);
 * - a group's events are written once per event-loop turn, as one buffer shared by its members:
 *   under load a turn holds many events, so the writes per watcher stay bounded as the rate grows.
 * Events reach a group in store order and a member's other writes (bookmarks, close) flush the
 * group first, so every stream stays in resourceVersion order.
 * - periodic bookmarks come from the hub too: one sleep on the server's clock per interval for
 *   every watch, one line per group, written as one shared chunk. Per watch, 2000 watches made
 *   2000 clock sleeps, serialisations and corked writes a simulated minute: the largest cost of
 *   a day-long simulated rollout.
 */
import type { ServerResponse } from "node:http";
import type { Clock } from "../ports/clock";
import type { KObj, Store, StoreEvent } from "./store";

/** What a group is told per event: the line to send (already typed and rendered), or nothing. */
export type EventLine = (ev: StoreEvent) => string | undefined;

export interface GroupSpec {
  storage: string;
  /** Identifies watches that receive exactly the same lines (version, scope, selectors). */
  key: string;
  /** "" for every namespace (or a cluster-scoped resource). */
  namespace: string;
  /** The name a field selector pins (`metadata.name=x`), "" otherwise: only for the index. */
  name: string;
  line: EventLine;
  /** The BOOKMARK line at the store's current version (the same for every member of the group). */
  bookmark: () => string;
}

export interface Member {
  readonly res: ServerResponse;
  /** Asked for bookmarks (allowWatchBookmarks): gets the periodic ones. */
  readonly bookmarks?: boolean;
}

class Group {
  readonly members = new Set<Member>();
  pending: string[] = [];
  /** Members that get periodic bookmarks. */
  bookmarked = 0;
  constructor(readonly spec: GroupSpec) {}

  flush(): void {
    if (!this.pending.length) return;
    // One encoding and one framed chunk for all members, however many events the turn held.
    const payload = Buffer.from(this.pending.length === 1 ? this.pending[0] : this.pending.join(""));
    this.pending = [];
    const chunk = frame(payload);
    for (const m of this.members) writeChunk(m.res, chunk, payload);
  }

  bookmark(): void {
    if (!this.bookmarked) return;
    this.flush();
    const payload = Buffer.from(this.spec.bookmark());
    const chunk = frame(payload);
    for (const m of this.members) if (m.bookmarks) writeChunk(m.res, chunk, payload);
  }
}

function frame(payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${payload.length.toString(16)}\r\n`, "latin1"), payload, CRLF]);
}

const CRLF = Buffer.from("\r\n", "latin1");

/**
 * Writes an already framed HTTP/1.1 chunk straight to the member's socket. res.write would frame
 * it again per member, in four corked writes and a nextTick each: a fifth of the fan-out's CPU in
 * the profile. Safe because the headers are flushed when the watch opens and res.write and
 * socket.write queue on the same socket in call order; res.end still writes the last chunk.
 */
function writeChunk(res: ServerResponse, chunk: Buffer, payload: Buffer): void {
  if (res.destroyed || res.writableEnded) return;
  const socket = res.socket;
  if ((res as unknown as { chunkedEncoding?: boolean }).chunkedEncoding === true && socket && !socket.destroyed) socket.write(chunk);
  else res.write(payload);
}

const bucket = (namespace: string, name: string) => `${namespace}\u0000${name}`;

export interface BookmarkTicker {
  clock: Clock;
  /** The interval, on a grid of the clock shared by every watch (the real watch cache buckets its bookmarks by the second, about a minute apart). */
  everyMs: number;
}

export class WatchHub {
  /** storage → bucket (namespace, pinned name) → groups. */
  private readonly index = new Map<string, Map<string, Map<string, Group>>>();
  private readonly dirty = new Set<Group>();
  private scheduled = false;
  private readonly bookmarkGroups = new Set<Group>();
  private ticking = false;
  private readonly stopped = new AbortController();

  constructor(
    private readonly store: Store,
    private readonly ticker?: BookmarkTicker,
  ) {}

  /** Ends the periodic bookmarks (the server stops). */
  stop(): void {
    this.stopped.abort();
  }

  /** Adds a watch whose replay is already written; returns its flush (before its own writes) and leave. */
  join(spec: GroupSpec, member: Member): { flush(): void; leave(): void } {
    const group = this.group(spec);
    // Pending events predate this watch and its replay covered them: deliver them to the others first.
    group.flush();
    group.members.add(member);
    if (member.bookmarks) {
      group.bookmarked += 1;
      this.bookmarkGroups.add(group);
      this.tick();
    }
    return {
      flush: () => group.flush(),
      leave: () => {
        if (!group.members.delete(member)) return;
        if (member.bookmarks && --group.bookmarked === 0) this.bookmarkGroups.delete(group);
        if (group.members.size) return;
        group.flush();
        this.dirty.delete(group);
        this.buckets(spec.storage).get(bucket(spec.namespace, spec.name))?.delete(spec.key);
      },
    };
  }

  /** Sleeps to the next grid instant while any watch wants bookmarks, then sends each group's. */
  private tick(): void {
    const t = this.ticker;
    if (!t || this.ticking || this.stopped.signal.aborted) return;
    this.ticking = true;
    t.clock.sleep(t.everyMs - (t.clock.monotonic() % t.everyMs), this.stopped.signal).then(
      () => {
        this.ticking = false;
        for (const g of [...this.bookmarkGroups]) g.bookmark();
        if (this.bookmarkGroups.size) this.tick();
      },
      () => (this.ticking = false),
    );
  }

  private buckets(storage: string): Map<string, Map<string, Group>> {
    let b = this.index.get(storage);
    if (!b) {
      b = new Map();
      this.index.set(storage, b);
      const buckets = b;
      this.store.subscribe(storage, (ev) => this.dispatch(buckets, ev));
    }
    return b;
  }

  private group(spec: GroupSpec): Group {
    const buckets = this.buckets(spec.storage);
    const k = bucket(spec.namespace, spec.name);
    let groups = buckets.get(k);
    if (!groups) buckets.set(k, (groups = new Map()));
    let g = groups.get(spec.key);
    if (!g) groups.set(spec.key, (g = new Group(spec)));
    return g;
  }

  private dispatch(buckets: Map<string, Map<string, Group>>, ev: StoreEvent): void {
    const o: KObj = ev.obj;
    const ns: string = o.metadata.namespace ?? "";
    const name: string = o.metadata.name ?? "";
    this.offer(buckets.get(bucket("", "")), ev);
    this.offer(buckets.get(bucket("", name)), ev);
    if (ns) {
      this.offer(buckets.get(bucket(ns, "")), ev);
      this.offer(buckets.get(bucket(ns, name)), ev);
    }
  }

  private offer(groups: Map<string, Group> | undefined, ev: StoreEvent): void {
    if (!groups) return;
    for (const g of groups.values()) {
      const line = g.spec.line(ev);
      if (line === undefined) continue;
      g.pending.push(line);
      this.dirty.add(g);
    }
    if (this.dirty.size && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flushAll());
    }
  }

  private flushAll(): void {
    this.scheduled = false;
    for (const g of this.dirty) g.flush();
    this.dirty.clear();
  }
}
