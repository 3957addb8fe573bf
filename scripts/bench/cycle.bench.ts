/**
 * cycle.*: how fast the agent reacts, on the real clock, against the in-memory API server on
 * loopback, with real sentinel-file signals (inotify):
 * - cycle.start: the sentinel file appears → the node's first eviction, with a free slot and an
 *   open window (kured takes up to its period, an hour by default);
 * - cycle.handover: the holder's release of the slot → the next agent's first eviction.
 * Median and p95 of 7 trials each; goal p50 under 1 s.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaults, type Settings } from "../../agent/config";
import { nodeFs } from "../../agent/host";
import { HttpKube, resolveKubeconfig } from "../../agent/kube";
import { Logger, nullLogger } from "../../agent/log";
const dbg = process.env.BENCH_DEBUG ? new Logger({ sink: process.stderr, level: "debug" }) : nullLogger;
import { type Host, discardEvents, systemClock } from "../../agent/ports";
import { Agent } from "../../agent/reboot";
import { createRebootSignals } from "../../agent/signals";
import { SimCluster, SimServer } from "../../agent/sim";
import { type BenchSuite, type Figure, figure, percentiles } from "./types";

const TRIALS = 7;

function host(onReboot: () => void): Host {
  const boot = randomUUID();
  return {
    bootId: async () => boot,
    osRelease: async () => ({ id: "flatcar", version: "1", fields: {} }),
    run: async () => ({ exitCode: 0, signal: null, stdout: "", stderr: "", timedOut: false }),
    reboot: async () => onReboot(),
    notifyReady: async () => {},
    notifyStatus: async () => {},
  };
}

async function startAgent(server: SimServer, node: string, dir: string, onReboot: () => void) {
  const sentinel = join(dir, `${node}-reboot-required`);
  const stop = new AbortController();
  const stateDir = join(dir, node);
  mkdirSync(stateDir, { recursive: true });
  const s: Settings = { ...defaults(), nodeName: node, stateDir, rebootSentinel: sentinel, updateEngine: "off", metricsPort: 0, inhibitPaths: [], drainGracePeriod: 1 };
  const signals = createRebootSignals({ rebootSentinel: sentinel, rebootSentinelCommand: null, periodMs: s.period, sentinelCommandTimeoutMs: 10_000, updateEngine: "off" }, { clock: systemClock, log: nullLogger });
  await signals.start(stop.signal);
  const agent = new Agent(
    { clock: systemClock, host: host(onReboot), fs: nodeFs, log: dbg.child({ node }), kube: new HttpKube(resolveKubeconfig(server.kubeconfigYaml())), events: discardEvents, notifier: { send: async () => {} }, signals, fetch: globalThis.fetch },
    { settings: s, windows: [], node },
  );
  const running = agent.run(stop.signal);
  while (!agent.started) await new Promise((r) => setTimeout(r, 5));
  return { agent, sentinel, stop: async () => (stop.abort(), await running, await signals.stopped()) };
}

/** Resolves with the time of the first eviction of a pod on `node` (its deletionTimestamp appearing). */
function firstEviction(server: SimServer, node: string): Promise<number> {
  return new Promise((resolve) => {
    const off = server.store.subscribe("/pods", (ev) => {
      if (ev.type === "MODIFIED" && ev.obj.spec?.nodeName === node && ev.obj.metadata.deletionTimestamp && !ev.prev?.metadata.deletionTimestamp) {
        off();
        resolve(performance.now());
      }
    });
  });
}

async function trial(): Promise<{ startMs: number; handoverMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-bench-cycle-"));
  const server = await new SimServer({ namespaces: ["sluice", "apps"] }).start();
  const cluster = new SimCluster(server, { podReadyDelayMs: 100 });
  const agents: { stop(): Promise<void> }[] = [];
  try {
    for (const n of ["node-a", "node-b", "node-c"]) cluster.addNode(n);
    cluster.addWorkload("apps", "web", 2, ["node-a", "node-b"]);
    // node-a's "reboot" releases nothing by itself: the bench lets it recover at once.
    let rebootedA!: () => void;
    const aRebooted = new Promise<void>((r) => (rebootedA = r));
    const a = await startAgent(server, "node-a", dir, () => rebootedA());
    const b = await startAgent(server, "node-b", dir, () => {});
    agents.push(a, b);

    const evictedA = firstEviction(server, "node-a");
    const t0 = performance.now();
    writeFileSync(a.sentinel, "");
    const startMs = (await evictedA) - t0;

    // node-b queues behind node-a; its first eviction after node-a hands the slot on is the handover.
    writeFileSync(b.sentinel, "");
    while (!server.store.list("coordination.k8s.io/leases", "sluice").some((l) => l.metadata.labels?.["sluice.dev/role"] === "waiter")) await new Promise((r) => setTimeout(r, 5));
    const released = new Promise<number>((resolve) => {
      const off = server.store.subscribe("coordination.k8s.io/leases", (ev) => {
        if (ev.prev?.spec?.holderIdentity === "node-a" && !ev.obj.spec?.holderIdentity) {
          off();
          resolve(performance.now());
        }
      });
    });
    const evictedB = firstEviction(server, "node-b");
    await aRebooted;
    await a.stop();
    // The host is back at once, with a new boot id: a fresh agent recovers and releases.
    const n = cluster.setNodeReady("node-a", true);
    server.registry.writeInternal("/nodes", { ...n, status: { ...n.status, nodeInfo: { ...(n.status?.nodeInfo ?? {}), bootID: "" } } });
    rmSync(a.sentinel, { force: true });
    const a2 = await startAgent(server, "node-a", dir, () => {});
    agents.push(a2);
    const handoverMs = (await evictedB) - (await released);
    return { startMs, handoverMs };
  } finally {
    for (const x of agents) await x.stop().catch(() => {});
    cluster.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const suite: BenchSuite = {
  prefix: "cycle",
  async run(): Promise<Figure[]> {
    const runs: { startMs: number; handoverMs: number }[] = [];
    for (let i = 0; i < TRIALS; i++) runs.push(await trial());
    const start = percentiles(runs.map((r) => r.startMs));
    const handover = percentiles(runs.map((r) => r.handoverMs));
    return [
      figure("cycle.start.p50", start.p50, "ms", { maxValue: 1000, goal: "sentinel → first eviction < 1000 ms (kured: up to its period, 1 h)" }),
      figure("cycle.start.p95", start.p95, "ms"),
      figure("cycle.handover.p50", handover.p50, "ms", { maxValue: 1000, goal: "release → next agent's first eviction < 1000 ms" }),
      figure("cycle.handover.p95", handover.p95, "ms"),
    ];
  },
};

export default suite;
