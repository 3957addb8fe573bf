/**
 * Watches as the watch cache serves them: synthetic ADDED without a resourceVersion, replay from a
 * resourceVersion inside the window, a single ERROR 410 event when it is older, selector
 * transitions as ADDED/DELETED, bookmarks 2 s before timeoutSeconds and periodically.
 */
import type { ServerResponse } from "node:http";
import type { Clock } from "../ports/clock";
import { render } from "./kinds";
import type { Registry, Target } from "./registry";
import { groupVersion } from "./resources";
import { fieldSelector, labelSelector } from "./selectors";
import type { KObj, StoreEvent } from "./store";

export interface WatchOptions {
  clock: Clock;
  bookmarkIntervalMs: number;
  /** Fault injection: end the stream after this many ms (null: never early). */
  closeAfterMs: number | null;
  onOpen(): void;
  onClose(): void;
}

const nodeInfoEmpty = {
  machineID: "", systemUUID: "", bootID: "", kernelVersion: "", osImage: "", containerRuntimeVersion: "",
  kubeletVersion: "", kubeProxyVersion: "", operatingSystem: "", architecture: "",
};

/** What Go marshals for an empty object of the kind, which is what a BOOKMARK carries. */
function emptyShape(kind: string): Record<string, unknown> {
  switch (kind) {
    case "Lease":
      return { spec: {} };
    case "Node":
      return { spec: {}, status: { daemonEndpoints: { kubeletEndpoint: { Port: 0 } }, nodeInfo: nodeInfoEmpty } };
    case "Pod":
      return { spec: { containers: null }, status: {} };
    case "PodDisruptionBudget":
      return { spec: {}, status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 } };
    default:
      return {};
  }
}

export function serveWatch(reg: Registry, t: Target, q: URLSearchParams, res: ServerResponse, opts: WatchOptions): void {
  const labels = labelSelector(q.get("labelSelector"));
  const fields = fieldSelector(q.get("fieldSelector"), t.def.plural, t.def.kind, t.version);
  const inScope = (o: KObj) => !t.def.namespaced || !t.namespace || o.metadata.namespace === t.namespace;
  const matches = (o: KObj | undefined) => Boolean(o) && inScope(o!) && labels(o!.metadata.labels) && fields(o!);
  const cacheKey = `${t.def.group}|${t.version}`;
  const line = (type: string, obj: KObj, ev?: StoreEvent): string => {
    // One serialisation per event, type and version, shared by every watcher: fan-out stays cheap.
    const cache = ev ? (((ev as any).lines ??= new Map<string, string>()) as Map<string, string>) : undefined;
    const k = `${type}|${cacheKey}`;
    const hit = cache?.get(k);
    if (hit) return hit;
    const s = JSON.stringify({ type, object: render(t.def, t.version, obj) }) + "\n";
    cache?.set(k, s);
    return s;
  };
  res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked", "Cache-Control": "no-cache, private" });
  // Clients wait for the headers before they consider the watch open; do not hold them back.
  res.flushHeaders();
  const abort = new AbortController();
  let closed = false;
  let unsubscribe = () => {};
  const close = () => {
    if (closed) return;
    closed = true;
    abort.abort();
    unsubscribe();
    opts.onClose();
    res.end();
  };
  res.on("close", close);
  opts.onOpen();

  const deliver = (ev: StoreEvent) => {
    if (closed) return;
    const now = matches(ev.obj);
    const before = matches(ev.prev);
    let type: string | undefined;
    if (ev.type === "ADDED") type = now ? "ADDED" : undefined;
    else if (ev.type === "DELETED") type = now || before ? "DELETED" : undefined;
    else if (now && before) type = "MODIFIED";
    else if (now) type = "ADDED";
    else if (before) type = "DELETED";
    if (!type) return;
    if (type === "DELETED" && ev.type === "MODIFIED") {
      // Stopped matching: the watch cache sends the previous object, stamped with the new version.
      const gone = { ...ev.prev!, metadata: { ...ev.prev!.metadata, resourceVersion: ev.obj.metadata.resourceVersion } };
      res.write(line(type, gone, ev));
    } else res.write(line(type, ev.obj, ev));
  };

  const rv = q.get("resourceVersion");
  if (!rv || rv === "0") {
    for (const o of reg.store.list(t.def.storage, t.def.namespaced && t.namespace ? t.namespace : undefined)) if (matches(o)) res.write(line("ADDED", o));
  } else {
    const since = reg.store.since(t.def.storage, Number(rv));
    if (!Array.isArray(since)) {
      const status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `too old resource version: ${rv} (${since.tooOld})`, reason: "Expired", code: 410 };
      res.write(JSON.stringify({ type: "ERROR", object: status }) + "\n");
      close();
      return;
    }
    for (const ev of since) deliver(ev);
  }
  unsubscribe = reg.store.subscribe(t.def.storage, deliver);

  const bookmark = () => {
    if (closed) return;
    const object = { kind: t.def.kind, apiVersion: groupVersion(t.def.group, t.version), metadata: { resourceVersion: String(reg.store.currentRv()), creationTimestamp: null }, ...emptyShape(t.def.kind) };
    res.write(JSON.stringify({ type: "BOOKMARK", object }) + "\n");
  };
  const timeoutS = q.get("timeoutSeconds");
  // Without timeoutSeconds the real server picks a random 30–60 min (minRequestTimeout × [1, 2)).
  const timeoutMs = timeoutS ? Number(timeoutS) * 1000 : 1800_000 * (1 + Math.random());
  const after = (ms: number, fn: () => void) => opts.clock.sleep(ms, abort.signal).then(fn, () => {});
  after(timeoutMs, close);
  if (opts.closeAfterMs !== null) after(opts.closeAfterMs, close);
  if (q.get("allowWatchBookmarks") === "true") {
    if (timeoutMs > 2000) after(timeoutMs - 2000, bookmark);
    const periodic = () => after(opts.bookmarkIntervalMs, () => (bookmark(), !closed && periodic()));
    periodic();
  }
}
