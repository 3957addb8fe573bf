/**
 * `sluice demo`: the fleet simulator (agent/sim/fleet) with an audience. Every simulated host
 * runs the real agent (state machine, lock, gates, drain, Events) against the in-memory API
 * server, with its own state directory and its own sentinel file watched by the real signals
 * module; its reboot stops the agent with SIGTERM (as systemd does on the way down), keeps the
 * Node NotReady for the reboot time and starts a new agent with a new boot id. The summary is
 * counted from the API server's store and the hosts, never assumed.
 */
import type { Settings } from "../../config";
import { nodeNames, Fleet, rollout, type RolloutSummary } from "../../sim/fleet";
import { describeWindow, nextWindowOpening, openingAt, windowContains, type WindowSpec } from "../../window";
import { clockText, Painter, renderView, type ViewModel } from "./view";

export { clockText } from "./view";

export interface DemoOptions {
  nodes: number;
  podsPerNode: number;
  concurrency: number;
  rebootMs: number;
  /** Simulated ms per real ms, or "max": as fast as the machine goes (time jumps between events). */
  speed: number | "max";
  pdb?: boolean;
  windows?: WindowSpec[];
  seed?: number;
  /** Redraw a live view in place (a terminal); otherwise print one plain line per change. */
  tty?: boolean;
  columns?: number;
  out: { write(s: string): unknown };
  signal: AbortSignal;
  /** Simulated ms between one node's update landing and the next's. */
  staggerMs?: number;
  /** Wall time the simulation starts at (default: now, so windows fall where they would). */
  startAt?: number;
}

export interface DemoSummary extends RolloutSummary {
  /** Per node: simulated ms from its cordon to its uncordon (the same as downtimeMs). */
  outOfService: Record<string, number>;
  maxConcurrent: number;
  /** Window openings the rollout used (only with --window). */
  windowsUsed: number;
  /** Stopped (SIGTERM, Ctrl-C) before every node had its turn: the end-state checks do not apply. */
  interrupted: boolean;
}

const NAMESPACE = "sluice";
const GROUP = "demo";
/** Above this many nodes the hosts' needs are set directly rather than through per-host inotify watches. */
const SENTINEL_MAX_NODES = 200;

export async function runDemo(o: DemoOptions): Promise<DemoSummary> {
  const windows = o.windows ?? [];
  const settings: Partial<Settings> = {
    namespace: NAMESPACE, group: GROUP, concurrency: o.concurrency, lockReleaseDelay: 30_000,
    updateEngine: "off", metricsPort: 0, drainTimeout: 30 * 60_000, inhibitPaths: [],
    // kured's hour: the period tick is the agent's safety-net resync and changes nothing here
    // (windows, needs and the lock all wake it), but hundreds of agents each resyncing every
    // minute at their own instant would stop the simulated clock at every one of them, and a
    // fleet waiting a week for its window would take an hour to watch.
    period: 3600_000,
  };
  const names = nodeNames(o.nodes);
  const sentinel = o.nodes <= SENTINEL_MAX_NODES;
  const fleet = await new Fleet({
    nodes: names, settings, windows, podsPerNode: o.podsPerNode, seed: o.seed ?? 1, rebootMs: o.rebootMs, rebootJitter: 0.2,
    podReadyDelayMs: 5_000, needs: sentinel ? "sentinel" : "fake", shutdown: "sigterm", keepLogs: false, logLevel: "error",
    start: o.startAt ?? Date.now(),
    ...(o.pdb ? { pdb: { maxUnavailable: 1 } } : {}),
  }).start();
  const t0 = fleet.clock.monotonic();
  const since = () => fleet.clock.monotonic() - t0;
  const replicas = o.nodes * o.podsPerNode;
  const speedText = o.speed === "max" ? "time jumps between events" : `time x${o.speed}`;
  const title = `sluice demo: ${o.nodes} nodes · ${o.concurrency} slot${o.concurrency > 1 ? "s" : ""} · reboot ${clockText(o.rebootMs)} · ${speedText}`;
  o.out.write(
    `${title}\n${o.nodes} simulated Flatcar hosts, each running the sluice agent${sentinel ? " watching its own /run/reboot-required" : ""}; ` +
      `${replicas} pods of apps/web${o.pdb ? " behind a PodDisruptionBudget (maxUnavailable 1)" : ""}${windows.length ? `; window ${windows.map(describeWindow).join(", ")}` : ""}; seed ${o.seed ?? 1}\n`,
  );

  const recent: string[] = [];
  const takenAt = new Map<string, number>();
  const done = new Set<string>();
  const say = (node: string, text: string) => {
    const line = `[${clockText(since())}] ${node.padEnd(8)} ${text}`;
    if (o.tty) {
      recent.push(line);
      if (recent.length > 5) recent.shift();
    } else o.out.write(`${line}\n`);
  };
  const windowOpenings = new Set<number>();
  fleet.onTransition = (node, from, to) => {
    if (from === to) return;
    if (to === "draining") {
      takenAt.set(node, fleet.clock.monotonic());
      for (const w of windows) {
        const opening = openingAt(w, fleet.clock.now());
        if (opening) windowOpenings.add(opening.start);
      }
    }
    if (to === "rebooting" && from === "draining") say(node, `${from} → ${to}`);
    else if (to === "idle" && from === "releasing") {
      done.add(node);
      say(node, "released its slot: done");
    } else say(node, `${from} → ${to}`);
  };
  const origRebooting = fleet.rebooting.bind(fleet);
  fleet.rebooting = (node) => {
    origRebooting(node);
    say(node, `host rebooting (down for ${clockText(fleet.host(node).rebootMs)})`);
  };
  for (const n of names) {
    const h = fleet.host(n);
    const need = h.needReboot.bind(h);
    h.needReboot = (version, at) => {
      say(n, sentinel ? "update staged: /run/reboot-required appears" : "update staged");
      need(version, at);
    };
  }

  const painter = new Painter(o.out);
  let lastPaint = 0;
  const view = (): ViewModel => {
    const pods = fleet.server.store.list("/pods", "apps");
    const ready = (p: (typeof pods)[number]) => (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === "Ready" && c.status === "True");
    const cycles = fleet.observer.cycles();
    const cycle = cycles.length ? cycles.reduce((a, b) => a + b, 0) / cycles.length : o.rebootMs + 90_000;
    const left = o.nodes - done.size;
    const now = fleet.clock.now();
    return {
      title,
      elapsedMs: since(),
      phases: names.map((n) => [n, done.has(n) && fleet.phases.get(n) === "idle" ? "done" : fleet.host(n).broken ? "broken" : fleet.phases.get(n) ?? "idle"]),
      done: done.size,
      total: o.nodes,
      etaMs: left === 0 ? 0 : windows.length ? null : Math.ceil(left / o.concurrency) * cycle,
      holders: fleet.slotHolders().map((n) => ({ slot: "", node: n, phase: fleet.phases.get(n) ?? "?", forMs: fleet.clock.monotonic() - (takenAt.get(n) ?? fleet.clock.monotonic()) })),
      queue: fleet.waiters(),
      pods: { running: pods.filter((p) => ready(p) && !p.metadata.deletionTimestamp).length, terminating: pods.filter((p) => p.metadata.deletionTimestamp).length, starting: pods.filter((p) => !ready(p) && !p.metadata.deletionTimestamp).length, evicted: fleet.observer.evictions },
      window: windows.length ? (windowContains(windows, now) ? "open" : `closed; opens in ${clockText((nextWindowOpening(windows, now)?.start ?? now) - now)}`) : null,
      recent,
    };
  };
  const onStep = () => {
    if (!o.tty || performance.now() - lastPaint < 100) return;
    lastPaint = performance.now();
    painter.paint(renderView(view(), o.columns ?? 80));
  };
  const onAbort = () => void fleet.stop();
  o.signal.addEventListener("abort", onAbort, { once: true });
  let summary: RolloutSummary;
  try {
    fleet.startAll();
    await fleet.runUntil(() => names.every((n) => fleet.host(n).agent?.started), "the agents to start", { maxMs: 3600_000 });
    summary = await rollout(fleet, { staggerMs: o.staggerMs ?? 20_000, ...(o.speed === "max" ? {} : { speed: o.speed }), onStep });
    if (o.tty) painter.paint(renderView(view(), o.columns ?? 80));
  } finally {
    o.signal.removeEventListener("abort", onAbort);
    if (!fleet.stopping.aborted) await fleet.stop();
  }
  // Stopped early, the nodes that had not had their turn are not violations: only what the
  // observer saw while the run went on is.
  const interrupted = o.signal.aborted;
  const violations = interrupted ? summary.violations.filter((v) => fleet.violations.includes(v)) : summary.violations;
  const result: DemoSummary = { ...summary, violations, outOfService: summary.downtimeMs, maxConcurrent: summary.maxHolders, windowsUsed: windowOpenings.size, interrupted };
  o.out.write(summaryText(result, o));
  return result;
}

export function summaryText(s: DemoSummary, o: Pick<DemoOptions, "concurrency" | "windows">): string {
  const down = Object.entries(s.outOfService).sort((a, b) => a[1] - b[1]);
  const median = down.length ? down[Math.floor(down.length / 2)]![1] : 0;
  const worst = down.at(-1);
  const lines = [
    `${s.interrupted ? "interrupted" : "done"}: ${s.rebooted} of ${s.nodes} nodes rebooted in ${clockText(s.simulatedMs)} simulated (${(s.realMs / 1000).toFixed(1)} s real)`,
    `makespan ${clockText(s.makespanMs)} vs ideal ${clockText(s.idealMs)} (${s.idealMs ? (s.makespanMs / s.idealMs).toFixed(2) : "-"}x; ideal = ceil(${s.nodes}/${o.concurrency}) x median cycle ${clockText(s.cycleMs)})`,
    `out of service per node: median ${clockText(median)}, longest ${worst ? `${worst[0]} ${clockText(worst[1])}` : "-"}; ${s.evictions} pods evicted; at most ${s.maxConcurrent} at once (slots: ${o.concurrency})`,
  ];
  if (o.windows?.length) lines.push(`maintenance windows used: ${s.windowsUsed}`);
  lines.push(`invariant violations: ${s.violations.length ? s.violations.join("; ") : "none"}`);
  return `${lines.join("\n")}\n`;
}
