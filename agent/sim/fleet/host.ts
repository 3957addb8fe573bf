/**
 * A simulated Flatcar host running the real agent. Its reboot ends the agent's process (killed
 * without cleanup by default, or stopped with SIGTERM as systemd does on the way down), marks the
 * Node NotReady, and after the reboot time (the fleet draws it, seeded) starts a new agent with a
 * new boot id on the same state directory. Crash injection kills the agent the same way after its
 * n-th persisted write or Kubernetes write; systemd restarts it 5 s later.
 */
import { randomUUID } from "node:crypto";
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaults, type Settings } from "../../config";
import { nodeFs } from "../../host";
import { Logger } from "../../log";
import type { Fs, Host, Notifier, NodeEvent, OsRelease, RunResult } from "../../ports";
import type { Kube } from "../../kube";
import type { SimCluster, SimServer } from "..";
import type { WindowSpec } from "../../window";
import type { SimClock } from "./sim-clock";
import { Agent } from "../../reboot";
import { createRebootSignals, type RebootSignals } from "../../signals";
import { FleetEvents } from "./events";
import { counted, severed, severedClock } from "./severed";
import { FakeSignals } from "./signals";

/**
 * What the host does when told to reboot: go down and come back (`reboots`), refuse (`fails`,
 * the command exits 1), accept and never go down (`stays-up`), never answer (`hangs`), or go down
 * and never come back Ready (`breaks`: an update that broke the node).
 */
export type RebootBehaviour = "reboots" | "fails" | "stays-up" | "hangs" | "breaks";

/** Where the text a process writes goes: the host keeps it for the run's scans when asked to. */
class Lines {
  text = "";
  constructor(private readonly keep: boolean) {}
  write(chunk: string): boolean {
    if (this.keep) this.text += chunk;
    return true;
  }
  get lines(): string[] {
    return this.text.split("\n").filter(Boolean);
  }
}

/** What a host needs of its fleet (Fleet implements it). */
export interface HostFleet {
  readonly clock: SimClock;
  readonly root: string;
  readonly options: { keepLogs?: boolean; logLevel?: "debug" | "info" | "notice" | "warning" | "error"; needs?: "fake" | "sentinel"; shutdown?: "kill" | "sigterm" };
  readonly server: SimServer;
  readonly cluster: SimCluster;
  readonly events: (NodeEvent & { at: number })[];
  readonly failures: string[];
  readonly windows: WindowSpec[];
  readonly random: () => number;
  readonly stopping: AbortSignal;
  kubeFor(node: string, as?: "sa" | "node"): Kube;
  readonly nodeIdentity: boolean;
  track<T extends object>(o: T): T;
  /** Real-world work the clock must wait for. */
  expect(p: Promise<unknown>): void;
  notifier(node: string, log: Logger): Notifier;
  transition(node: string, from: string, to: string): void;
  rebootCommand(node: string): void;
  rebooting(node: string): void;
  nodeUp(node: string, bootId: string): void;
}

export class SimHost implements Host {
  bootIdValue = randomUUID();
  version = "4459.2.0";
  /** The version update_engine staged; it becomes `version` at the next boot. */
  staged: string | undefined;
  rebootCalls = 0;
  behaviour: RebootBehaviour = "reboots";
  /** Behaviours of the next reboot commands, one each, before `behaviour` applies again. */
  nextReboots: RebootBehaviour[] = [];
  /** How long a reboot keeps the host down (clock ms); the fleet draws it per host. */
  rebootMs = 60_000;
  /** Fake signals, or (with `needs: "sentinel"`) the real sentinel-file source. */
  readonly signals: FakeSignals;
  readonly stateDir: string;
  readonly sentinel: string;
  readonly logs: Lines;
  agent: Agent | undefined;
  private dead = new AbortController();
  private term = new AbortController();
  private running: Promise<void> | undefined;
  private realSignals: RebootSignals | undefined;
  /** Stops the real signals' watchers of the current process (a killed process holds no inotify watch). */
  private signalsStop = new AbortController();
  /** Persisted writes of state.json by all agents of this host. */
  saves = 0;
  /** Kube writes (create, replace, patch, delete, evict) by all agents of this host. */
  writes = 0;
  /** Crash injection: kill the agent right after the n-th save of state.json or the n-th Kube write. */
  crashAfter: { kind: "save" | "write"; n: number } | undefined;
  crashes = 0;
  starts = 0;
  /** Sleeps on the clock by all agents of this host. */
  sleeps = 0;
  /** The host is down (rebooting): no agent runs, and systemd will not restart one before the boot. */
  down = false;
  /** Down for good (`breaks`). */
  broken = false;
  private breaking = false;
  readonly settings: Settings;

  constructor(
    readonly fleet: HostFleet,
    readonly name: string,
    settings: Partial<Settings>,
  ) {
    this.signals = new FakeSignals(fleet.clock);
    this.stateDir = mkdtempSync(join(fleet.root, `${name}-`));
    this.sentinel = join(this.stateDir, "run", "reboot-required");
    this.logs = new Lines(fleet.options.keepLogs ?? true);
    // The host's own name, directory and sentinel win over the fleet's settings.
    this.settings = { ...defaults(), metricsPort: 0, ...settings, nodeName: name, stateDir: this.stateDir, rebootSentinel: this.sentinel };
  }

  // ---- the Host port ----
  async bootId(): Promise<string> {
    return this.bootIdValue;
  }
  async osRelease(): Promise<OsRelease> {
    return { id: "flatcar", version: this.version, fields: { ID: "flatcar", VERSION: this.version } };
  }
  async run(): Promise<RunResult> {
    throw new Error("SimHost.run is not used by the agent");
  }
  async reboot(): Promise<void> {
    this.rebootCalls += 1;
    this.fleet.rebootCommand(this.name);
    const behaviour = this.nextReboots.shift() ?? this.behaviour;
    if (behaviour === "fails") throw new Error("systemctl reboot failed (exit code 1)");
    if (behaviour === "stays-up") return;
    if (behaviour === "hangs") return new Promise<never>(() => {});
    if (behaviour === "breaks") this.breaking = true;
    // The request is accepted; the host goes down right after the command returns.
    queueMicrotask(() => void this.goDown());
  }
  async notifyReady(): Promise<void> {}
  async notifyStatus(): Promise<void> {}

  /** update_engine stages `version` (or the sentinel appears): the host needs a reboot. */
  needReboot(version?: string, at?: number): void {
    this.staged = version ?? this.staged;
    if (this.fleet.options.needs === "sentinel") {
      mkdirSync(join(this.stateDir, "run"), { recursive: true });
      writeFileSync(this.sentinel, "");
      // inotify's answer is I/O the driver cannot see: it waits for the agent's source to say so.
      const real = this.realSignals;
      if (real && !real.current().needed) {
        this.fleet.expect(
          new Promise<void>((resolve) => {
            const off = real.onChange((n) => n.needed && (off(), resolve()));
            setTimeout(() => (off(), resolve()), 2_000).unref();
          }),
        );
      }
    } else this.signals.set(true, version, at);
  }

  /** Starts an agent process on this host. */
  start(): void {
    // One agent process per host: a start while one runs replaces it.
    this.dead.abort();
    this.down = false;
    this.dead = new AbortController();
    this.term = new AbortController();
    this.starts += 1;
    const dead = this.dead.signal;
    const fleet = this.fleet;
    const base = severedClock(fleet.clock, dead);
    // Counted, so a test can tell an agent that waits from one that spins.
    const clock = { ...base, sleep: (ms: number, signal?: AbortSignal) => ((this.sleeps += 1), base.sleep(ms, signal)) };
    const counting = <T extends object>(k: T): T =>
      counted(k, () => {
        if (dead.aborted) return;
        this.writes += 1;
        if (this.crashAfter?.kind === "write" && this.writes === this.crashAfter.n) this.injectCrash();
      });
    const kube = severed(counting(fleet.kubeFor(this.name)), dead);
    const log = new Logger({ sink: this.logs, level: fleet.options.logLevel ?? "debug", now: () => fleet.clock.now() }).child({ node: this.name });
    const fs: Fs = severed(
      fleet.track({
        ...nodeFs,
        writeFileAtomic: async (path: string, data: string, mode?: number) => {
          await nodeFs.writeFileAtomic(path, data, mode);
          if (path.endsWith("state.json") && !dead.aborted) {
            this.saves += 1;
            if (this.crashAfter?.kind === "save" && this.saves === this.crashAfter.n) this.injectCrash();
          }
        },
      }),
      dead,
    );
    const host = severed(this as Host, dead);
    const nodeKube = fleet.nodeIdentity ? severed(counting(fleet.kubeFor(this.name, "node")), dead) : kube;
    const events = severed(new FleetEvents(fleet, nodeKube, clock, log, this.name), dead);
    let signals: Pick<RebootSignals, "current" | "onChange"> = this.signals;
    if (fleet.options.needs === "sentinel") {
      this.signalsStop.abort();
      this.signalsStop = new AbortController();
      const real = createRebootSignals({ rebootSentinel: this.sentinel, rebootSentinelCommand: null, periodMs: this.settings.period, sentinelCommandTimeoutMs: 10_000, updateEngine: "off" }, { clock, log });
      this.realSignals = real;
      signals = real;
    }
    const term = this.term.signal;
    this.agent = new Agent(
      {
        clock, host, fs, log, kube, nodeKube, events, signals, notifier: fleet.notifier(this.name, log), fetch: globalThis.fetch, random: fleet.random,
        metrics: { transition: (from, to) => dead.aborted || fleet.transition(this.name, from, to) },
      },
      { settings: this.settings, windows: fleet.windows, node: this.name },
    );
    const agent = this.agent;
    const real = this.realSignals;
    const sigStop = this.signalsStop.signal;
    this.running = (async () => {
      if (real) {
        // The first look at the sentinel is real I/O the driver must wait for.
        const first = real.start(sigStop);
        fleet.expect(first.catch(() => {}));
        await first;
      }
      await agent.run(term);
    })().catch((err: unknown) => {
      if (!dead.aborted) fleet.failures.push(`${this.name}: agent failed: ${(err as Error).stack}`);
    });
  }

  /** SIGKILL: nothing of the agent runs after this, no cleanup. */
  crash(): void {
    this.crashes += 1;
    this.dead.abort();
    this.signalsStop.abort();
  }

  private injectCrash(): void {
    // A write that completes as the host goes down is no crash of a running agent.
    if (this.down || this.dead.signal.aborted) return;
    this.crash();
    void this.fleet.clock.sleep(5_000).then(() => this.down || this.start());
  }

  /** SIGTERM: the agent stops cleanly; resolves when it has. */
  async terminate(): Promise<void> {
    this.term.abort();
    await this.running;
    this.signalsStop.abort();
    await this.realSignals?.stopped();
  }

  /** Killed and started again at once (systemd's Restart=on-failure, without its delay). */
  restart(): void {
    this.crash();
    this.start();
  }

  private async goDown(): Promise<void> {
    if (this.down) return;
    this.down = true;
    if (this.fleet.options.shutdown === "sigterm") await this.terminate();
    this.crash();
    this.fleet.rebooting(this.name);
    // /run is a tmpfs: the sentinel is gone after the boot; update_engine is idle again.
    this.fleet.cluster.setNodeReady(this.name, false);
    await this.fleet.clock.sleep(this.rebootMs, this.fleet.stopping).catch(() => {});
    if (this.fleet.stopping.aborted) return;
    this.bootIdValue = randomUUID();
    if (this.staged) this.version = this.staged;
    rmSync(this.sentinel, { force: true });
    this.signals.set(false);
    // A broken update: the host boots and sluice starts, but the kubelet never becomes Ready.
    if (this.breaking) this.broken = true;
    else this.fleet.nodeUp(this.name, this.bootIdValue);
    this.start();
  }

  /** The phase in state.json right now (what a new process would resume from). */
  storedPhase(): string | undefined {
    try {
      return JSON.parse(readFileSync(join(this.stateDir, "state.json"), "utf8")).state?.phase;
    } catch {
      return undefined;
    }
  }

  cleanup(): void {
    // A write of the killed agent may still be landing in the directory: try again briefly.
    rmSync(this.stateDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
  }
}

/**
 * The hosts' state directories. On /dev/shm when there is one: each agent fsyncs its state and
 * status files as it must, and a thousand hosts' fsyncs on one shared disk would measure the disk.
 */
export function fleetRoot(): string {
  const shm = "/dev/shm";
  let base = tmpdir();
  try {
    if (statSync(shm).isDirectory()) {
      accessSync(shm, constants.W_OK);
      base = shm;
    }
  } catch {
    // no RAM disk: the temporary directory serves
  }
  return mkdtempSync(join(base, "sluice-fleet-"));
}
