/**
 * The Lease bodies the lock writes. Each write starts from the object just read, so the API
 * server's resourceVersion check turns any concurrent change into a 409 instead of a lost update.
 */
import { microTime } from "../kube/microtime";
import type { V1Lease } from "../kube/types";
import {
  BOOT_ID_ANNOTATION, CONCURRENCY_ANNOTATION, NEED_SINCE_ANNOTATION, PHASE_ANNOTATION, WAS_UNSCHEDULABLE_ANNOTATION, labelsFor, pauseName, slotName,
  waiterName,
} from "./names";
import type { LockPhase } from "./record";

const OURS = [PHASE_ANNOTATION, BOOT_ID_ANNOTATION, WAS_UNSCHEDULABLE_ANNOTATION, CONCURRENCY_ANNOTATION, NEED_SINCE_ANNOTATION];

export interface HolderInfo {
  node: string;
  phase: LockPhase;
  bootId: string;
  wasUnschedulable?: boolean;
  concurrency: number;
  needSince?: number;
}

function holderAnnotations(h: HolderInfo): Record<string, string> {
  const a: Record<string, string> = {
    [PHASE_ANNOTATION]: h.phase,
    [BOOT_ID_ANNOTATION]: h.bootId,
    [CONCURRENCY_ANNOTATION]: String(h.concurrency),
  };
  if (h.wasUnschedulable !== undefined) a[WAS_UNSCHEDULABLE_ANNOTATION] = String(h.wasUnschedulable);
  if (h.needSince !== undefined) a[NEED_SINCE_ANNOTATION] = new Date(h.needSince).toISOString();
  return a;
}

function withoutOurs(annotations: Record<string, string> | undefined): Record<string, string> {
  const rest = { ...(annotations ?? {}) };
  for (const k of OURS) delete rest[k];
  return rest;
}

/** A slot held by `h` since `nowMs` (this host's wall clock; display only), from `cur` if it exists. */
export function takenSlot(namespace: string, group: string, index: number, cur: V1Lease | undefined, h: HolderInfo, nowMs: number, lockTtlMs: number): V1Lease {
  const prevHolder = cur?.spec?.holderIdentity ?? "";
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: {
      ...(cur?.metadata ?? {}),
      name: slotName(group, index),
      namespace,
      labels: { ...(cur?.metadata?.labels ?? {}), ...labelsFor(group, "slot", index) },
      annotations: { ...withoutOurs(cur?.metadata?.annotations), ...holderAnnotations(h) },
    },
    spec: {
      holderIdentity: h.node,
      acquireTime: microTime(nowMs),
      renewTime: microTime(nowMs),
      // The holder's promise to renew within this; observers expire the slot only after the longer
      // of it and their own lockTtl, measured on their own clock (decide.ts). Absent: never expires.
      leaseDurationSeconds: lockTtlMs > 0 ? Math.ceil(lockTtlMs / 1000) : undefined,
      // Taking over from another holder is a transition; taking an empty slot follows a release
      // that already counted one.
      leaseTransitions: (cur?.spec?.leaseTransitions ?? 0) + (prevHolder !== "" && prevHolder !== h.node ? 1 : 0),
    },
  };
}

/** The same slot renewed, optionally with a new phase or facts about the holder. */
export function renewedSlot(cur: V1Lease, nowMs: number, change: { phase?: LockPhase; wasUnschedulable?: boolean; bootId?: string } = {}): V1Lease {
  const annotations = { ...(cur.metadata?.annotations ?? {}) };
  if (change.phase) annotations[PHASE_ANNOTATION] = change.phase;
  if (change.bootId) annotations[BOOT_ID_ANNOTATION] = change.bootId;
  if (change.wasUnschedulable !== undefined) annotations[WAS_UNSCHEDULABLE_ANNOTATION] = String(change.wasUnschedulable);
  return { ...cur, metadata: { ...cur.metadata, annotations }, spec: { ...cur.spec, renewTime: microTime(nowMs) } };
}

/** Released: no holder, one more transition, our annotations gone. */
export function releasedSlot(cur: V1Lease, nowMs: number): V1Lease {
  return {
    ...cur,
    metadata: { ...cur.metadata, annotations: withoutOurs(cur.metadata?.annotations) },
    spec: { ...cur.spec, holderIdentity: undefined, acquireTime: undefined, renewTime: microTime(nowMs), leaseTransitions: (cur.spec?.leaseTransitions ?? 0) + 1 },
  };
}

/** This node's place in the queue: acquireTime is when it started needing the reboot. */
export function waiterLease(namespace: string, group: string, node: string, needSince: number, cur?: V1Lease): V1Lease {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { ...(cur?.metadata ?? {}), name: waiterName(group, node), namespace, labels: labelsFor(group, "waiter") },
    spec: { holderIdentity: node, acquireTime: microTime(needSince) },
  };
}

export function pauseLease(namespace: string, group: string, by: string, nowMs: number): V1Lease {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: pauseName(group), namespace, labels: labelsFor(group, "pause") },
    spec: { holderIdentity: by, acquireTime: microTime(nowMs) },
  };
}
