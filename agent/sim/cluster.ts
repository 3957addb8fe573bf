/**
 * What runs beside a real API server, simulated on the server's clock: kubelets (confirm graceful
 * deletions after the grace period, reboot their host), a ReplicaSet-like controller (recreate
 * evicted pods on another schedulable node, Ready after a delay), the disruption controller (PDB
 * status from matching Ready pods) and the ServiceAccount controller (a `default` SA per namespace).
 */
import { randomUUID } from "node:crypto";
import { DisruptionIndex, PDBS } from "./disruption";
import { PodIndex, chooseNode, isReady } from "./pod-index";
import type { SimServer } from "./server";
import type { KObj, StoreEvent } from "./store";
import { formatTime } from "./times";
import { deepEqual } from "./equal";

export interface SimClusterOptions {
  /** From creation on a node to Ready (server clock). */
  podReadyDelayMs?: number;
  /** How long a simulated host reboot keeps its node NotReady. */
  rebootMs?: number;
}

export class SimCluster {
  private readonly abort = new AbortController();
  private readonly unsubscribe: (() => void)[] = [];
  private pdbQueued = new Set<string>();
  /** Kept from the store's events, so no question about pods lists them all (2000 nodes). */
  private readonly pods: PodIndex;
  private readonly budgets: DisruptionIndex;
  private readonly readyDelay: number;
  private readonly rebootMs: number;

  constructor(
    private readonly server: SimServer,
    options: SimClusterOptions = {},
  ) {
    this.readyDelay = options.podReadyDelayMs ?? 2000;
    this.rebootMs = options.rebootMs ?? 10_000;
    const store = server.store;
    this.pods = new PodIndex(store.values("/pods"));
    this.budgets = new DisruptionIndex(store);
    this.unsubscribe.push(store.subscribe("/pods", (ev) => this.onPod(ev)));
    this.unsubscribe.push(
      store.subscribe(PDBS, (ev) => {
        this.budgets.observePdb(ev);
        if (ev.type !== "DELETED") this.queuePdbs(ev.obj.metadata.namespace);
      }),
    );
    // The scheduler, reduced: a pod that found no node (every node cordoned or down) is bound as
    // soon as one becomes schedulable again, as kube-scheduler retries unschedulable pods.
    this.unsubscribe.push(
      store.subscribe("/nodes", (ev) => {
        if (ev.type === "DELETED" || ev.obj.spec?.unschedulable || !isReady(ev.obj)) return;
        if (ev.prev && !ev.prev.spec?.unschedulable && isReady(ev.prev)) return;
        queueMicrotask(() => this.bindPending());
      }),
    );
    // Reactions run after the write that caused them, never inside it, so every watcher sees
    // events in resourceVersion order.
    this.unsubscribe.push(
      store.subscribe("/namespaces", (ev) => {
        const ns = ev.obj.metadata.name;
        if (ev.type === "ADDED") queueMicrotask(() => this.server.store.get("/serviceaccounts", `${ns}/default`) || this.server.apply({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: ns } }));
      }),
    );
  }

  stop(): void {
    this.abort.abort();
    for (const u of this.unsubscribe) u();
  }

  private later(ms: number, fn: () => void): void {
    this.server.clock.sleep(ms, this.abort.signal).then(fn, () => {});
  }

  /** A Ready node as a kubelet registers it (the node lifecycle controller then drops not-ready). */
  addNode(name: string, labels: Record<string, string> = {}): KObj {
    this.server.apply({ apiVersion: "v1", kind: "Node", metadata: { name, labels: { "kubernetes.io/hostname": name, ...labels } } });
    return this.setNodeReady(name, true);
  }

  /** Pods owned by a ReplicaSet-like controller, spread over the nodes, Ready at once. */
  addWorkload(namespace: string, name: string, replicas: number, nodes: string[]): void {
    this.server.ensureNamespace(namespace);
    const owner = { apiVersion: "apps/v1", kind: "ReplicaSet", name, uid: randomUUID(), controller: true, blockOwnerDeletion: true };
    for (let i = 0; i < replicas; i++) this.createPod(namespace, name, owner, nodes[i % nodes.length], true);
  }

  /** The host of `node` reboots: NotReady (and its pods not Ready) for rebootMs, then Ready with a new boot id. */
  reboot(node: string, ms = this.rebootMs): void {
    this.setNodeReady(node, false);
    for (const p of this.podsOn(node)) this.setPodReady(p, false);
    this.later(ms, () => {
      this.setNodeReady(node, true);
      for (const p of this.podsOn(node)) this.setPodReady(p, true);
    });
  }

  private podsOn(node: string): KObj[] {
    return this.pods.keysOn(node).map((k) => this.server.store.get("/pods", k)!);
  }

  setNodeReady(name: string, ready: boolean): KObj {
    const cur = this.server.store.get("/nodes", name);
    if (!cur) throw new Error(`sim: no node ${name}`);
    const now = formatTime(this.server.clock.now());
    const conditions = [{ type: "Ready", status: ready ? "True" : "False", reason: ready ? "KubeletReady" : "KubeletNotReady", lastHeartbeatTime: now, lastTransitionTime: now }];
    const taints = (cur.spec?.taints ?? []).filter((t: any) => t.key !== "node.kubernetes.io/not-ready");
    if (!ready) taints.push({ key: "node.kubernetes.io/not-ready", effect: "NoSchedule" });
    const bootID = ready && cur.status?.nodeInfo?.bootID && cur.status?.conditions?.[0]?.status === "True" ? cur.status.nodeInfo.bootID : randomUUID();
    const next = {
      ...cur,
      spec: { ...cur.spec, taints: taints.length ? taints : undefined },
      status: { ...cur.status, conditions, nodeInfo: { ...(cur.status?.nodeInfo ?? {}), bootID: ready ? bootID : cur.status?.nodeInfo?.bootID ?? "" } },
    };
    if (!next.spec.taints) delete next.spec.taints;
    return this.server.registry.writeInternal("/nodes", next);
  }

  private createPod(namespace: string, app: string, owner: Record<string, unknown>, node: string | undefined, readyNow: boolean): void {
    const pod = this.createNamed({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { generateName: `${app}-`, namespace, labels: { app }, ownerReferences: [owner] },
      spec: { nodeName: node, containers: [{ name: "app", image: "registry.k8s.io/pause:3.9" }] },
    });
    if (!node) return;
    if (readyNow) this.setPodReady(pod, true);
    else this.later(this.readyDelay, () => this.setPodReady(pod, true));
  }

  /**
   * A 5-character suffix (27^5 names) collides: in about one workload of 2000 pods in eight, and
   * in one 2000-node rollout in four (each replacement against ~2000 live names). A 1.28 server
   * answers AlreadyExists (1.32 retries itself) and the ReplicaSet controller creates again on
   * its next sync; so does this, at once, with a fresh draw.
   */
  private createNamed(obj: KObj, attempts = 8): KObj {
    for (let i = 1; ; i++) {
      try {
        return this.server.apply(structuredClone(obj));
      } catch (err) {
        if (i >= attempts || (err as { body?: { reason?: string } }).body?.reason !== "AlreadyExists") throw err;
      }
    }
  }

  private setPodReady(pod: KObj, ready: boolean): void {
    const cur = this.server.store.get("/pods", `${pod.metadata.namespace}/${pod.metadata.name}`);
    if (!cur || cur.metadata.uid !== pod.metadata.uid || cur.metadata.deletionTimestamp) return;
    const now = formatTime(this.server.clock.now());
    const s = ready ? "True" : "False";
    this.server.registry.writeInternal("/pods", {
      ...cur,
      status: { ...cur.status, phase: "Running", conditions: [{ type: "Ready", status: s, lastProbeTime: null, lastTransitionTime: now }, { type: "ContainersReady", status: s, lastProbeTime: null, lastTransitionTime: now }] },
    });
  }

  private onPod(ev: StoreEvent): void {
    const pod = ev.obj;
    this.pods.observe(ev);
    this.budgets.observePod(ev);
    this.queuePdbs(pod.metadata.namespace);
    if (ev.type === "MODIFIED" && pod.metadata.deletionTimestamp && !ev.prev?.metadata.deletionTimestamp) {
      // The kubelet stops the containers within the grace period, then confirms with a grace-0 delete.
      this.later((pod.metadata.deletionGracePeriodSeconds ?? 30) * 1000, () => {
        const cur = this.server.store.get("/pods", `${pod.metadata.namespace}/${pod.metadata.name}`);
        if (cur && cur.metadata.uid === pod.metadata.uid) this.server.registry.deletePod(cur, 0);
      });
    }
    if (ev.type === "DELETED") queueMicrotask(() => this.replace(pod));
  }

  private replace(pod: KObj): void {
    if (this.abort.signal.aborted) return;
    {
      const owner = (pod.metadata.ownerReferences ?? []).find((o: any) => o.controller && o.kind === "ReplicaSet");
      if (!owner) return;
      const node = this.pickNode(pod.spec?.nodeName);
      this.createPod(pod.metadata.namespace, pod.metadata.labels?.app ?? owner.name, owner, node, false);
    }
  }

  private bindPending(): void {
    if (this.abort.signal.aborted) return;
    for (const key of this.pods.pendingKeys()) {
      const pod = this.server.store.get("/pods", key);
      if (!pod) continue;
      const node = this.pickNode(undefined);
      if (!node) return;
      const bound = this.server.registry.writeInternal("/pods", { ...pod, spec: { ...pod.spec, nodeName: node } });
      this.later(this.readyDelay, () => this.setPodReady(bound, true));
    }
  }

  /** O(nodes): one pass over the Nodes, pod counts from the index. */
  private pickNode(avoid: string | undefined): string | undefined {
    return chooseNode(this.server.store.values("/nodes"), (n) => this.pods.count(n), avoid);
  }

  private queuePdbs(namespace: string | undefined): void {
    if (!namespace || this.pdbQueued.has(namespace)) return;
    this.pdbQueued.add(namespace);
    queueMicrotask(() => {
      this.pdbQueued.delete(namespace);
      if (!this.abort.signal.aborted) this.syncPdbs(namespace);
    });
  }

  /** The disruption controller: status from the selected pods; disruptedPods forgotten once deleted. */
  private syncPdbs(namespace: string): void {
    for (const pdb of this.server.store.list(PDBS, namespace)) {
      // The real controller reads the owners' scale; counting terminating pods too gives the same
      // number while a replacement is on its way.
      const { disruptedPods: disrupted, ...figures } = this.budgets.status(pdb);
      const status: Record<string, unknown> = { observedGeneration: pdb.metadata.generation ?? 1, ...figures };
      if (Object.keys(disrupted).length) status.disruptedPods = disrupted;
      status.conditions = [{ type: "DisruptionAllowed", status: figures.disruptionsAllowed > 0 ? "True" : "False", reason: figures.disruptionsAllowed > 0 ? "SufficientPods" : "InsufficientPods", message: "", observedGeneration: pdb.metadata.generation ?? 1, lastTransitionTime: pdb.status?.conditions?.[0]?.lastTransitionTime ?? formatTime(this.server.clock.now()) }];
      if (deepEqual(status, pdb.status)) continue;
      this.server.registry.writeInternal(PDBS, { ...pdb, status });
    }
  }
}
