/**
 * The "etcd plus watch cache" of the sim: objects by resource and key, one global monotonically
 * increasing resourceVersion, and a bounded per-resource event history from which watches resume.
 * Stored objects are never mutated in place: writers store fresh objects, readers may share them.
 */
export type KObj = Record<string, any> & { metadata: Record<string, any> };
export type WatchType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoreEvent {
  type: WatchType;
  rv: number;
  obj: KObj;
  /** The object before this change (MODIFIED/DELETED), to tell "stopped matching" from "changed". */
  prev?: KObj;
}

export type StoreListener = (ev: StoreEvent) => void;

export function objectKey(obj: { metadata: { namespace?: string; name?: string } }): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : `${obj.metadata.name}`;
}

interface ResourceState {
  objects: Map<string, KObj>;
  history: StoreEvent[];
  /** Oldest resourceVersion a watch may resume from; older answers "too old resource version". */
  windowStart: number;
  listeners: Set<StoreListener>;
}

export class Store {
  private rv: number;
  private readonly resources = new Map<string, ResourceState>();
  /** Lists at an exact resourceVersion (or a continue token) older than this answer 410. */
  compactedRev = 0;

  constructor(
    private readonly historyLimit = 1000,
    startRv = 1,
  ) {
    this.rv = startRv;
  }

  currentRv(): number {
    return this.rv;
  }

  private state(resource: string): ResourceState {
    let s = this.resources.get(resource);
    if (!s) {
      s = { objects: new Map(), history: [], windowStart: 0, listeners: new Set() };
      this.resources.set(resource, s);
    }
    return s;
  }

  get(resource: string, key: string): KObj | undefined {
    return this.state(resource).objects.get(key);
  }

  /**
   * Objects in etcd key order (namespace/name), as every list of the real server; `keep` filters
   * before the sort, so a selective list (a node's pods of 2000 nodes') sorts only what it keeps.
   */
  list(resource: string, namespace?: string, keep?: (o: KObj) => boolean): KObj[] {
    const picked: [string, KObj][] = [];
    for (const e of this.state(resource).objects) if ((!namespace || e[1].metadata.namespace === namespace) && (!keep || keep(e[1]))) picked.push(e);
    return picked.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => o);
  }

  /** The objects in no particular order: for scans that need no list order (the sim's controllers). */
  values(resource: string): IterableIterator<KObj> {
    return this.state(resource).objects.values();
  }

  /** Stores `obj` with the next resourceVersion (set on obj.metadata) and tells the watchers. */
  write(resource: string, type: WatchType, obj: KObj): KObj {
    const s = this.state(resource);
    const key = objectKey(obj);
    const prev = s.objects.get(key);
    this.rv += 1;
    obj.metadata.resourceVersion = String(this.rv);
    if (type === "DELETED") s.objects.delete(key);
    else s.objects.set(key, obj);
    const ev: StoreEvent = { type, rv: this.rv, obj, prev };
    s.history.push(ev);
    if (s.history.length > this.historyLimit) {
      const dropped = s.history.shift()!;
      s.windowStart = dropped.rv;
    }
    for (const l of s.listeners) l(ev);
    return obj;
  }

  /** Events after `rv`, or "too-old" with the oldest resumable version, as the watch cache answers. */
  since(resource: string, rv: number): StoreEvent[] | { tooOld: number } {
    const s = this.state(resource);
    if (rv < s.windowStart) return { tooOld: s.windowStart };
    return s.history.filter((e) => e.rv > rv);
  }

  subscribe(resource: string, listener: StoreListener): () => void {
    const s = this.state(resource);
    s.listeners.add(listener);
    return () => s.listeners.delete(listener);
  }

  /** Test hook: what `etcdctl compact <current>` does. Watches are unaffected (served from the cache). */
  compact(): void {
    this.compactedRev = this.rv;
  }

  /** Test hook: an apiserver restart; every watch cache starts again at the current revision. */
  restartWatchCache(): void {
    for (const s of this.resources.values()) {
      s.history = [];
      s.windowStart = this.rv;
    }
  }
}
