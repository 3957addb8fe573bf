/**
 * The second node of the group, simulated on the host: the real agent (agent/reboot with the real
 * lock, drain, signals and Events, through sluice's HTTP client to the same API server) on a
 * simulated host whose reboot stops the agent as systemd would, takes its Node down for a moment
 * and brings it back with a new boot id. It is what makes "the other node goes only after" a
 * property of sluice's semaphore and not of the test: it queues on the same Leases as the VM.
 */
import { randomUUID } from "node:crypto";
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { loadConfig } from "../../agent/config";
import { KubeEventRecorder } from "../../agent/events";
import { nodeFs } from "../../agent/host";
import { HttpKube, resolveKubeconfig } from "../../agent/kube";
import { Logger } from "../../agent/log";
import { type Host, type OsRelease, type RunResult, systemClock } from "../../agent/ports";
import { Agent } from "../../agent/reboot";
import { createRebootSignals, type RebootSignals } from "../../agent/signals";
import type { Api } from "./api";
import { setNodeBoot } from "./kubelet";

export interface Peer {
  /** Touches its sentinel: a reboot is needed. */
  needReboot(): void;
  reboots: number;
  stop(): Promise<void>;
}

export async function startPeer(o: { node: string; dir: string; configPath: string; kubeconfigYaml: string; admin: Api; downMs: number }): Promise<Peer> {
  const dir = join(o.dir, o.node);
  mkdirSync(dir, { recursive: true });
  const sentinel = join(dir, "reboot-required");
  const loaded = await loadConfig({ fs: nodeFs, env: {}, configPath: o.configPath });
  const settings = { ...loaded.settings, nodeName: o.node, stateDir: dir, rebootSentinel: sentinel, inhibitPaths: [] };
  const log = new Logger({ sink: createWriteStream(join(o.dir, `${o.node}.log`)), level: "debug" }).child({ node: o.node });
  const kube = new HttpKube(resolveKubeconfig(o.kubeconfigYaml));
  let bootId = randomUUID();
  await setNodeBoot(o.admin, o.node, bootId, true);

  let stopAgent: AbortController | undefined;
  let signals: RebootSignals | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const peer: Peer = { needReboot: () => writeFileSync(sentinel, ""), reboots: 0, stop: async () => {} };

  const host: Host = {
    bootId: async () => bootId,
    osRelease: async (): Promise<OsRelease> => ({ id: "flatcar", version: "4459.2.0", fields: { ID: "flatcar", VERSION: "4459.2.0" } }),
    run: async (): Promise<RunResult> => {
      throw new Error("not used by the agent");
    },
    reboot: async () => {
      queueMicrotask(() => void goDown());
    },
    notifyReady: async () => {},
    notifyStatus: async () => {},
  };
  const start = async () => {
    stopAgent = new AbortController();
    signals = createRebootSignals({ rebootSentinel: sentinel, rebootSentinelCommand: null, periodMs: settings.period, sentinelCommandTimeoutMs: 10_000, updateEngine: "off" }, { clock: systemClock, log });
    await signals.start(stopAgent.signal);
    const events = new KubeEventRecorder({ kube, clock: systemClock, log }, { host: o.node });
    const agent = new Agent({ clock: systemClock, host, fs: nodeFs, log, kube, events, signals, fetch: globalThis.fetch, notifier: { send: async () => {} } }, { settings, windows: loaded.windows, node: o.node });
    running = agent.run(stopAgent.signal).catch((err: unknown) => log.error("peer agent failed", { error: String(err) }));
  };
  const halt = async () => {
    stopAgent?.abort();
    await running;
    await signals?.stopped();
  };
  const goDown = async () => {
    // systemd stops sluice with SIGTERM on the way down; /run is a tmpfs, so the sentinel goes.
    await halt();
    if (stopped) return;
    peer.reboots += 1;
    await setNodeBoot(o.admin, o.node, bootId, false);
    rmSync(sentinel, { force: true });
    await sleep(o.downMs);
    if (stopped) return;
    bootId = randomUUID();
    await setNodeBoot(o.admin, o.node, bootId, true);
    await start();
  };
  peer.stop = async () => {
    stopped = true;
    await halt();
  };
  await start();
  return peer;
}
