/**
 * The agent's metrics: one small object with a method per thing that happened, so
 * agent/reboot's `commit` and the loop never touch prom-client. prom-client is imported here
 * dynamically: with metricsPort 0 the caller uses `noMetrics` and the library is never loaded.
 */
import { type Clock, systemClock } from "../ports";
import { FAMILIES, type Family, PHASES } from "./families";

export interface AgentMetricsOptions {
  node: string;
  group: string;
  version: string;
  /** Also export kured's `kured_reboot_required{node}`, so a migrating operator's dashboards keep working. */
  kuredCompat?: boolean;
  /** Wall clock for `sluice_reboot_pending_seconds`, computed at scrape time. */
  clock?: Pick<Clock, "now">;
}

export interface AgentMetrics {
  /** A change of phase (`from` is accepted to match `commit(from, to)`; only `to` is shown). */
  transition(fromPhase: string, toPhase: string, atMs: number): void;
  /** Whether a reboot is needed and, if so, since when (epoch ms; survives restarts in state.json). */
  rebootRequired(needed: boolean, sinceMs?: number): void;
  lockHeld(held: boolean): void;
  /** The full current set of block reasons; a reason left out is no longer reported. */
  blocked(reasons: Record<string, boolean>): void;
  /** The full current set of inhibitors by source; a source left out is no longer reported. */
  inhibited(bySource: Record<string, boolean>): void;
  window(open: boolean, nextOpenMs: number | null): void;
  queuePosition(pos: number | null): void;
  rebooted(): void;
  drainDuration(seconds: number): void;
  rollback(): void;
  lockLost(): void;
  /** The exposition text, as a scrape would see it. */
  text(): Promise<string>;
  readonly contentType: string;
}

/** What the agent uses when metrics are off (metricsPort 0): every call does nothing. */
export const noMetrics: AgentMetrics = {
  transition: () => {},
  rebootRequired: () => {},
  lockHeld: () => {},
  blocked: () => {},
  inhibited: () => {},
  window: () => {},
  queuePosition: () => {},
  rebooted: () => {},
  drainDuration: () => {},
  rollback: () => {},
  lockLost: () => {},
  text: async () => "",
  contentType: "text/plain; version=0.0.4; charset=utf-8",
};

/**
 * Label values of `blocked` and `inhibited` come from the world (an inhibit file's name): they are
 * capped so that a directory full of files cannot grow the scrape without bound.
 */
export const MAX_LABEL_VALUES = 16;
export const MAX_LABEL_LENGTH = 64;

/**
 * Only the four classes sluice uses, file by file: prom-client's index also loads its cluster
 * aggregator, Pushgateway, Summary and default metrics, which kept ~12 MiB more resident in an
 * idle process (measured: bare node 42.7 MiB; registry via the index 55.4; via these files 43.3).
 */
async function loadPromClient() {
  const [registry, gauge, counter, histogram] = await Promise.all([
    import("prom-client/lib/registry.js"),
    import("prom-client/lib/gauge.js"),
    import("prom-client/lib/counter.js"),
    import("prom-client/lib/histogram.js"),
  ]);
  return { Registry: registry.default, Gauge: gauge.default, Counter: counter.default, Histogram: histogram.default };
}

const finite = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n);

export async function createAgentMetrics(o: AgentMetricsOptions): Promise<AgentMetrics> {
  const prom = await loadPromClient();
  const clock = o.clock ?? systemClock;
  const registry = new prom.Registry();
  const family = (name: string): Family => {
    const f = FAMILIES.find((x) => x.name === name);
    if (!f) throw new Error(`metric family ${name} is not declared in families.ts`);
    return f;
  };
  const gauge = (name: string, collect?: (g: InstanceType<typeof prom.Gauge>) => void) => {
    const f = family(name);
    return new prom.Gauge({
      name,
      help: f.help,
      labelNames: [...f.labels],
      registers: [registry],
      ...(collect ? { collect() { collect(this); } } : {}),
    });
  };
  const counter = (name: string) => new prom.Counter({ name, help: family(name).help, registers: [registry] });

  let needSince: number | null = null;
  const info = gauge("sluice_info");
  const state = gauge("sluice_state");
  const lastTransition = gauge("sluice_last_transition_timestamp_seconds");
  const required = gauge("sluice_reboot_required");
  gauge("sluice_reboot_pending_seconds", (g) => g.set(needSince === null ? 0 : Math.max(0, (clock.now() - needSince) / 1000)));
  const lockHeld = gauge("sluice_lock_held");
  const queue = gauge("sluice_lock_queue_position");
  const blocked = gauge("sluice_reboot_blocked");
  const inhibited = gauge("sluice_inhibited");
  const windowOpen = gauge("sluice_window_open");
  const nextOpen = gauge("sluice_window_next_open_timestamp_seconds");
  const reboots = counter("sluice_reboots_total");
  const rollbacks = counter("sluice_update_rollback_total");
  const lockLost = counter("sluice_lock_lost_total");
  const drainFamily = family("sluice_drain_duration_seconds");
  const drain = new prom.Histogram({ name: drainFamily.name, help: drainFamily.help, buckets: [...(drainFamily.buckets ?? [])], registers: [registry] });
  const kured = o.kuredCompat ? gauge("kured_reboot_required") : null;

  info.set({ version: o.version, node: o.node, group: o.group }, 1);
  for (const p of PHASES) state.set({ state: p }, p === "idle" ? 1 : 0);
  required.set(0);
  kured?.set({ node: o.node }, 0);
  lockHeld.set(0);
  windowOpen.set(0);
  // Absent until known: "no transition yet", "no queue position" and "no next opening" are not numbers.
  lastTransition.remove({});
  queue.remove({});
  nextOpen.remove({});

  /** Sets the reported label values to exactly `values`, removing the ones no longer reported. */
  const replaceSet = (g: InstanceType<typeof prom.Gauge>, label: string, seen: Set<string>, values: Record<string, boolean>) => {
    const next = new Map<string, boolean>();
    for (const [k, v] of Object.entries(values ?? {})) {
      if (next.size >= MAX_LABEL_VALUES) break;
      next.set(String(k).slice(0, MAX_LABEL_LENGTH), Boolean(v));
    }
    for (const old of seen) if (!next.has(old)) g.remove({ [label]: old });
    seen.clear();
    for (const [k, v] of next) {
      g.set({ [label]: k }, v ? 1 : 0);
      seen.add(k);
    }
  };
  const blockedSeen = new Set<string>();
  const inhibitedSeen = new Set<string>();

  return {
    transition(_from, to, atMs) {
      if (!(PHASES as readonly string[]).includes(to)) return;
      for (const p of PHASES) state.set({ state: p }, p === to ? 1 : 0);
      if (finite(atMs)) lastTransition.set(atMs / 1000);
    },
    rebootRequired(needed, sinceMs) {
      required.set(needed ? 1 : 0);
      kured?.set({ node: o.node }, needed ? 1 : 0);
      if (!needed) needSince = null;
      else if (finite(sinceMs)) needSince = sinceMs;
      else needSince ??= clock.now();
    },
    lockHeld: (held) => lockHeld.set(held ? 1 : 0),
    blocked: (reasons) => replaceSet(blocked, "reason", blockedSeen, reasons),
    inhibited: (bySource) => replaceSet(inhibited, "source", inhibitedSeen, bySource),
    window(open, nextOpenMs) {
      windowOpen.set(open ? 1 : 0);
      if (finite(nextOpenMs)) nextOpen.set(nextOpenMs / 1000);
      else nextOpen.remove({});
    },
    queuePosition(pos) {
      if (finite(pos) && pos >= 0) queue.set(Math.floor(pos));
      else queue.remove({});
    },
    rebooted: () => reboots.inc(),
    drainDuration(seconds) {
      if (finite(seconds) && seconds >= 0) drain.observe(seconds);
    },
    rollback: () => rollbacks.inc(),
    lockLost: () => lockLost.inc(),
    text: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
