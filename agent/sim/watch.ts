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
import type { WatchHub } from "./watch-hub";

export interface WatchOptions {
  clock: Clock;
  /** The server's random source: the timeout of a watch that asked for none. */
  random: () => number;
  /** Fault injection: end the stream after this many ms (null: never early). */
  closeAfterMs: number | null;
  onOpen(): void;
  onClose(): void;
  /** Delivers store events to this watch once it has replayed what it starts from. */
  hub: WatchHub;
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

/** The `metadata.name=x` a field selector pins, for the hub's index; "" when it pins none. */
export function pinnedName(fieldSelectorText: string | null): string {
  for (const part of (fieldSelectorText ?? "").split(",")) {
    const m = /^\s*metadata\.name\s*==?\s*(.*?)\s*$/.exec(part);
    if (m) return m[1];
  }
  return "";
}

export function serveWatch(reg: Registry, t: Target, q: URLSearchParams, res: ServerResponse, opts: WatchOptions): void {
  const labelText = q.get("labelSelector");
  const fieldText = q.get("fieldSelector");
  const labels = labelSelector(labelText);
  const fields = fieldSelector(fieldText, t.def.plural, t.def.kind, t.version);
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
  /** The line this watch sends for a store event, if any (selector transitions included). */
  const eventLine = (ev: StoreEvent): string | undefined => {
    const now = matches(ev.obj);
    const before = matches(ev.prev);
    let type: string | undefined;
    if (ev.type === "ADDED") type = now ? "ADDED" : undefined;
    else if (ev.type === "DELETED") type = now || before ? "DELETED" : undefined;
    else if (now && before) type = "MODIFIED";
    else if (now) type = "ADDED";
    else if (before) type = "DELETED";
    if (!type) return undefined;
    if (type === "DELETED" && ev.type === "MODIFIED") {
      // Stopped matching: the watch cache sends the previous object, stamped with the new version.
      const gone = { ...ev.prev!, metadata: { ...ev.prev!.metadata, resourceVersion: ev.obj.metadata.resourceVersion } };
      return line(type, gone, ev);
    }
    return line(type, ev.obj, ev);
  };
  res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked", "Cache-Control": "no-cache, private" });
  // Clients wait for the headers before they consider the watch open; do not hold them back.
  res.flushHeaders();
  const abort = new AbortController();
  let closed = false;
  let membership: { flush(): void; leave(): void } | undefined;
  /** `graceful`: the server ends the stream, so events already due go out before the end. */
  const close = (graceful: boolean) => {
    if (closed) return;
    closed = true;
    abort.abort();
    if (graceful) membership?.flush();
    membership?.leave();
    opts.onClose();
    res.end();
  };
  res.on("close", () => close(false));
  opts.onOpen();

  const rv = q.get("resourceVersion");
  if (!rv || rv === "0") {
    for (const o of reg.store.list(t.def.storage, t.def.namespaced && t.namespace ? t.namespace : undefined, matches)) res.write(line("ADDED", o));
  } else {
    const since = reg.store.since(t.def.storage, Number(rv));
    if (!Array.isArray(since)) {
      const status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `too old resource version: ${rv} (${since.tooOld})`, reason: "Expired", code: 410 };
      res.write(JSON.stringify({ type: "ERROR", object: status }) + "\n");
      close(true);
      return;
    }
    for (const ev of since) {
      const l = eventLine(ev);
      if (l !== undefined) res.write(l);
    }
  }
  const key = `${t.version}|${t.namespace}|${labelText ?? ""}|${fieldText ?? ""}`;
  const namespace = t.def.namespaced ? t.namespace : "";
  const bookmarkLine = () => {
    const object = { kind: t.def.kind, apiVersion: groupVersion(t.def.group, t.version), metadata: { resourceVersion: String(reg.store.currentRv()), creationTimestamp: null }, ...emptyShape(t.def.kind) };
    return JSON.stringify({ type: "BOOKMARK", object }) + "\n";
  };
  const bookmarks = q.get("allowWatchBookmarks") === "true";
  // Periodic bookmarks are the hub's (one clock sleep and one chunk for every watch).
  membership = opts.hub.join({ storage: t.def.storage, key, namespace, name: pinnedName(fieldText), line: eventLine, bookmark: bookmarkLine }, { res, bookmarks });

  const bookmark = () => {
    if (closed) return;
    membership?.flush();
    res.write(bookmarkLine());
  };
  const timeoutS = q.get("timeoutSeconds");
  // Without timeoutSeconds the real server picks a random 30–60 min (minRequestTimeout × [1, 2)).
  const draw = timeoutS ? 0 : opts.random();
  const timeoutMs = timeoutS ? Number(timeoutS) * 1000 : 1800_000 * (1 + (draw >= 0 && draw < 1 ? draw : 0));
  const after = (ms: number, fn: () => void) => opts.clock.sleep(ms, abort.signal).then(fn, () => {});
  after(timeoutMs, () => close(true));
  if (opts.closeAfterMs !== null) after(opts.closeAfterMs, () => close(true));
  if (bookmarks && timeoutMs > 2000) after(timeoutMs - 2000, bookmark);
}
