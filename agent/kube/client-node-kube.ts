/**
 * The real Kube port over @kubernetes/client-node 2.x: generated APIs for requests, its Watch
 * class for streams, KubeErrors out. MicroTime fields are converted both ways because client-node
 * neither serialises plain Dates with 6 digits nor parses MicroTime strings into Dates.
 */
import {
  CoordinationV1Api, CoreV1Api, type CoreV1Event, type KubeConfig, PatchStrategy, type V1Lease, type V1Node, type V1Pod,
  Watch as ClientWatch, setHeaderOptions,
} from "@kubernetes/client-node";
import { KubeError, classify, fromStatus } from "./errors";
import { microTime } from "./microtime";
import type { EvictOptions, EvictionVersion, Kube, ListResult, NodePatch, Watch, WatchHandler, WatchOptions } from "./types";

const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw classify(err);
  }
}

/** MicroTime strings from the wire → Dates that serialise back with 6 digits. */
function leaseIn(lease: V1Lease): V1Lease {
  const spec = lease.spec;
  if (spec?.acquireTime) spec.acquireTime = microTime(spec.acquireTime as unknown as string);
  if (spec?.renewTime) spec.renewTime = microTime(spec.renewTime as unknown as string);
  return lease;
}

function leaseOut(lease: V1Lease): V1Lease {
  const spec = lease.spec ? { ...lease.spec } : undefined;
  if (spec?.acquireTime) spec.acquireTime = microTime(spec.acquireTime);
  if (spec?.renewTime) spec.renewTime = microTime(spec.renewTime);
  return { ...lease, spec };
}

function eventOut(ev: CoreV1Event): CoreV1Event {
  return ev.eventTime ? { ...ev, eventTime: microTime(ev.eventTime) } : ev;
}

export class ClientNodeKube implements Kube {
  private readonly core: CoreV1Api;
  private readonly coordination: CoordinationV1Api;
  private readonly watcher: ClientWatch;
  private eviction: Promise<EvictionVersion> | undefined;

  constructor(private readonly config: KubeConfig) {
    this.core = config.makeApiClient(CoreV1Api);
    this.coordination = config.makeApiClient(CoordinationV1Api);
    this.watcher = new ClientWatch(config);
  }

  getLease(namespace: string, name: string) {
    return call(async () => leaseIn(await this.coordination.readNamespacedLease({ namespace, name })));
  }

  listLeases(namespace: string, labelSelector?: string): Promise<ListResult<V1Lease>> {
    return call(async () => {
      const l = await this.coordination.listNamespacedLease({ namespace, labelSelector });
      return { items: l.items.map(leaseIn), resourceVersion: l.metadata?.resourceVersion ?? "" };
    });
  }

  createLease(namespace: string, lease: V1Lease) {
    return call(async () => leaseIn(await this.coordination.createNamespacedLease({ namespace, body: leaseOut(lease) })));
  }

  replaceLease(namespace: string, lease: V1Lease) {
    const name = lease.metadata?.name ?? "";
    return call(async () => leaseIn(await this.coordination.replaceNamespacedLease({ namespace, name, body: leaseOut(lease) })));
  }

  async deleteLease(namespace: string, name: string, resourceVersion?: string): Promise<void> {
    const body = resourceVersion ? { preconditions: { resourceVersion } } : undefined;
    await call(() => this.coordination.deleteNamespacedLease({ namespace, name, body }));
  }

  watchLeases(namespace: string, options: WatchOptions, onEvent: WatchHandler<V1Lease>): Promise<Watch> {
    return this.watch<V1Lease>(`/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`, options, {}, (t, o) => onEvent(t, t === "BOOKMARK" ? o : leaseIn(o)));
  }

  getNode(name: string) {
    return call(() => this.core.readNode({ name }));
  }

  listNodes(labelSelector?: string): Promise<ListResult<V1Node>> {
    return call(async () => {
      const l = await this.core.listNode({ labelSelector });
      return { items: l.items, resourceVersion: l.metadata?.resourceVersion ?? "" };
    });
  }

  watchNode(name: string, options: WatchOptions, onEvent: WatchHandler<V1Node>): Promise<Watch> {
    return this.watch("/api/v1/nodes", options, { fieldSelector: `metadata.name=${name}` }, onEvent);
  }

  patchNode(name: string, patch: NodePatch): Promise<V1Node> {
    const metadata: Record<string, unknown> = {};
    if (patch.labels) metadata.labels = patch.labels;
    if (patch.annotations) metadata.annotations = patch.annotations;
    if (patch.resourceVersion) metadata.resourceVersion = patch.resourceVersion;
    const spec: Record<string, unknown> = {};
    // merge patch: `false` must be sent as null or it would stay in the object as an explicit false.
    if (patch.unschedulable !== undefined) spec.unschedulable = patch.unschedulable ? true : null;
    if (patch.taints) spec.taints = patch.taints;
    const body: Record<string, unknown> = {};
    if (Object.keys(metadata).length) body.metadata = metadata;
    if (Object.keys(spec).length) body.spec = spec;
    return call(() => this.core.patchNode({ name, body }, merge));
  }

  listPodsOnNode(nodeName: string, labelSelector?: string): Promise<ListResult<V1Pod>> {
    return call(async () => {
      const l = await this.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}`, labelSelector });
      return { items: l.items, resourceVersion: l.metadata?.resourceVersion ?? "" };
    });
  }

  getPod(namespace: string, name: string) {
    return call(() => this.core.readNamespacedPod({ namespace, name }));
  }

  deletePod(namespace: string, name: string, gracePeriodSeconds?: number) {
    return call(() => this.core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds }));
  }

  async evictPod(namespace: string, name: string, options: EvictOptions = {}): Promise<void> {
    const version = await this.evictionVersion();
    try {
      await this.postEviction(version, namespace, name, options);
    } catch (err) {
      const e = classify(err);
      // A server older than 1.22 refuses the v1 body (400) or lacks the path (404 for the
      // whole resource, not for the pod): fall back once, for good, as kubectl does.
      const refusesV1 = version === "policy/v1" && (e.status === 400 || (e.status === 404 && !e.details?.name));
      if (!refusesV1) throw e;
      this.eviction = Promise.resolve("policy/v1beta1");
      await call(() => this.postEviction("policy/v1beta1", namespace, name, options));
    }
  }

  private postEviction(version: EvictionVersion, namespace: string, name: string, options: EvictOptions) {
    const body = { apiVersion: version, kind: "Eviction", metadata: { name, namespace }, deleteOptions: options.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: options.gracePeriodSeconds } : undefined };
    return call(() => this.core.createNamespacedPodEviction({ namespace, name, body }));
  }

  evictionVersion(): Promise<EvictionVersion> {
    this.eviction ??= call(async () => {
      const list = await this.core.getAPIResources();
      const ev = list.resources.find((r) => r.name === "pods/eviction");
      return ev?.group === "policy" && ev.version === "v1beta1" ? "policy/v1beta1" : "policy/v1";
    }).catch((err: unknown) => {
      this.eviction = undefined;
      throw err;
    });
    return this.eviction;
  }

  createEvent(namespace: string, event: CoreV1Event) {
    return call(() => this.core.createNamespacedEvent({ namespace, body: eventOut(event) }));
  }

  patchEvent(namespace: string, name: string, patch: Partial<CoreV1Event>) {
    return call(() => this.core.patchNamespacedEvent({ namespace, name, body: patch }, merge));
  }

  replaceEvent(namespace: string, event: CoreV1Event) {
    return call(() => this.core.replaceNamespacedEvent({ namespace, name: event.metadata?.name ?? "", body: eventOut(event) }));
  }

  listEvents(namespace: string, fieldSelector?: string): Promise<ListResult<CoreV1Event>> {
    return call(async () => {
      const l = await this.core.listNamespacedEvent({ namespace, fieldSelector });
      return { items: l.items, resourceVersion: l.metadata?.resourceVersion ?? "" };
    });
  }

  private async watch<T>(path: string, o: WatchOptions, extra: Record<string, string>, onEvent: WatchHandler<T>): Promise<Watch> {
    let settle!: { resolve: () => void; reject: (e: KubeError) => void };
    const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    let failed: KubeError | undefined;
    let stopped = false;
    const query: Record<string, string | number | boolean | undefined> = {
      ...extra,
      resourceVersion: o.resourceVersion,
      labelSelector: o.labelSelector,
      allowWatchBookmarks: o.allowBookmarks ? true : undefined,
      timeoutSeconds: o.timeoutSeconds,
    };
    let controller: AbortController | undefined;
    try {
      controller = await this.watcher.watch(
        path,
        query,
        (type, obj) => {
          if (type === "ERROR") {
            failed = fromStatus(obj ?? {}, undefined);
            controller?.abort();
            return;
          }
          onEvent(type as "ADDED", obj as T);
        },
        (err) => {
          if (failed) return settle.reject(failed);
          if (err && !(err instanceof Error && err.name === "AbortError" && stopped)) return settle.reject(classify(err));
          settle.resolve();
        },
      );
    } catch (err) {
      throw classify(err);
    }
    const stop = () => {
      stopped = true;
      controller?.abort();
      settle.resolve();
    };
    o.signal?.addEventListener("abort", stop, { once: true });
    // The caller's signal outlives many watches (one per re-watch): unhook this one when it ends.
    done.catch(() => {}).finally(() => o.signal?.removeEventListener("abort", stop));
    return { done, stop };
  }
}
