/**
 * The drain's decisions, pure and table-tested (test/drain/decide.test.ts): which pods to evict,
 * what an eviction's answer means, when a pod counts as gone, and when to stop waiting for it.
 * Kubernetes errors are classified by KubeError.code only; messages are read for reporting
 * (the PDB's name), never to decide.
 */
import { KubeError, type V1Pod } from "../kube";
import type { DrainResult, HeldPod, SkipReason } from "./types";

export const MIRROR_ANNOTATION = "kubernetes.io/config.mirror";

/** kubectl's fixed wait after a PDB refusal without Retry-After (drain.go: 5 s). */
export const PDB_RETRY_MS = 5_000;
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;

/**
 * Whether kubectl (with kured's flags: --ignore-daemonsets --delete-emptydir-data --force) would
 * evict this pod. Finished pods are skipped (DESIGN.md): they hold no workload and the reboot
 * clears them. `nowMs` and `skipWaitSeconds` implement kubectl's skipDeletedFilter.
 */
export function planPod(pod: V1Pod, nowMs: number, skipWaitSeconds = 0): { evict: true } | { evict: false; reason: SkipReason } {
  if (pod.metadata?.annotations?.[MIRROR_ANNOTATION] !== undefined) return { evict: false, reason: "mirror" };
  if (pod.metadata?.ownerReferences?.some((o) => o.kind === "DaemonSet" && o.controller === true)) return { evict: false, reason: "daemonset" };
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed") return { evict: false, reason: "finished" };
  if (deletedLongAgo(pod, nowMs, skipWaitSeconds)) return { evict: false, reason: "deleted-long-ago" };
  return { evict: true };
}

/** kubectl's rule: deletionTimestamp older than N seconds (N > 0), judged by the local wall clock. */
export function deletedLongAgo(pod: V1Pod, nowMs: number, skipWaitSeconds: number): boolean {
  const ts = timeMs(pod.metadata?.deletionTimestamp);
  return skipWaitSeconds > 0 && ts !== undefined && nowMs - ts > skipWaitSeconds * 1000;
}

export type EvictionOutcome =
  | { kind: "accepted" }
  | { kind: "gone" }
  | {
      kind: "retry";
      delayMs: number;
      /** disruption-budget: a PDB said no; rate-limited: 429 without a PDB; refused: anything else. */
      cause: "disruption-budget" | "rate-limited" | "refused";
      code: string;
      message: string;
      pdbs: string[];
    };

/**
 * What the answer to an eviction means. `attempt` counts refusals so far (1 for the first).
 * Every error other than 404 is retried until drainTimeout: a PDB or an admission webhook that
 * refuses now may allow later (a replica became Ready, a maintenance flag was set), and giving up
 * early would leave the node half-drained without a reboot. The reason is reported, not hidden.
 */
export function evictionOutcome(err: unknown, attempt: number, namespace: string): EvictionOutcome {
  if (err === undefined) return { kind: "accepted" };
  const e = err instanceof KubeError ? err : undefined;
  const code = e?.code ?? "internal";
  const message = err instanceof Error ? err.message : String(err);
  if (code === "not-found") return { kind: "gone" };
  if (code === "too-many-requests") {
    const pdbs = pdbsFromError(e, namespace);
    const cause = pdbs.length > 0 || isBudgetRefusal(e) ? "disruption-budget" : "rate-limited";
    return { kind: "retry", delayMs: e?.retryAfterMs ?? (cause === "disruption-budget" ? PDB_RETRY_MS : backoffMs(attempt)), cause, code, message, pdbs };
  }
  return { kind: "retry", delayMs: e?.retryAfterMs ?? backoffMs(attempt), cause: "refused", code, message, pdbs: [] };
}

/** 1 s, 2 s, 4 s … capped at 30 s. */
export function backoffMs(attempt: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
}

function isBudgetRefusal(e: KubeError | undefined): boolean {
  return Boolean(e?.details?.causes?.some((c) => c.reason === "DisruptionBudget"));
}

/**
 * The PDBs named in a 429's causes (`{reason: DisruptionBudget, message: "The disruption budget
 * web-pdb needs 2 healthy pods …"}`, shared/k8s-golden 10). The message is the only place the
 * server names the budget; unparseable text yields none rather than a wrong name.
 */
export function pdbsFromError(e: KubeError | undefined, namespace: string): string[] {
  const names = new Set<string>();
  for (const c of e?.details?.causes ?? []) {
    if (c.reason !== "DisruptionBudget") continue;
    const m = /disruption budget (\S+)/.exec(c.message ?? "");
    if (m) names.add(`${namespace}/${m[1]}`);
  }
  return [...names];
}

/** A pod is gone when GET answers 404 (`observed` undefined) or a pod of another UID has its name. */
export function podGone(uid: string, observed: V1Pod | undefined): boolean {
  return observed === undefined || (observed.metadata?.uid ?? "") !== uid;
}

export type WaitDecision = "gone" | "skip-wait" | "wait";

export function waitDecision(uid: string, observed: V1Pod | undefined, nowMs: number, skipWaitSeconds: number): WaitDecision {
  if (podGone(uid, observed)) return "gone";
  return deletedLongAgo(observed!, nowMs, skipWaitSeconds) ? "skip-wait" : "wait";
}

/**
 * How long to wait before looking again at the pods being deleted: every 100 ms for the first
 * 1.6 s, where short grace periods end (the bench's 1 s pods: a coarser step overshot the end by
 * a quarter of it), then growing to at most once a second from 16 s on; one LIST of the node's
 * pods for all of them.
 */
export function pollDelayMs(elapsedMs: number): number {
  return Math.min(1_000, Math.max(100, Math.round(elapsedMs / 16)));
}

/** Why a Terminating pod is still there, for the report. */
export function terminatingReason(pod: V1Pod | undefined, nowMs: number): string {
  const ts = timeMs(pod?.metadata?.deletionTimestamp);
  if (pod === undefined || ts === undefined) return "eviction accepted, waiting for the pod to terminate";
  const finalizers = pod.metadata?.finalizers ?? [];
  if (nowMs <= ts) return `terminating, grace period ends in ${Math.ceil((ts - nowMs) / 1000)}s`;
  const held = finalizers.length ? `; finalizers: ${finalizers.join(", ")}` : "; the kubelet has not confirmed the deletion";
  return `stuck Terminating ${Math.round((nowMs - ts) / 1000)}s past its grace period${held}`;
}

/** The reason line of a pod whose eviction is being refused. */
export function refusalReason(o: Extract<EvictionOutcome, { kind: "retry" }>): string {
  if (o.cause === "disruption-budget") return o.pdbs.length ? `PodDisruptionBudget ${o.pdbs.join(", ")} allows no disruption now` : "a PodDisruptionBudget allows no disruption now";
  if (o.cause === "rate-limited") return `API server asks to slow down: ${o.message}`;
  return `eviction refused (${o.code}): ${o.message}`;
}

/** kured's forceReboot: reboot even after a drain that timed out or failed. */
export function shouldReboot(result: Pick<DrainResult, "outcome">, forceReboot: boolean): boolean {
  return result.outcome === "drained" || forceReboot;
}

/** One line for logs, Events and `sluice status`. */
export function summarize(r: DrainResult): string {
  const secs = `${(r.durationMs / 1000).toFixed(1)}s`;
  if (r.outcome === "drained") {
    const extra = r.notWaitedFor.length ? `, did not wait for ${r.notWaitedFor.length} stuck pod(s): ${r.notWaitedFor.join(", ")}` : "";
    return `drained ${r.node} in ${secs}: ${r.evicted} pod(s) evicted, ${r.skipped.length} skipped${extra}`;
  }
  if (r.outcome === "failed") return `drain of ${r.node} failed after ${secs}: ${r.error?.message ?? "unknown error"}`;
  const pods = r.held.slice(0, 10).map(heldLine).join("; ");
  const more = r.held.length > 10 ? `; and ${r.held.length - 10} more` : "";
  const pdbs = r.pdbs.length ? ` PDBs holding it: ${r.pdbs.join(", ")}.` : "";
  return `drain of ${r.node} timed out after ${secs} with ${r.held.length} pod(s) left.${pdbs} Pods: ${pods}${more}`;
}

export function heldLine(p: HeldPod): string {
  return `${p.namespace}/${p.name} (${p.reason})`;
}

function timeMs(t: unknown): number | undefined {
  if (t === undefined || t === null) return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(String(t));
  return Number.isNaN(ms) ? undefined : ms;
}
