/**
 * One OS update rolled through a simulated fleet: every host's update is staged (a stagger
 * apart), the agents do the rest, and the run is judged by what the observer saw and by the
 * end state — the figures the demo prints and the benchmarks report.
 */
import type { Fleet } from "./fleet";
import type { NodeRecord } from "./observer";

export interface RolloutOptions {
  /** Simulated ms between one host's update being staged and the next's (0: all at once). */
  staggerMs?: number;
  version?: string;
  /** Give up after this much simulated time. */
  maxMs?: number;
  /** Step the clock in real time, `speed` simulated ms per real ms (default: as fast as possible). */
  speed?: number;
  /** Called after each step of the clock (the demo's view). */
  onStep?: () => void;
  /** Hosts expected never to come back (a broken update): not waited for, excepted from "rebooted once". */
  broken?: string[];
}

export interface RolloutSummary {
  nodes: number;
  slots: number;
  /** Hosts that went down at least once. */
  rebooted: number;
  /** From the first staged update to the last slot released, simulated ms. */
  makespanMs: number;
  /** Median slot cycle (taken → released), simulated ms. */
  cycleMs: number;
  /** ceil(nodes / slots) × cycleMs: the makespan of a perfect scheduler with these cycles. */
  idealMs: number;
  /**
   * Slot time left unused while a staged host waited for its first slot, simulated ms: the sum over
   * time of min(free slots, hosts waiting). The part of the makespan the lock answers for; the rest
   * is the cycles themselves (reboot times, drains a PDB holds back). Windows count here too.
   */
  idleSlotMs: number;
  /** Per node: simulated ms cordoned (out of service). */
  downtimeMs: Record<string, number>;
  evictions: number;
  maxHolders: number;
  /** Broken invariants, seen as they happened and at the end. */
  violations: string[];
  /** Requests the API server answered (all agents, the whole run). */
  requests: number;
  simulatedMs: number;
  realMs: number;
}

export async function rollout(fleet: Fleet, o: RolloutOptions = {}): Promise<RolloutSummary> {
  const broken = new Set(o.broken ?? []);
  const names = [...fleet.hosts.keys()];
  const t0 = fleet.clock.monotonic();
  const real0 = performance.now();
  const requests0 = totalRequests(fleet);
  let staged = 0;
  const stagger = o.staggerMs ?? 0;
  names.forEach((n, i) => {
    const stage = () => {
      fleet.observer.record(n).needAt = fleet.clock.monotonic();
      fleet.host(n).needReboot(o.version ?? "4459.2.1");
      staged += 1;
    };
    if (stagger <= 0 || i === 0) stage();
    else void fleet.clock.sleep(i * stagger, fleet.stopping).then(stage, () => {});
  });
  const done = (n: string) => {
    const h = fleet.host(n);
    if (broken.has(n)) return h.broken;
    return fleet.observer.record(n).reboots >= 1 && !h.down && h.agent?.started === true && h.agent.current().phase === "idle";
  };
  // Asked after every step of the clock: hosts found done are skipped until the last one is,
  // and then all are asked again (a host can be undone: its agent restarting), so a thousand-host
  // rollout does not ask a thousand hosts per step.
  let cursor = 0;
  const finished = () => {
    if (staged !== names.length) return false;
    while (cursor < names.length && done(names[cursor]!)) cursor += 1;
    if (cursor < names.length) return false;
    cursor = 0;
    return names.every(done) && fleet.slotHolders().every((h) => broken.has(h));
  };
  if (o.speed) await pace(fleet, o.speed, finished, o);
  else await fleet.runUntil(finished, "the rollout to finish", { ...(o.maxMs ? { maxMs: o.maxMs } : {}), ...(o.onStep ? { onStep: o.onStep } : {}) });
  return summarize(fleet, t0, real0, requests0, broken);
}

/** Real-time pacing for people watching: the clock follows real time × speed. */
async function pace(fleet: Fleet, speed: number, done: () => boolean, o: RolloutOptions): Promise<void> {
  const start = fleet.clock.monotonic();
  const real0 = performance.now();
  const max = o.maxMs ?? 30 * 24 * 3600_000;
  while (!done()) {
    if (fleet.stopping.aborted) return;
    if (fleet.failures.length) throw new Error(fleet.failures.join("\n"));
    if (fleet.clock.monotonic() - start > max) throw new Error("timed out waiting for the rollout to finish");
    await new Promise((r) => setTimeout(r, 20));
    await fleet.clock.advanceTo(start + (performance.now() - real0) * speed);
    o.onStep?.();
  }
}

function totalRequests(fleet: Fleet): number {
  return Object.values(fleet.server.faults.counters()).reduce((a, b) => a + b, 0);
}

/** What must hold once the run is over, besides what the observer saw while it ran. */
export function endViolations(fleet: Fleet, broken: Set<string>): string[] {
  const out: string[] = [];
  for (const [name, h] of fleet.hosts) {
    const r = fleet.observer.record(name);
    const node = fleet.server.store.get("/nodes", name);
    if (broken.has(name)) continue;
    if (r.needAt !== undefined && r.reboots !== 1) out.push(`${name}: rebooted ${r.reboots} times for one need`);
    if (node && node.spec?.unschedulable === true && r.schedulableAtStart) out.push(`${name}: left cordoned`);
    void h;
  }
  for (const holder of fleet.slotHolders()) {
    if (broken.has(holder)) continue;
    const phase = fleet.hosts.get(holder)?.agent?.current().phase;
    if (phase === "idle" || phase === "pending" || phase === undefined) out.push(`${holder}: holds a slot while ${phase ?? "not a host"}`);
  }
  for (const b of broken) if (!fleet.slotHolders().includes(b) && fleet.server.store.get("/nodes", b)) out.push(`${b}: broken but its slot was released (lockTtl 0 must halt the group)`);
  return out;
}

/** Sweeps the takes, releases and needs in time order; see `RolloutSummary.idleSlotMs`. */
export function idleSlotMs(records: readonly Pick<NodeRecord, "needAt" | "taken" | "released">[], slots: number): number {
  // [at, change in free slots, change in hosts waiting]. Time is counted between instants, so
  // the order of the edges within one instant (a handover) does not matter.
  const edges: [number, number, number][] = [];
  for (const r of records) {
    // The host waits from its need to its first take at or after it.
    const served = r.needAt === undefined ? -1 : r.taken.findIndex((t) => t >= r.needAt!);
    if (r.needAt !== undefined) edges.push([r.needAt, 0, 1]);
    r.taken.forEach((t, i) => edges.push([t, -1, i === served ? -1 : 0]));
    for (const t of r.released) edges.push([t, 1, 0]);
  }
  edges.sort((a, b) => a[0] - b[0]);
  let free = slots;
  let waiting = 0;
  let idle = 0;
  let last = edges[0]?.[0] ?? 0;
  for (const [at, dFree, dWaiting] of edges) {
    idle += Math.max(0, Math.min(free, waiting)) * (at - last);
    last = at;
    free += dFree;
    waiting += dWaiting;
  }
  return idle;
}

function summarize(fleet: Fleet, t0: number, real0: number, requests0: number, broken: Set<string>): RolloutSummary {
  const records = [...fleet.hosts.keys()].map((n) => [n, fleet.observer.record(n)] as const);
  const needs = records.map(([, r]) => r.needAt).filter((x): x is number => x !== undefined);
  const releases = records.flatMap(([, r]) => r.released);
  const cycles = fleet.observer.cycles().sort((a, b) => a - b);
  const cycleMs = cycles.length ? cycles[Math.floor(cycles.length / 2)]! : 0;
  const downtimeMs: Record<string, number> = {};
  for (const [n, r] of records) if (r.cordonedMs.length) downtimeMs[n] = r.cordonedMs.reduce((a, b) => a + b, 0);
  return {
    nodes: records.length,
    slots: fleet.slots,
    rebooted: records.filter(([, r]) => r.reboots > 0).length,
    makespanMs: releases.length && needs.length ? Math.max(...releases) - Math.min(...needs) : 0,
    cycleMs,
    idealMs: Math.ceil(records.length / fleet.slots) * cycleMs,
    idleSlotMs: idleSlotMs(records.map(([, r]) => r), fleet.slots),
    downtimeMs,
    evictions: fleet.observer.evictions,
    maxHolders: fleet.observer.maxHolders,
    violations: [...fleet.violations, ...endViolations(fleet, broken)],
    requests: totalRequests(fleet) - requests0,
    simulatedMs: fleet.clock.monotonic() - t0,
    realMs: performance.now() - real0,
  };
}
