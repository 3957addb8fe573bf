/**
 * `sluice demo`: a simulated fleet on the in-memory API server. Each simulated host runs the real
 * lock (agent/lock), blockers (agent/gates), marking and drain (agent/drain) and Events
 * (agent/events) against the sim through client-node, and "reboots" through the sim's kubelet.
 * The per-host driver below is the happy path of DESIGN.md's state machine, written out in
 * order; it is a demonstration driver, not the agent: agent/reboot (crash recovery, persisted
 * state, windows, the event loop) replaces it when it lands.
 */
import { randomUUID } from "node:crypto";
import { cordon, drainNode, markAfterReboot, markBeforeReboot, type MarkOptions } from "../../drain";
import { KubeEventRecorder } from "../../events";
import { checkBlockers } from "../../gates";
import { HttpKube, type Kube, resolveKubeconfig } from "../../kube";
import { RebootLock, slotName } from "../../lock";
import { Logger } from "../../log";
import type { Clock } from "../../ports";
import { SimCluster, SimServer, scaledClock } from "../../sim";

export interface DemoOptions {
  nodes: number;
  podsPerNode: number;
  concurrency: number;
  /** Simulated seconds per real second. */
  speed: number;
  /** Simulated length of one host reboot. */
  rebootMs: number;
  out: { write(s: string): unknown };
  signal: AbortSignal;
}

export interface DemoSummary {
  nodes: number;
  rebooted: number;
  simulatedMs: number;
  realMs: number;
  maxConcurrent: number;
  evictions: number;
  longestDrainMs: number;
}

const NAMESPACE = "sluice";
const GROUP = "demo";

function clockText(ms: number): string {
  const s = Math.floor(ms / 1000);
  return [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60].map((n) => String(n).padStart(2, "0")).join(":");
}

export async function runDemo(o: DemoOptions): Promise<DemoSummary> {
  const clock: Clock = scaledClock(o.speed);
  const quiet = new Logger({ sink: { write: () => true }, level: "error" });
  const server = await new SimServer({ clock, namespaces: [NAMESPACE, "apps"], log: quiet }).start();
  const cluster = new SimCluster(server, { podReadyDelayMs: 5_000, rebootMs: o.rebootMs });
  const names = Array.from({ length: o.nodes }, (_, i) => `node-${String(i + 1).padStart(2, "0")}`);
  for (const n of names) cluster.addNode(n);
  const replicas = o.nodes * o.podsPerNode;
  cluster.addWorkload("apps", "web", replicas, names);
  server.apply({ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "web", namespace: "apps" }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: "web" } } } });

  const started = { sim: clock.monotonic(), real: performance.now() };
  const say = (node: string, text: string) => o.out.write(`[${clockText(clock.monotonic() - started.sim)}] ${node.padEnd(8)} ${text}\n`);
  o.out.write(
    `sluice demo: ${o.nodes} simulated Flatcar nodes, ${replicas} pods of apps/web behind a PodDisruptionBudget (maxUnavailable 1), ` +
      `${o.concurrency} reboot slot${o.concurrency > 1 ? "s" : ""}, time x${o.speed}\n`,
  );

  // An observer that counts holders on every Lease change, as the lock's safety tests do.
  const slots = new Set(Array.from({ length: o.concurrency }, (_, i) => slotName(GROUP, i)));
  let maxConcurrent = 0;
  const unwatch = server.store.subscribe("coordination.k8s.io/leases", () => {
    const holders = server.store.list("coordination.k8s.io/leases", NAMESPACE).filter((l) => slots.has(l.metadata.name) && l.spec?.holderIdentity).length;
    maxConcurrent = Math.max(maxConcurrent, holders);
  });

  let evictions = 0;
  let longestDrainMs = 0;
  const mark: MarkOptions = { preRebootNodeLabels: ["sluice.dev/phase=rebooting"], postRebootNodeLabels: ["sluice.dev/phase=done"], annotateNodes: true };

  const host = async (node: string, index: number): Promise<void> => {
    const kube: Kube = new HttpKube(resolveKubeconfig(server.kubeconfigYaml()));
    const log = quiet.child({ node });
    const events = new KubeEventRecorder({ kube, clock, log }, { host: node });
    const deps = { kube, clock, log, events };
    const lock = new RebootLock({ namespace: NAMESPACE, group: GROUP, concurrency: o.concurrency, nodeName: node, lockTtlMs: 0, lockReleaseDelayMs: 30_000 }, deps);
    await lock.start(o.signal);
    try {
      // Updates land over a few minutes, as Flatcar's update_engine checks at random times.
      await clock.sleep(index * 20_000 + Math.floor(Math.random() * 10_000), o.signal);
      const needSince = clock.now();
      say(node, "needs a reboot (update staged)");
      const blockers = await checkBlockers({ node, podSelectors: ["app=backup"], prometheusUrl: "", alerts: {} }, { kube, fetch: globalThis.fetch, log }, o.signal);
      if (blockers.blocked) say(node, `blocked: ${blockers.reasons.join("; ")}`);
      const slot = await lock.acquire({ needSince, bootId: randomUUID() }, o.signal);
      say(node, `took slot ${slot.name} after ${clockText(clock.now() - needSince)} in the queue`);
      await markBeforeReboot(deps, node, mark);
      const cordoned = await cordon(deps, node, async (r) => void (await lock.setPhase("draining", { wasUnschedulable: r.wasUnschedulable })));
      const result = await drainNode({ node, timeoutMs: 30 * 60_000 }, deps, o.signal);
      evictions += result.evicted;
      longestDrainMs = Math.max(longestDrainMs, result.durationMs);
      const held = result.held.length;
      say(node, `drained in ${clockText(result.durationMs)}: ${result.evicted} evicted${held ? `, ${held} still held` : ""}; rebooting`);
      await lock.setPhase("rebooting");
      cluster.reboot(node);
      await waitReady(kube, clock, node, o.signal);
      await lock.setPhase("recovering");
      await markAfterReboot(deps, node, mark, cordoned.wasUnschedulable);
      say(node, "back, Ready and uncordoned; releasing the slot after 30s");
      await lock.release({ signal: o.signal });
    } finally {
      await lock.stop();
    }
  };

  try {
    await Promise.all(names.map((n, i) => host(n, i)));
  } finally {
    unwatch();
    cluster.stop();
    await server.stop();
  }
  const summary: DemoSummary = {
    nodes: o.nodes,
    rebooted: o.nodes,
    simulatedMs: clock.monotonic() - started.sim,
    realMs: performance.now() - started.real,
    maxConcurrent,
    evictions,
    longestDrainMs,
  };
  o.out.write(
    `done: ${summary.rebooted} of ${summary.nodes} nodes rebooted in ${clockText(summary.simulatedMs)} simulated (${(summary.realMs / 1000).toFixed(1)} s real); ` +
      `at most ${summary.maxConcurrent} at once (slots: ${o.concurrency}); ${summary.evictions} pods evicted, one at a time as the PDB allows (longest drain ${clockText(summary.longestDrainMs)})\n`,
  );
  return summary;
}

async function waitReady(kube: Kube, clock: Clock, node: string, signal: AbortSignal): Promise<void> {
  // The host is down: nothing runs on it. Poll from "outside" until the kubelet reports Ready.
  for (;;) {
    await clock.sleep(5_000, signal);
    const n = await kube.getNode(node);
    if (n.status?.conditions?.find((c) => c.type === "Ready")?.status === "True") return;
  }
}
