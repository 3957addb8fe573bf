/**
 * The Kube port over plain HTTP (http.ts) and streamed watches (watch.ts): the one implementation
 * every command and the agent use. Paths and bodies are the ones kubectl and client-go send; the
 * golden transcripts of real API servers are replayed through it in test/kube.
 */
import type { CoreV1Event, V1Lease, V1Node, V1Pod } from "@kubernetes/client-node";
import { KubeError } from "./errors";
import { type HttpOptions, KubeHttp } from "./http";
import type { KubeTarget } from "./kubeconfig";
import type { EvictOptions, EvictionVersion, Kube, ListResult, NodePatch, Watch, WatchHandler, WatchOptions } from "./types";
import { openWatch } from "./watch";
import { eventIn, eventOut, leaseIn, leaseOut, nodeIn, podIn, reviver } from "./wire";

type Obj = Record<string, any>;
type List = { metadata?: { resourceVersion?: string }; items?: Obj[] };

const MERGE_PATCH = "application/merge-patch+json";
const enc = encodeURIComponent;
const leases = (ns: string) => `/apis/coordination.k8s.io/v1/namespaces/${enc(ns)}/leases`;
const events = (ns: string) => `/api/v1/namespaces/${enc(ns)}/events`;

function list<T>(l: List, convert: (o: Obj) => T): ListResult<T> {
  if (!Array.isArray(l?.items)) throw new KubeError("unavailable", "the API server answered a list without items");
  return { items: l.items.map(convert), resourceVersion: l.metadata?.resourceVersion ?? "" };
}

export class HttpKube implements Kube {
  readonly http: KubeHttp;
  private eviction: Promise<EvictionVersion> | undefined;

  constructor(target: KubeTarget, options: HttpOptions = {}) {
    this.http = new KubeHttp(target, options);
  }

  /** The server URL this client talks to (for logs; never carries credentials). */
  get server(): string {
    return this.http.server.href.replace(/\/$/, "");
  }

  async getLease(namespace: string, name: string): Promise<V1Lease> {
    return leaseIn(await this.http.json({ method: "GET", path: `${leases(namespace)}/${enc(name)}` }));
  }

  async listLeases(namespace: string, labelSelector?: string): Promise<ListResult<V1Lease>> {
    return list(await this.http.json<List>({ method: "GET", path: leases(namespace), query: { labelSelector } }), leaseIn);
  }

  async createLease(namespace: string, lease: V1Lease): Promise<V1Lease> {
    return leaseIn(await this.http.json({ method: "POST", path: leases(namespace), body: leaseOut(lease) }));
  }

  async replaceLease(namespace: string, lease: V1Lease): Promise<V1Lease> {
    const name = lease.metadata?.name ?? "";
    return leaseIn(await this.http.json({ method: "PUT", path: `${leases(namespace)}/${enc(name)}`, body: leaseOut(lease) }));
  }

  async deleteLease(namespace: string, name: string, resourceVersion?: string): Promise<void> {
    const body = resourceVersion ? { apiVersion: "v1", kind: "DeleteOptions", preconditions: { resourceVersion } } : undefined;
    await this.http.json({ method: "DELETE", path: `${leases(namespace)}/${enc(name)}`, body });
  }

  watchLeases(namespace: string, options: WatchOptions, onEvent: WatchHandler<V1Lease>): Promise<Watch> {
    return openWatch(this.http, leases(namespace), {}, options, reviver(leaseIn), onEvent);
  }

  async getNode(name: string): Promise<V1Node> {
    return nodeIn(await this.http.json({ method: "GET", path: `/api/v1/nodes/${enc(name)}` }));
  }

  async listNodes(labelSelector?: string): Promise<ListResult<V1Node>> {
    return list(await this.http.json<List>({ method: "GET", path: "/api/v1/nodes", query: { labelSelector } }), nodeIn);
  }

  watchNode(name: string, options: WatchOptions, onEvent: WatchHandler<V1Node>): Promise<Watch> {
    return openWatch(this.http, "/api/v1/nodes", { fieldSelector: `metadata.name=${name}` }, options, reviver(nodeIn), onEvent);
  }

  /**
   * A JSON merge patch. A list in a merge patch replaces the whole list, which is what `taints`
   * means here (and what a strategic merge of spec.taints does on a real server too).
   */
  async patchNode(name: string, patch: NodePatch): Promise<V1Node> {
    const metadata: Obj = {};
    if (patch.labels) metadata.labels = patch.labels;
    if (patch.annotations) metadata.annotations = patch.annotations;
    if (patch.resourceVersion) metadata.resourceVersion = patch.resourceVersion;
    const spec: Obj = {};
    // `false` is sent as null: an explicit false would stay in the object where kubectl leaves none.
    if (patch.unschedulable !== undefined) spec.unschedulable = patch.unschedulable ? true : null;
    if (patch.taints) spec.taints = patch.taints;
    const body: Obj = {};
    if (Object.keys(metadata).length) body.metadata = metadata;
    if (Object.keys(spec).length) body.spec = spec;
    return nodeIn(await this.http.json({ method: "PATCH", path: `/api/v1/nodes/${enc(name)}`, body, contentType: MERGE_PATCH }));
  }

  async listPodsOnNode(nodeName: string, labelSelector?: string): Promise<ListResult<V1Pod>> {
    return list(await this.http.json<List>({ method: "GET", path: "/api/v1/pods", query: { fieldSelector: `spec.nodeName=${nodeName}`, labelSelector } }), podIn);
  }

  async getPod(namespace: string, name: string): Promise<V1Pod> {
    return podIn(await this.http.json({ method: "GET", path: `/api/v1/namespaces/${enc(namespace)}/pods/${enc(name)}` }));
  }

  async deletePod(namespace: string, name: string, gracePeriodSeconds?: number): Promise<V1Pod> {
    const body = gracePeriodSeconds !== undefined ? { apiVersion: "v1", kind: "DeleteOptions", gracePeriodSeconds } : undefined;
    return podIn(await this.http.json({ method: "DELETE", path: `/api/v1/namespaces/${enc(namespace)}/pods/${enc(name)}`, body }));
  }

  async evictPod(namespace: string, name: string, options: EvictOptions = {}): Promise<void> {
    const version = await this.evictionVersion();
    try {
      await this.postEviction(version, namespace, name, options);
    } catch (err) {
      const e = err as KubeError;
      // A server older than 1.22 refuses the v1 body (400) or lacks the path (404 for the whole
      // resource, not for the pod): fall back once, for good, as kubectl does.
      const refusesV1 = version === "policy/v1" && (e.status === 400 || (e.status === 404 && !e.details?.name));
      if (!refusesV1) throw err;
      this.eviction = Promise.resolve("policy/v1beta1");
      await this.postEviction("policy/v1beta1", namespace, name, options);
    }
  }

  private async postEviction(version: EvictionVersion, namespace: string, name: string, options: EvictOptions): Promise<void> {
    const deleteOptions: Obj = {};
    if (options.gracePeriodSeconds !== undefined) deleteOptions.gracePeriodSeconds = options.gracePeriodSeconds;
    // The server refuses (409) to evict a pod of this name with another UID: the same-name race
    // (a StatefulSet's new pod) closed by the server rather than by a GET before each attempt.
    if (options.uid) deleteOptions.preconditions = { uid: options.uid };
    const body: Obj = { apiVersion: version, kind: "Eviction", metadata: { name, namespace } };
    if (Object.keys(deleteOptions).length) body.deleteOptions = deleteOptions;
    await this.http.json({ method: "POST", path: `/api/v1/namespaces/${enc(namespace)}/pods/${enc(name)}/eviction`, body });
  }

  /** From /api/v1 discovery, once per client (a failed look-up is retried on the next call). */
  evictionVersion(): Promise<EvictionVersion> {
    this.eviction ??= this.http
      .json<{ resources?: { name?: string; group?: string; version?: string }[] }>({ method: "GET", path: "/api/v1" })
      .then((doc) => {
        const ev = (doc.resources ?? []).find((r) => r.name === "pods/eviction");
        return ev?.group === "policy" && ev.version === "v1beta1" ? "policy/v1beta1" : "policy/v1";
      })
      .catch((err: unknown) => {
        this.eviction = undefined;
        throw err;
      });
    return this.eviction;
  }

  async createEvent(namespace: string, event: CoreV1Event): Promise<CoreV1Event> {
    return eventIn(await this.http.json({ method: "POST", path: events(namespace), body: eventOut(event) }));
  }

  async patchEvent(namespace: string, name: string, patch: Partial<CoreV1Event>): Promise<CoreV1Event> {
    return eventIn(await this.http.json({ method: "PATCH", path: `${events(namespace)}/${enc(name)}`, body: eventOut(patch), contentType: MERGE_PATCH }));
  }

  async replaceEvent(namespace: string, event: CoreV1Event): Promise<CoreV1Event> {
    return eventIn(await this.http.json({ method: "PUT", path: `${events(namespace)}/${enc(event.metadata?.name ?? "")}`, body: eventOut(event) }));
  }

  async listEvents(namespace: string, fieldSelector?: string): Promise<ListResult<CoreV1Event>> {
    return list(await this.http.json<List>({ method: "GET", path: events(namespace), query: { fieldSelector } }), eventIn);
  }

  /** Closes idle connections; open watches end when stopped. */
  close(): void {
    this.http.close();
  }
}
