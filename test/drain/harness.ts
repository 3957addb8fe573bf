/**
 * Drain tests against the sim: a SimServer with SimCluster (kubelets honour grace periods, a
 * ReplicaSet-like controller recreates pods elsewhere, the disruption controller keeps PDB status)
 * on a FakeClock shared with the code under test, and `drive()` to move that clock while real
 * loopback HTTP completes. The sim has no StatefulSet controller; statefulSet() adds one.
 */
import { randomUUID } from "node:crypto";
import { type DrainDeps } from "../../agent/drain";
import type { HttpKube } from "../../agent/kube";
import { Logger } from "../../agent/log";
import { FakeClock } from "../../agent/ports";
import { type KObj, SimCluster, SimServer } from "../../agent/sim";
import { RecordedEvents, drive, kubeFor } from "../helpers/sim";
import { Capture } from "../helpers/tmp";

export { RecordedEvents, drive };

export interface Harness {
  clock: FakeClock;
  server: SimServer;
  cluster: SimCluster | undefined;
  kube: HttpKube;
  events: RecordedEvents;
  logs: Capture;
  deps: DrainDeps;
  stop(): Promise<void>;
}

export async function startSim(o: { kubelets?: boolean; legacyPolicy?: boolean; podReadyDelayMs?: number } = {}): Promise<Harness> {
  const clock = new FakeClock();
  const server = await new SimServer({ clock, namespaces: ["apps", "kube-system"], legacyPolicy: o.legacyPolicy }).start();
  const cluster = o.kubelets === false ? undefined : new SimCluster(server, { podReadyDelayMs: o.podReadyDelayMs ?? 2_000 });
  for (const n of ["node-a", "node-b", "node-c"]) {
    if (cluster) cluster.addNode(n);
    else server.apply({ apiVersion: "v1", kind: "Node", metadata: { name: n } });
  }
  const kube = kubeFor(server);
  const events = new RecordedEvents();
  const logs = new Capture();
  const log = new Logger({ sink: logs, level: "debug", now: () => clock.now() });
  return {
    clock, server, cluster, kube, events, logs,
    deps: { kube, clock, log, events },
    stop: async () => {
      cluster?.stop();
      await server.stop();
    },
  };
}

interface PodSpec {
  name: string;
  node?: string;
  ns?: string;
  labels?: Record<string, string>;
  grace?: number;
  phase?: string;
  owner?: { kind: string; name: string };
  annotations?: Record<string, string>;
  finalizers?: string[];
}

/** A Running, Ready pod as the kubelet would report it. */
export function addPod(server: SimServer, s: PodSpec): KObj {
  const owner = s.owner ? [{ apiVersion: "apps/v1", kind: s.owner.kind, name: s.owner.name, uid: `uid-${s.owner.name}`, controller: true }] : undefined;
  const pod = server.apply({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: s.name, namespace: s.ns ?? "apps", labels: s.labels ?? { app: "x" }, ownerReferences: owner, annotations: s.annotations, finalizers: s.finalizers },
    spec: { nodeName: s.node ?? "node-a", terminationGracePeriodSeconds: s.grace ?? 1, containers: [{ name: "c", image: "pause:3.9" }] },
  });
  const phase = s.phase ?? "Running";
  return server.registry.writeInternal("/pods", { ...pod, status: { phase, conditions: phase === "Running" ? [{ type: "Ready", status: "True" }] : [] } });
}

export function addPdb(server: SimServer, name: string, selector: Record<string, string>, spec: { minAvailable?: number; maxUnavailable?: number }, ns = "apps"): void {
  server.apply({ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name, namespace: ns }, spec: { ...spec, selector: { matchLabels: selector } } });
}

/**
 * A StatefulSet controller reduced to what matters here: when a pod it owns is deleted, a pod of
 * the same name (and a new UID) is created on `moveTo`, Ready at once.
 */
export function statefulSet(server: SimServer, name: string, moveTo: string): () => void {
  return server.store.subscribe("/pods", (ev) => {
    if (ev.type !== "DELETED") return;
    const o = ev.obj;
    if (!o.metadata.ownerReferences?.some((r: { kind: string; name: string }) => r.kind === "StatefulSet" && r.name === name)) return;
    queueMicrotask(() => {
      const p = addPod(server, { name: o.metadata.name, ns: o.metadata.namespace, node: moveTo, labels: o.metadata.labels, owner: { kind: "StatefulSet", name } });
      void p;
    });
  });
}

export const uid = () => randomUUID();
export const pod = (server: SimServer, ns: string, name: string) => server.store.get("/pods", `${ns}/${name}`);
