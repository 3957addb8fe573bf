/**
 * The narrow Kubernetes port: exactly what the lock, drain and reboot modules need. Objects are
 * client-node's model types (type-only: nothing of client-node is loaded at run time); every
 * failure is a KubeError. Only agent/cli constructs the real implementation (HttpKube); tests
 * point one at the sim server (test/helpers/kube.ts).
 */
import type { CoreV1Event, V1Lease, V1Node, V1Pod, V1Taint } from "@kubernetes/client-node";

export type { CoreV1Event, V1Lease, V1Node, V1Pod, V1Taint };

export interface ListResult<T> {
  items: T[];
  /** The list's resourceVersion: where a watch should start to miss nothing. */
  resourceVersion: string;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

export interface WatchOptions {
  /** Start after this version (from a list). Omitted: synthetic ADDED for current objects first. */
  resourceVersion?: string;
  labelSelector?: string;
  /** Ask for BOOKMARK events (they carry only metadata.resourceVersion). */
  allowBookmarks?: boolean;
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

export interface Watch {
  /**
   * Settles when the stream ends: resolves when the server closed it normally (re-watch from the
   * last resourceVersion seen); rejects with KubeError "gone" on 410/ERROR (relist, then watch).
   */
  readonly done: Promise<void>;
  stop(): void;
}

export type WatchHandler<T> = (type: WatchEventType, object: T) => void;

/** What a node patch may change; `null` removes a label or annotation. */
export interface NodePatch {
  unschedulable?: boolean;
  labels?: Record<string, string | null>;
  annotations?: Record<string, string | null>;
  /** The complete new taint list (read, change, write back with resourceVersion). */
  taints?: V1Taint[];
  /** Precondition: 409 conflict when the node changed since it was read. */
  resourceVersion?: string;
}

export type EvictionVersion = "policy/v1" | "policy/v1beta1";

export interface EvictOptions {
  gracePeriodSeconds?: number;
  /**
   * Sent as deleteOptions.preconditions.uid: the server answers 409 (conflict) when the pod of
   * this name is another pod (a StatefulSet's replacement), so the caller can count it as gone.
   */
  uid?: string;
}

export interface Kube {
  getLease(namespace: string, name: string): Promise<V1Lease>;
  listLeases(namespace: string, labelSelector?: string): Promise<ListResult<V1Lease>>;
  createLease(namespace: string, lease: V1Lease): Promise<V1Lease>;
  /** PUT; `lease.metadata.resourceVersion` is required (the API answers 422 without it, 409 when stale). */
  replaceLease(namespace: string, lease: V1Lease): Promise<V1Lease>;
  deleteLease(namespace: string, name: string, resourceVersion?: string): Promise<void>;
  watchLeases(namespace: string, options: WatchOptions, onEvent: WatchHandler<V1Lease>): Promise<Watch>;

  getNode(name: string): Promise<V1Node>;
  listNodes(labelSelector?: string): Promise<ListResult<V1Node>>;
  watchNode(name: string, options: WatchOptions, onEvent: WatchHandler<V1Node>): Promise<Watch>;
  patchNode(name: string, patch: NodePatch): Promise<V1Node>;

  /** Pods bound to `nodeName`, in every namespace (fieldSelector spec.nodeName). */
  listPodsOnNode(nodeName: string, labelSelector?: string): Promise<ListResult<V1Pod>>;
  getPod(namespace: string, name: string): Promise<V1Pod>;
  deletePod(namespace: string, name: string, gracePeriodSeconds?: number): Promise<V1Pod>;
  /** policy/v1 Eviction, or policy/v1beta1 where the server lacks v1 (decided once, as kubectl). */
  evictPod(namespace: string, name: string, options?: EvictOptions): Promise<void>;

  createEvent(namespace: string, event: CoreV1Event): Promise<CoreV1Event>;
  /** Merge patch, e.g. `{count, lastTimestamp}` when the same event repeats. */
  patchEvent(namespace: string, name: string, patch: Partial<CoreV1Event>): Promise<CoreV1Event>;
  replaceEvent(namespace: string, event: CoreV1Event): Promise<CoreV1Event>;
  listEvents(namespace: string, fieldSelector?: string): Promise<ListResult<CoreV1Event>>;

  /** Which Eviction version the server serves (from /api/v1 discovery). */
  evictionVersion(): Promise<EvictionVersion>;
}
