/**
 * What the lock reads out of a Lease. Parsing is lenient (a Lease written by another version or
 * by hand still yields a record) because a refusal to parse would halt the whole group.
 */
import type { V1Lease } from "../kube/types";
import {
  BOOT_ID_ANNOTATION, CONCURRENCY_ANNOTATION, NEED_SINCE_ANNOTATION, PHASE_ANNOTATION, ROLE_LABEL, SLOT_LABEL, WAS_UNSCHEDULABLE_ANNOTATION,
  type LeaseRole,
} from "./names";

/** Where a holder is in its reboot; set by agent/reboot through `RebootLock.setPhase`. */
export const LOCK_PHASES = ["acquired", "draining", "rebooting", "recovering", "releasing", "aborting"] as const;
export type LockPhase = (typeof LOCK_PHASES)[number];

export interface SlotRecord {
  name: string;
  index: number;
  /** "" when nobody holds the slot. */
  holder: string;
  phase: LockPhase | undefined;
  bootId: string | undefined;
  wasUnschedulable: boolean | undefined;
  /** The holder's configured concurrency; another value than ours is a misconfiguration. */
  concurrency: number | undefined;
  /**
   * The holder's own lockTtl (spec.leaseDurationSeconds): how often it promised to renew.
   * undefined: the holder does not renew (its lockTtl is 0), so its slot never expires.
   */
  ttlMs: number | undefined;
  needSince: number | undefined;
  /** The holder's wall clock, epoch ms: for display only, never for expiry. */
  acquireTime: number | undefined;
  renewTime: number | undefined;
  transitions: number;
  resourceVersion: string;
}

export interface WaiterRecord {
  name: string;
  node: string;
  /** When the node started needing the reboot (its own wall clock, epoch ms): the queue key. */
  needSince: number;
  /** metadata.creationTimestamp (the API server's clock, seconds): the tie-breaker. */
  createdAt: number;
  resourceVersion: string;
}

export function roleOf(lease: V1Lease): LeaseRole | undefined {
  const r = lease.metadata?.labels?.[ROLE_LABEL];
  return r === "slot" || r === "waiter" || r === "pause" ? r : undefined;
}

function ms(t: Date | string | undefined): number | undefined {
  if (t === undefined || t === null) return undefined;
  const v = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isFinite(v) ? v : undefined;
}

function int(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return Number(text);
}

export function slotRecord(lease: V1Lease): SlotRecord {
  const a = lease.metadata?.annotations ?? {};
  const phase = a[PHASE_ANNOTATION];
  const name = lease.metadata?.name ?? "";
  const wasU = a[WAS_UNSCHEDULABLE_ANNOTATION];
  return {
    name,
    index: int(lease.metadata?.labels?.[SLOT_LABEL]) ?? int(/-(\d+)$/.exec(name)?.[1]) ?? -1,
    holder: lease.spec?.holderIdentity ?? "",
    phase: (LOCK_PHASES as readonly string[]).includes(phase ?? "") ? (phase as LockPhase) : undefined,
    bootId: a[BOOT_ID_ANNOTATION] || undefined,
    wasUnschedulable: wasU === "true" ? true : wasU === "false" ? false : undefined,
    concurrency: int(a[CONCURRENCY_ANNOTATION]),
    ttlMs: lease.spec?.holderIdentity && lease.spec.leaseDurationSeconds ? lease.spec.leaseDurationSeconds * 1000 : undefined,
    needSince: ms(a[NEED_SINCE_ANNOTATION]),
    acquireTime: ms(lease.spec?.acquireTime as Date | string | undefined),
    renewTime: ms(lease.spec?.renewTime as Date | string | undefined),
    transitions: lease.spec?.leaseTransitions ?? 0,
    resourceVersion: lease.metadata?.resourceVersion ?? "",
  };
}

export function waiterRecord(lease: V1Lease): WaiterRecord {
  return {
    name: lease.metadata?.name ?? "",
    node: lease.spec?.holderIdentity ?? "",
    needSince: ms(lease.spec?.acquireTime as Date | string | undefined) ?? Number.MAX_SAFE_INTEGER,
    createdAt: ms(lease.metadata?.creationTimestamp as Date | string | undefined) ?? Number.MAX_SAFE_INTEGER,
    resourceVersion: lease.metadata?.resourceVersion ?? "",
  };
}

/**
 * The part of a Lease whose change restarts the observed time (client-go compares the whole
 * leader-election record the same way): holder, times, transitions and our annotations.
 */
export function recordKey(lease: V1Lease): string {
  const s = lease.spec ?? {};
  return JSON.stringify([
    s.holderIdentity ?? "",
    ms(s.acquireTime as Date | string | undefined) ?? null,
    ms(s.renewTime as Date | string | undefined) ?? null,
    s.leaseTransitions ?? 0,
    s.leaseDurationSeconds ?? null,
    lease.metadata?.annotations ?? {},
  ]);
}
