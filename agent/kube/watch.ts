/**
 * A watch as the API server streams it: one JSON event a line (ADDED, MODIFIED, DELETED,
 * BOOKMARK, ERROR). An ERROR event ends the watch with its Status as a KubeError (410 Expired is
 * "gone": relist); the server ending the response is a clean end (re-watch from the last
 * resourceVersion seen). A connection that stays silent far longer than the server would keep it
 * is ended the same way, so a peer that vanished without a FIN cannot freeze the caller's view.
 */
import type { IncomingMessage } from "node:http";
import { KubeError, fromStatus, networkError } from "./errors";
import type { KubeHttp, Query } from "./http";
import type { Watch, WatchEventType, WatchOptions } from "./types";

/** The longest line accepted: a single object beyond this is not something the agent watches. */
const MAX_LINE = 16 << 20;
/** Silence allowed beyond the requested timeoutSeconds (or beyond 10 minutes without one). */
const IDLE_SLACK_MS = 60_000;

type Obj = Record<string, any>;

export async function openWatch<T>(
  http: KubeHttp,
  path: string,
  query: Query,
  options: WatchOptions,
  convert: (type: string, o: Obj) => T,
  onEvent: (type: WatchEventType, object: T) => void,
): Promise<Watch> {
  const controller = new AbortController();
  let settle!: { resolve: () => void; reject: (e: unknown) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  let ended = false;
  let res: IncomingMessage | undefined;
  const end = (err?: unknown) => {
    if (ended) return;
    ended = true;
    clearTimeout(idle);
    options.signal?.removeEventListener("abort", stop);
    // While connecting, abort the request; once streaming, close the response (no AbortError).
    if (res) res.destroy();
    else controller.abort();
    if (err === undefined) settle.resolve();
    else settle.reject(err);
  };
  const stop = () => end();
  let idle: NodeJS.Timeout | undefined;
  const idleMs = (options.timeoutSeconds ?? 600) * 1000 + IDLE_SLACK_MS;
  // refresh() re-arms the same timer: a new one per chunk showed in the profile of a long queue.
  const touch = () => {
    if (idle) idle.refresh();
    else idle = setTimeout(() => end(), idleMs);
  };

  if (options.signal?.aborted) {
    end();
    return { done, stop };
  }
  options.signal?.addEventListener("abort", stop, { once: true });
  let opened: IncomingMessage;
  try {
    opened = await http.stream(
      {
        method: "GET",
        path,
        query: {
          ...query,
          watch: true,
          resourceVersion: options.resourceVersion,
          labelSelector: options.labelSelector,
          allowWatchBookmarks: options.allowBookmarks ? true : undefined,
          timeoutSeconds: options.timeoutSeconds,
        },
      },
      controller.signal,
    );
  } catch (err) {
    options.signal?.removeEventListener("abort", stop);
    // Stopped while connecting: not a failure.
    if (ended) return { done, stop };
    throw err;
  }
  if (ended) {
    opened.destroy();
    return { done, stop };
  }
  res = opened;
  touch();
  res.setEncoding("utf8");
  let buffer = "";
  const line = (text: string) => {
    let ev: { type?: unknown; object?: Obj };
    try {
      ev = JSON.parse(text) as typeof ev;
    } catch {
      return end(new KubeError("unavailable", `watch ${path}: the server sent a line that is not JSON`));
    }
    const type = ev?.type;
    const object = ev?.object;
    if (type === "ERROR") return end(fromStatus(object ?? {}, typeof object?.code === "number" ? object.code : undefined));
    if (type !== "ADDED" && type !== "MODIFIED" && type !== "DELETED" && type !== "BOOKMARK") {
      return end(new KubeError("unavailable", `watch ${path}: unknown event type ${JSON.stringify(type)}`));
    }
    if (typeof object !== "object" || object === null) return end(new KubeError("unavailable", `watch ${path}: a ${type} event without an object`));
    onEvent(type, convert(type, object));
  };
  res.on("data", (chunk: string) => {
    if (ended) return;
    touch();
    buffer += chunk;
    let nl: number;
    try {
      while (!ended && (nl = buffer.indexOf("\n")) >= 0) {
        const text = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (text) line(text);
      }
    } catch (err) {
      // The caller's handler threw: stop rather than deliver later events past a lost one.
      return end(err);
    }
    if (buffer.length > MAX_LINE) end(new KubeError("unavailable", `watch ${path}: an event longer than ${MAX_LINE >> 20} MiB`));
  });
  res.on("end", () => {
    try {
      if (!ended && buffer.trim()) line(buffer.trim());
      end();
    } catch (err) {
      end(err);
    }
  });
  res.on("error", (err) => end(networkError(err, `watch ${path}`)));
  res.on("close", () => {
    // Closed without 'end': the connection dropped mid-stream.
    if (!opened.complete) end(new KubeError("unavailable", `watch ${path}: the connection was closed mid-stream`));
  });
  return { done, stop };
}
