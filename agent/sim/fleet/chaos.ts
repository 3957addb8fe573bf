/**
 * A chaos run: one rollout through a fleet whose API traffic passes the fault proxy, with, at
 * seeded random moments, agents killed without cleanup (systemd starts them again 5 s later),
 * reboot commands that fail or are accepted and never carried out, a holder's Node deleted while
 * its host reboots, an administrator clearing a held Lease, the API server unreachable for a
 * minute, and one host whose update breaks it (it never becomes Ready again). The observer checks
 * the invariants throughout; the end state is checked as well.
 */
import type { Settings } from "../../config";
import type { Logger } from "../../log";
import type { Clock, Notifier } from "../../ports";
import { FAULT_KINDS, type FaultKind, FaultProxy } from "./fault-proxy";
import { Fleet, nodeNames } from "./fleet";
import { seeded } from "./random";
import { rollout, type RolloutSummary } from "./rollout";

export type ChaosKind = FaultKind | "agent-killed" | "reboot-failed" | "reboot-not-carried-out" | "node-deleted" | "lease-cleared" | "node-broken";

export interface ChaosOptions {
  hosts: number;
  seed: number;
  concurrency?: number;
  /** Share of API requests that fail (default 0.05). */
  faultRate?: number;
  /** Share of watches dropped at a random moment (default 0.3). */
  watchDropRate?: number;
  /** Agents killed at random moments (default: a tenth of the hosts, at least 2). */
  kills?: number;
  /** The agents' admin token (seeded into the run so a scan can look for it). */
  token?: string;
  notifier?: (node: string, log: Logger, clock: Clock) => Notifier;
  settings?: Partial<Settings>;
  /** Without any fault: the reference run. */
  faultFree?: boolean;
  keepLogs?: boolean;
}

export interface ChaosResult {
  summary: RolloutSummary;
  injected: Record<ChaosKind, number>;
  /** The host whose update broke it, and whether the agent reported it (NodeNotReadyAfterReboot). */
  broken: { node: string; reported: boolean; holdsSlot: boolean } | undefined;
  /** Requests the agents sent (through the proxy). */
  requests: number;
  fleet: Fleet;
}

/** Runs a chaos rollout; the caller stops `result.fleet` once it has read what it wants. */
export async function chaosRun(o: ChaosOptions): Promise<ChaosResult> {
  const chaos = !o.faultFree;
  const random = seeded(o.seed * 7919 + 1);
  const names = nodeNames(o.hosts);
  const settings: Partial<Settings> = { concurrency: o.concurrency ?? 3, lockReleaseDelay: 30_000, inhibitPaths: [], rebootTimeout: 5 * 60_000, ...o.settings };
  const fleet = await new Fleet({
    nodes: names, settings, seed: o.seed, podsPerNode: 1, rebootMs: 60_000, rebootJitter: 0.3, keepLogs: o.keepLogs ?? false, logLevel: "info",
    kubeTimeoutMs: 500, ...(o.token ? { adminToken: o.token } : {}), ...(o.notifier ? { notifier: o.notifier } : {}),
  }).start();
  const proxy = await new FaultProxy({ upstream: fleet.server.url, clock: fleet.clock, random, rate: 0, watchDropRate: 0, watchDropWithinMs: 10 * 60_000 }).start();
  fleet.routeThrough(proxy.url);
  const injected = Object.fromEntries([...FAULT_KINDS, "agent-killed", "reboot-failed", "reboot-not-carried-out", "node-deleted", "lease-cleared", "node-broken"].map((k) => [k, 0])) as Record<ChaosKind, number>;
  let brokenNode: string | undefined;
  try {
    fleet.startAll();
    await fleet.runUntil(() => names.every((n) => fleet.host(n).agent?.started), "agents started", { maxMs: 3600_000 });
    const cycle = 60_000 + 90_000;
    const horizon = Math.ceil(o.hosts / (settings.concurrency ?? 3)) * cycle;
    const at = (ms: number, what: () => void) => void fleet.clock.sleep(ms, fleet.stopping).then(what, () => {});
    const pickHost = (ok: (n: string) => boolean) => {
      const candidates = names.filter(ok);
      return candidates.length ? candidates[Math.floor(random() * candidates.length)] : undefined;
    };
    if (chaos) {
      proxy.o.rate = o.faultRate ?? 0.05;
      proxy.o.watchDropRate = o.watchDropRate ?? 0.3;
      // Hosts with a misbehaving first reboot command, and the one whose update breaks it.
      const shuffled = [...names].sort(() => random() - 0.5);
      brokenNode = shuffled[0];
      fleet.host(brokenNode!).nextReboots.push("breaks");
      injected["node-broken"] += 1;
      for (const n of shuffled.slice(1, 1 + Math.max(1, Math.round(o.hosts / 20)))) {
        fleet.host(n).nextReboots.push("fails");
        injected["reboot-failed"] += 1;
      }
      for (const n of shuffled.slice(1 + Math.max(1, Math.round(o.hosts / 20)), 1 + 2 * Math.max(1, Math.round(o.hosts / 20)))) {
        fleet.host(n).nextReboots.push("stays-up");
        injected["reboot-not-carried-out"] += 1;
      }
      const kills = o.kills ?? Math.max(2, Math.round(o.hosts / 10));
      for (let i = 0; i < kills; i++) {
        at(Math.floor(random() * horizon), () => {
          const n = pickHost((x) => !fleet.host(x).down && fleet.host(x).agent !== undefined);
          if (!n) return;
          injected["agent-killed"] += 1;
          const h = fleet.host(n);
          h.crash();
          void fleet.clock.sleep(5_000, fleet.stopping).then(() => h.down || h.start(), () => {});
        });
      }
      // A holder's Node deleted while its host reboots (a cloud controller, an admin).
      const deleteOne = () => {
        const n = pickHost((x) => fleet.host(x).down && !fleet.host(x).broken && x !== brokenNode && fleet.server.store.get("/nodes", x) !== undefined);
        if (!n) return at(30_000, deleteOne);
        injected["node-deleted"] += 1;
        const node = fleet.server.store.get("/nodes", n)!;
        fleet.server.store.write("/nodes", "DELETED", { ...node, metadata: { ...node.metadata } });
      };
      at(Math.floor(horizon * 0.2), deleteOne);
      // An administrator clears a held Lease by hand, mid-drain.
      const clearOne = () => {
        const holder = pickHost((x) => fleet.slotHolders().includes(x) && fleet.phases.get(x) === "draining");
        if (!holder) return at(5_000, clearOne);
        const lease = fleet.server.store.list("coordination.k8s.io/leases", "sluice").find((l) => l.spec?.holderIdentity === holder && l.metadata.labels?.["sluice.dev/role"] === "slot")!;
        injected["lease-cleared"] += 1;
        fleet.observer.expectClear(`sluice/${lease.metadata.name}`);
        const cleared = structuredClone(lease);
        delete cleared.spec.holderIdentity;
        fleet.server.registry.writeInternal("coordination.k8s.io/leases", cleared);
      };
      at(Math.floor(horizon * 0.4), clearOne);
      // The API server unreachable for a minute.
      at(Math.floor(horizon * 0.6), () => proxy.cutOff(60_000));
    }
    const summary = await rollout(fleet, { broken: brokenNode ? [brokenNode] : [], maxMs: 20 * horizon + 24 * 3600_000 });
    // The broken host's agent says so once its node has stayed NotReady for 10 minutes.
    const reported = () => fleet.events.some((e) => e.node === brokenNode && e.reason === "NodeNotReadyAfterReboot");
    if (brokenNode) await fleet.runUntil(reported, "the broken node to be reported", { maxMs: 30 * 60_000 }).catch(() => {});
    for (const k of FAULT_KINDS) injected[k] += proxy.injected[k];
    const broken = brokenNode
      ? { node: brokenNode, reported: reported(), holdsSlot: fleet.slotHolders().includes(brokenNode) }
      : undefined;
    return { summary, injected, broken, requests: proxy.requests, fleet };
  } finally {
    proxy.enabled = false;
    await proxy.stop();
  }
}
