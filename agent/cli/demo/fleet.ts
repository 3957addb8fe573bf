/**
 * `sluice demo`: a simulated fleet on the in-memory API server, each simulated host running the
 * real agent (agent/reboot: state machine, lock, gates, drain, Events) with its own state
 * directory, its own sentinel file watched by the real signals module, and a host whose reboot
 * stops its agent (as systemd does, with SIGTERM), takes the Node down for the reboot time, and
 * starts a new agent with a new boot id. The summary counts what the agents did, watched from the
 * API server's store: reboots, each node's time out of service, makespan against the ideal, and
 * any broken invariant (more holders than slots, an eviction or a reboot without a slot).
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaults, type Settings } from "../../config";
import { KubeEventRecorder } from "../../events";
import { nodeFs } from "../../host";
import { HttpKube, type Kube, resolveKubeconfig } from "../../kube";
import { Logger } from "../../log";
import type { Clock, Host, OsRelease, RunResult } from "../../ports";
import { Agent } from "../../reboot";
import { createRebootSignals, type RebootSignals } from "../../signals";
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
  /** Seconds between one node's update landing and the next's. */
  staggerMs?: number;
}

export interface DemoSummary {
  nodes: number;
  /** Reboots the hosts actually did (reboot commands that took the host down). */
  rebooted: number;
  /** Per node: simulated ms from its cordon to its uncordon. */
  outOfService: Record<string, number>;
  /** From the first need to the last slot released, simulated ms. */
  makespanMs: number;
  /** ceil(nodes / concurrency) × the median per-node cycle (slot taken → released). */
  idealMs: number;
  simulatedMs: number;
  realMs: number;
  maxConcurrent: number;
  evictions: number;
  violations: string[];
}

const NAMESPACE = "sluice";
const GROUP = "demo";

export function clockText(ms: number): string {
  const s = Math.floor(ms / 1000);
  return [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60].map((n) => String(n).padStart(2, "0")).join(":");
}

/** A simulated Flatcar host: boot id, os-release, and a reboot the demo carries out. */
class DemoHost implements Host {
  bootIdValue = randomUUID();
  version = "4459.2.0";
  constructor(private readonly onReboot: () => void) {}
  async bootId() {
    return this.bootIdValue;
  }
  async osRelease(): Promise<OsRelease> {
    return { id: "flatcar", version: this.version, fields: { ID: "flatcar", VERSION: this.version } };
  }
  async run(): Promise<RunResult> {
    throw new Error("not used by the agent");
  }
  async reboot() {
    queueMicrotask(this.onReboot);
  }
  async notifyReady() {}
  async notifyStatus() {}
}

export async function runDemo(o: DemoOptions): Promise<DemoSummary> {
  const clock: Clock = scaledClock(o.speed);
  const quiet = new Logger({ sink: { write: () => true }, level: "error" });
  const server = await new SimServer({ clock, namespaces: [NAMESPACE, "apps"], log: quiet }).start();
  const cluster = new SimCluster(server, { podReadyDelayMs: 5_000, rebootMs: o.rebootMs });
  const names = Array.from({ length: o.nodes }, (_, i) => `node-${String(i + 1).padStart(2, "0")}`);
  for (const n of names) cluster.addNode(n);
  const replicas = o.nodes * o.podsPerNode;
  if (replicas > 0) cluster.addWorkload("apps", "web", replicas, names);
  server.apply({ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "web", namespace: "apps" }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: "web" } } } });
  const root = mkdtempSync(join(tmpdir(), "sluice-demo-"));

  const t0 = clock.monotonic();
  const real0 = performance.now();
  const say = (node: string, text: string) => o.out.write(`[${clockText(clock.monotonic() - t0)}] ${node.padEnd(8)} ${text}\n`);
  o.out.write(
    `sluice demo: ${o.nodes} simulated Flatcar nodes, each running the sluice agent; ${replicas} pods of apps/web behind a PodDisruptionBudget (maxUnavailable 1); ` +
      `${o.concurrency} reboot slot${o.concurrency > 1 ? "s" : ""}; time x${o.speed}\n`,
  );

  // Watch the store (every committed write, nothing dropped) for what the agents did.
  const violations: string[] = [];
  let maxConcurrent = 0;
  let evictions = 0;
  const holdersNow = () => server.store.list("coordination.k8s.io/leases", NAMESPACE).filter((l) => l.metadata.labels?.["sluice.dev/role"] === "slot" && l.spec?.holderIdentity).map((l) => l.spec.holderIdentity as string);
  const taken = new Map<string, number>();
  const cycles: number[] = [];
  let lastRelease = 0;
  const unwatch = [
    server.store.subscribe("coordination.k8s.io/leases", (ev) => {
      const holders = holdersNow();
      maxConcurrent = Math.max(maxConcurrent, holders.length);
      if (holders.length > o.concurrency) violations.push(`${holders.length} holders for ${o.concurrency} slots`);
      const before = ev.prev?.spec?.holderIdentity as string | undefined;
      const after = ev.obj.spec?.holderIdentity as string | undefined;
      if (ev.obj.metadata.labels?.["sluice.dev/role"] !== "slot" || before === after) return;
      const now = clock.monotonic();
      if (after) taken.set(after, now);
      if (before && taken.has(before)) {
        cycles.push(now - taken.get(before)!);
        lastRelease = now;
      }
    }),
    server.store.subscribe("/pods", (ev) => {
      if (ev.type !== "MODIFIED" || !ev.obj.metadata.deletionTimestamp || ev.prev?.metadata.deletionTimestamp) return;
      evictions += 1;
      const node = ev.obj.spec?.nodeName as string;
      if (names.includes(node) && !holdersNow().includes(node)) violations.push(`${node}: pod evicted without a slot`);
    }),
  ];
  const cordonedAt = new Map<string, number>();
  const outOfService: Record<string, number> = {};
  unwatch.push(
    server.store.subscribe("/nodes", (ev) => {
      const n = ev.obj.metadata.name as string;
      const was = ev.prev?.spec?.unschedulable === true;
      const is = ev.obj.spec?.unschedulable === true;
      if (!was && is) cordonedAt.set(n, clock.monotonic());
      if (was && !is && cordonedAt.has(n)) outOfService[n] = (outOfService[n] ?? 0) + clock.monotonic() - cordonedAt.get(n)!;
    }),
  );

  const settings: Settings = { ...defaults(), namespace: NAMESPACE, group: GROUP, concurrency: o.concurrency, lockReleaseDelay: 30_000, updateEngine: "off", metricsPort: 0, drainTimeout: 30 * 60_000, inhibitPaths: [] };
  let rebooted = 0;
  let firstNeed = Number.POSITIVE_INFINITY;
  const kubes = new Map<string, Kube>();

  const runHost = async (node: string, index: number): Promise<void> => {
    const dir = join(root, node);
    const sentinel = join(dir, "reboot-required");
    mkdirSync(dir, { recursive: true });
    const kube = kubes.get(node) ?? new HttpKube(resolveKubeconfig(server.kubeconfigYaml()));
    kubes.set(node, kube);
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    let stopAgent: AbortController | undefined;
    let signals: RebootSignals | undefined;
    let agentRun: Promise<void> = Promise.resolve();
    const host = new DemoHost(() => void goDown());
    const log = quiet.child({ node });
    const s: Settings = { ...settings, nodeName: node, stateDir: dir, rebootSentinel: sentinel };

    const start = async () => {
      stopAgent = new AbortController();
      signals = createRebootSignals({ rebootSentinel: sentinel, rebootSentinelCommand: null, periodMs: s.period, sentinelCommandTimeoutMs: 10_000, updateEngine: "off" }, { clock, log });
      await signals.start(stopAgent.signal);
      const events = new KubeEventRecorder({ kube, clock, log }, { host: node });
      const agent = new Agent(
        {
          clock, host, fs: nodeFs, log, kube, events, signals, fetch: globalThis.fetch, notifier: { send: async () => {} },
          metrics: {
            transition: (from, to) => {
              if (from === to) return;
              if (to === "idle" && from === "releasing") {
                say(node, "released its slot: done");
                done();
              } else say(node, `${from} → ${to}`);
            },
          },
        },
        { settings: s, windows: [], node },
      );
      agentRun = agent.run(stopAgent.signal);
    };
    const goDown = async () => {
      // systemd stops sluice with SIGTERM on the way down; the slot stays held.
      stopAgent?.abort();
      await agentRun;
      await signals?.stopped();
      rebooted += 1;
      say(node, `host rebooting (down for ${clockText(o.rebootMs)})`);
      cluster.setNodeReady(node, false);
      // /run is a tmpfs: the sentinel is gone after the boot; the update is now the running version.
      rmSync(sentinel, { force: true });
      await clock.sleep(o.rebootMs, o.signal).catch(() => {});
      if (o.signal.aborted) return;
      host.bootIdValue = randomUUID();
      host.version = "4459.2.1";
      const n = cluster.setNodeReady(node, true);
      server.registry.writeInternal("/nodes", { ...n, status: { ...n.status, nodeInfo: { ...(n.status?.nodeInfo ?? {}), bootID: host.bootIdValue } } });
      await start();
    };

    await start();
    // Updates land a few minutes apart, as Flatcar's update_engine checks at different times.
    await clock.sleep(index * (o.staggerMs ?? 20_000), o.signal).catch(() => {});
    if (o.signal.aborted) return;
    firstNeed = Math.min(firstNeed, clock.monotonic());
    say(node, "update staged: /run/reboot-required appears");
    writeFileSync(sentinel, "");
    const onAbort = () => done();
    o.signal.addEventListener("abort", onAbort, { once: true });
    await finished;
    o.signal.removeEventListener("abort", onAbort);
    stopAgent?.abort();
    await agentRun;
    await signals?.stopped();
  };

  try {
    await Promise.all(names.map((n, i) => runHost(n, i)));
  } finally {
    for (const u of unwatch) u();
    cluster.stop();
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
  const sorted = [...cycles].sort((a, b) => a - b);
  const median = sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0;
  const summary: DemoSummary = {
    nodes: o.nodes,
    rebooted,
    outOfService,
    makespanMs: Math.max(0, lastRelease - (Number.isFinite(firstNeed) ? firstNeed : 0)),
    idealMs: Math.ceil(o.nodes / o.concurrency) * median,
    simulatedMs: clock.monotonic() - t0,
    realMs: performance.now() - real0,
    maxConcurrent,
    evictions,
    violations,
  };
  const worst = Object.entries(outOfService).sort((a, b) => b[1] - a[1])[0];
  o.out.write(
    `done: ${summary.rebooted} of ${summary.nodes} nodes rebooted in ${clockText(summary.simulatedMs)} simulated (${(summary.realMs / 1000).toFixed(1)} s real); ` +
      `makespan ${clockText(summary.makespanMs)} vs ideal ${clockText(summary.idealMs)} (${summary.idealMs ? (summary.makespanMs / summary.idealMs).toFixed(2) : "-"}x); ` +
      `at most ${summary.maxConcurrent} at once (slots: ${o.concurrency}); ${summary.evictions} pods evicted; ` +
      `longest out of service ${worst ? `${worst[0]} ${clockText(worst[1])}` : "-"}; invariant violations: ${violations.length ? violations.join("; ") : "none"}\n`,
  );
  return summary;
}
