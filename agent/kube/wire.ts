/**
 * JSON on the wire ↔ client-node's model types, for the kinds the port returns. client-node's
 * types declare times as Date (and MicroTime as a Date that prints 6 digits); its generated
 * serializer converts them using 16 MB of model metadata. Here the few time fields of these kinds
 * are listed by hand, so the objects callers get are what the types say they are.
 */
import type { CoreV1Event, V1Lease, V1Node, V1Pod } from "@kubernetes/client-node";
import { KubeError } from "./errors";
import { MicroTime, microTime } from "./microtime";

type Obj = Record<string, any>;

function date(o: Obj | undefined, key: string): void {
  const v = o?.[key];
  if (typeof v === "string") {
    const ms = Date.parse(v);
    if (!Number.isNaN(ms)) o![key] = new Date(ms);
  }
}

function micro(o: Obj | undefined, key: string): void {
  const v = o?.[key];
  if (typeof v === "string" && !Number.isNaN(Date.parse(v))) o![key] = new MicroTime(v);
}

function each(list: unknown, keys: string[]): void {
  if (Array.isArray(list)) for (const c of list) for (const k of keys) date(c as Obj, k);
}

function meta(o: Obj): void {
  // A server (or something posing as one) answering `null`, a string or a list where an object
  // belongs is unavailable, not a TypeError deep in a caller.
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw new KubeError("unavailable", `the API server answered ${o === null ? "null" : Array.isArray(o) ? "a list" : typeof o} where an object belongs`);
  date(o.metadata, "creationTimestamp");
  date(o.metadata, "deletionTimestamp");
  each(o.metadata?.managedFields, ["time"]);
}

export function leaseIn(o: Obj): V1Lease {
  meta(o);
  micro(o.spec, "acquireTime");
  micro(o.spec, "renewTime");
  return o as V1Lease;
}

export function nodeIn(o: Obj): V1Node {
  meta(o);
  each(o.spec?.taints, ["timeAdded"]);
  each(o.status?.conditions, ["lastHeartbeatTime", "lastTransitionTime"]);
  return o as V1Node;
}

function containerStates(list: unknown): void {
  if (!Array.isArray(list)) return;
  for (const c of list as Obj[]) {
    for (const s of [c.state, c.lastState]) {
      date(s?.running, "startedAt");
      date(s?.terminated, "startedAt");
      date(s?.terminated, "finishedAt");
    }
  }
}

export function podIn(o: Obj): V1Pod {
  meta(o);
  date(o.status, "startTime");
  each(o.status?.conditions, ["lastProbeTime", "lastTransitionTime"]);
  for (const k of ["containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"]) containerStates(o.status?.[k]);
  return o as V1Pod;
}

export function eventIn(o: Obj): CoreV1Event {
  meta(o);
  date(o, "firstTimestamp");
  date(o, "lastTimestamp");
  micro(o, "eventTime");
  micro(o.series, "lastObservedTime");
  return o as CoreV1Event;
}

/** A BOOKMARK carries only metadata.resourceVersion: nothing to convert, whatever the kind. */
export function reviver<T>(convert: (o: Obj) => T): (type: string, o: Obj) => T {
  return (type, o) => (type === "BOOKMARK" ? (o as T) : convert(o));
}

/** MicroTime fields must leave with 6 digits, whatever Date the caller put there. */
export function leaseOut(lease: V1Lease): V1Lease {
  if (!lease.spec) return lease;
  const spec = { ...lease.spec };
  if (spec.acquireTime) spec.acquireTime = microTime(spec.acquireTime);
  if (spec.renewTime) spec.renewTime = microTime(spec.renewTime);
  return { ...lease, spec };
}

export function eventOut<T extends Partial<CoreV1Event>>(ev: T): T {
  const out: Obj = { ...ev };
  if (ev.eventTime) out.eventTime = microTime(ev.eventTime);
  if (ev.series?.lastObservedTime) out.series = { ...ev.series, lastObservedTime: microTime(ev.series.lastObservedTime) };
  return out as T;
}
