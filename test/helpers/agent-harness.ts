/**
 * The agent on simulated hosts: one in-memory API server (with kubelets and a ReplicaSet-like
 * controller) on a FakeClock, and per host a fake Host, fake reboot-need signals and a real state
 * directory. A host's reboot drops its agent without any cleanup — every port it holds goes dead
 * at once, as with SIGKILL — marks the Node NotReady, and after the reboot time starts a new agent
 * with a new boot id on the same state directory. Crash injection kills the agent the same way
 * after its k-th persisted write.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaults, type Settings } from "../../agent/config";
import { KubeEventRecorder } from "../../agent/events";
import { nodeFs } from "../../agent/host";
import type { Kube } from "../../agent/kube";
import { simKube } from "./kube";
import { Logger } from "../../agent/log";
import { type Clock, FakeClock, type Fs, type Host, type NodeEvent, type OsRelease, type RunResult } from "../../agent/ports";
import { Agent } from "../../agent/reboot";
import type { RebootNeed } from "../../agent/signals";
import { type KObj, SimCluster, SimServer } from "../../agent/sim";
import type { WindowSpec } from "../../agent/window";
import { seededRandom } from "./sim";
import { Capture } from "./tmp";

/** Reboot-need signals a test sets by hand. */
export class FakeSignals {
  private need: RebootNeed = { needed: false, reasons: [] };
  private readonly listeners = new Set<(n: RebootNeed) => void>();
  constructor(private readonly clock: Clock) {}
  current(): RebootNeed {
    return this.need;
  }
  onChange(l: (n: RebootNeed) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  /** `at`: when the need began, if not now (update_engine staged it before the agent started). */
  set(needed: boolean, newVersion?: string, at?: number): void {
    const since = needed ? (this.need.needed ? this.need.since : at ?? this.clock.now()) : undefined;
    this.need = {
      needed,
      reasons: [{ source: "sentinel-file", needed, health: "ok", detail: needed ? "/run/reboot-required exists" : "/run/reboot-required does not exist", since: this.clock.now() }],
      ...(newVersion ? { newVersion } : {}),
      ...(since !== undefined ? { since } : {}),
    };
    for (const l of this.listeners) l(this.need);
  }
}

/** What a crash leaves behind: every call after `dead` aborts hangs forever, watches stop. */
function severed<T extends object>(target: T, dead: AbortSignal): T {
  const hang = () => new Promise<never>(() => {});
  return new Proxy(target, {
    get(t, p, r) {
      const v = Reflect.get(t, p, r) as unknown;
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        if (dead.aborted) return hang();
        const out = (v as (...a: unknown[]) => unknown).apply(t, args);
        if (!(out instanceof Promise)) return out;
        return out.then(
          (value: unknown) => {
            const w = value as { stop?: () => void; done?: Promise<void> } | undefined;
            if (w && typeof w.stop === "function" && w.done instanceof Promise) {
              if (dead.aborted) w.stop();
              else dead.addEventListener("abort", () => w.stop!(), { once: true });
            }
            return dead.aborted ? hang() : value;
          },
          (err: unknown) => (dead.aborted ? hang() : Promise.reject(err)),
        );
      };
    },
  });
}

/** Calls `onWrite` after each successful mutating call. */
function counted<T extends object>(target: T, onWrite: () => void): T {
  return new Proxy(target, {
    get(t, p, r) {
      const v = Reflect.get(t, p, r) as unknown;
      if (typeof v !== "function" || !/^(create|replace|patch|delete|evict)/.test(String(p))) return v;
      return async (...args: unknown[]) => {
        const out = await (v as (...a: unknown[]) => Promise<unknown>).apply(t, args);
        onWrite();
        return out;
      };
    },
  });
}

function severedClock(clock: Clock, dead: AbortSignal): Clock {
  return {
    now: () => clock.now(),
    monotonic: () => clock.monotonic(),
    sleep: (ms, signal) => (dead.aborted ? new Promise<void>(() => {}) : clock.sleep(ms, signal).then((v) => (dead.aborted ? new Promise<void>(() => {}) : v))),
  };
}

export type RebootBehaviour = "reboots" | "fails" | "stays-up";

export class SimHost implements Host {
  bootIdValue = randomUUID();
  version = "4459.2.0";
  rebootCalls = 0;
  behaviour: RebootBehaviour = "reboots";
  /** How long a reboot keeps the host down (fake clock ms). */
  rebootMs = 60_000;
  readonly signals: FakeSignals;
  readonly stateDir: string;
  readonly logs = new Capture();
  agent: Agent | undefined;
  private dead = new AbortController();
  private term = new AbortController();
  private running: Promise<void> | undefined;
  /** Persisted writes of state.json by all agents of this host. */
  saves = 0;
  /** Kube writes (create, replace, patch, delete, evict) by all agents of this host. */
  writes = 0;
  /** Crash injection: kill the agent right after the n-th save of state.json or the n-th Kube write; systemd restarts it 5 s later. */
  crashAfter: { kind: "save" | "write"; n: number } | undefined;
  crashes = 0;
  starts = 0;
  readonly settings: Settings;

  constructor(
    readonly fleet: Fleet,
    readonly name: string,
    settings: Partial<Settings>,
  ) {
    this.signals = new FakeSignals(fleet.clock);
    this.stateDir = mkdtempSync(join(tmpdir(), `sluice-${name}-`));
    this.settings = { ...defaults(), nodeName: name, stateDir: this.stateDir, metricsPort: 0, ...settings };
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
    if (this.behaviour === "fails") throw new Error("systemctl reboot failed (exit code 1)");
    if (this.behaviour === "stays-up") return;
    // The request is accepted; the host goes down right after the command returns.
    queueMicrotask(() => this.goDown());
  }
  async notifyReady(): Promise<void> {}
  async notifyStatus(): Promise<void> {}

  /** Starts an agent process on this host. */
  start(): void {
    // One agent process per host: a start while one runs replaces it.
    this.dead.abort();
    this.down = false;
    this.dead = new AbortController();
    this.term = new AbortController();
    this.starts += 1;
    const dead = this.dead.signal;
    const clock = severedClock(this.fleet.clock, dead);
    const kube = severed(counted(this.fleet.kubeFor(this.name), () => {
      if (dead.aborted) return;
      this.writes += 1;
      if (this.crashAfter?.kind === "write" && this.writes === this.crashAfter.n) this.injectCrash();
    }), dead);
    const log = new Logger({ sink: this.logs, level: "debug", now: () => this.fleet.clock.now() }).child({ node: this.name });
    const fs: Fs = severed(
      {
        ...nodeFs,
        writeFileAtomic: async (path: string, data: string, mode?: number) => {
          await nodeFs.writeFileAtomic(path, data, mode);
          if (path.endsWith("state.json") && !dead.aborted) {
            this.saves += 1;
            if (this.crashAfter?.kind === "save" && this.saves === this.crashAfter.n) this.injectCrash();
          }
        },
      },
      dead,
    );
    const host = severed(this as Host, dead);
    const nodeKube = this.fleet.nodeIdentity ? severed(counted(this.fleet.kubeFor(this.name, "node"), () => !dead.aborted && (this.writes += 1)), dead) : kube;
    const events = severed(new FleetEvents(this.fleet, nodeKube, clock, log, this.name), dead);
    this.agent = new Agent(
      { clock, host, fs, log, kube, nodeKube, events, notifier: { send: async () => {} }, signals: this.signals, fetch: globalThis.fetch, random: this.fleet.random },
      { settings: this.settings, windows: this.fleet.windows, node: this.name },
    );
    this.running = this.agent.run(this.term.signal).catch((err: unknown) => {
      if (!dead.aborted) this.fleet.failures.push(`${this.name}: agent failed: ${(err as Error).stack}`);
    });
  }

  /** SIGKILL: nothing of the agent runs after this, no cleanup. */
  crash(): void {
    this.crashes += 1;
    this.dead.abort();
  }

  private injectCrash(): void {
    // A write that completes as the host goes down is no crash of a running agent.
    if (this.down || this.dead.signal.aborted) return;
    this.crash();
    this.fleet.clock.sleep(5_000).then(() => this.down || this.start());
  }

  /** The host is rebooting: no agent runs, and systemd will not restart one before the boot. */
  private down = false;

  /** SIGTERM: the agent stops cleanly; resolves when it has. */
  async terminate(): Promise<void> {
    this.term.abort();
    await this.running;
  }

  /** Restart after a crash (systemd's Restart=on-failure). */
  restart(): void {
    this.crash();
    this.start();
  }

  private goDown(): void {
    this.crash();
    this.down = true;
    this.fleet.rebooting(this.name);
    // /run is a tmpfs: the sentinel is gone after the boot; update_engine is idle again.
    this.fleet.cluster.setNodeReady(this.name, false);
    this.fleet.clock.sleep(this.rebootMs).then(() => {
      this.bootIdValue = randomUUID();
      this.signals.set(false);
      this.fleet.nodeUp(this.name, this.bootIdValue);
      this.start();
    });
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

/** Events recorded through the real recorder (so they reach the sim) and captured for asserts. */
class FleetEvents extends KubeEventRecorder {
  constructor(
    private readonly fleet: Fleet,
    kube: Kube,
    clock: Clock,
    log: Logger,
    host: string,
  ) {
    super({ kube, clock, log }, { host });
  }
  override async record(e: NodeEvent): Promise<void> {
    this.fleet.events.push({ ...e, at: this.fleet.clock.now() });
    await super.record(e);
  }
}

export interface FleetOptions {
  nodes: string[];
  settings?: Partial<Settings>;
  windows?: WindowSpec[];
  podsPerNode?: number;
  authYaml?: string;
  /** Token per node for the sim's users (RBAC tests): the ServiceAccount's. */
  token?: (node: string) => string | undefined;
  /** Token of the node's own (kubelet) credential, for node-identity mode: node-scoped work and Events go through it. */
  nodeToken?: (node: string) => string | undefined;
  /** Keep the sim's audit log (least-privilege tests). */
  audit?: boolean;
  start?: number;
  seed?: number;
}

export class Fleet {
  readonly clock: FakeClock;
  server!: SimServer;
  cluster!: SimCluster;
  readonly hosts = new Map<string, SimHost>();
  readonly events: (NodeEvent & { at: number })[] = [];
  readonly reboots: { node: string; at: number }[] = [];
  readonly failures: string[] = [];
  /** Broken invariants seen by the observer, as they happened. */
  readonly violations: string[] = [];
  maxHolders = 0;
  readonly windows: WindowSpec[];
  readonly random: () => number;
  private readonly kubes = new Map<string, Kube>();

  constructor(private readonly o: FleetOptions) {
    this.clock = new FakeClock(o.start);
    this.windows = o.windows ?? [];
    this.random = seededRandom(o.seed ?? 1);
  }

  async start(): Promise<this> {
    // deploy/ creates the sluice namespace itself.
    this.server = await new SimServer({ clock: this.clock, namespaces: this.o.authYaml ? ["apps"] : ["sluice", "apps"], random: this.random, audit: this.o.audit, ...(this.o.authYaml ? { authYaml: this.o.authYaml } : {}) }).start();
    this.cluster = new SimCluster(this.server, { podReadyDelayMs: 2_000 });
    for (const n of this.o.nodes) this.cluster.addNode(n);
    const per = this.o.podsPerNode ?? 2;
    if (per > 0) this.cluster.addWorkload("apps", "web", per * this.o.nodes.length, this.o.nodes);
    this.observe();
    for (const n of this.o.nodes) {
      const h = new SimHost(this, n, this.o.settings ?? {});
      this.hosts.set(n, h);
      this.nodeUp(n, h.bootIdValue);
    }
    return this;
  }

  /** Sees every committed write (not a watch: nothing is dropped) and checks the invariants. */
  private observe(): void {
    const concurrency = this.o.settings?.concurrency ?? 1;
    this.server.store.subscribe("coordination.k8s.io/leases", (ev) => {
      const before = ev.prev?.spec?.holderIdentity as string | undefined;
      if (ev.obj.metadata.labels?.["sluice.dev/role"] === "slot" && before && before !== ev.obj.spec?.holderIdentity && this.hosts.has(before)) {
        const phase = this.host(before).storedPhase();
        if (phase === "draining" || phase === "rebooting") this.violations.push(`${before}: slot released while ${phase}`);
      }
      const holders = this.slotHolders();
      this.maxHolders = Math.max(this.maxHolders, holders.length);
      if (holders.length > concurrency) this.violations.push(`${holders.length} holders for ${concurrency} slots: ${holders.join(",")}`);
    });
    this.server.store.subscribe("/pods", (ev) => {
      const p = ev.obj;
      if (ev.type !== "MODIFIED" || !p.metadata.deletionTimestamp || ev.prev?.metadata.deletionTimestamp) return;
      const node = p.spec?.nodeName as string;
      if (this.hosts.has(node) && !this.slotHolders().includes(node)) this.violations.push(`${node}: pod ${p.metadata.name} evicted without a slot`);
    });
  }

  /** Called by a host as it goes down. */
  rebooting(node: string): void {
    if (!this.slotHolders().includes(node)) this.violations.push(`${node}: rebooted without a slot`);
    this.reboots.push({ node, at: this.clock.now() });
  }

  host(name: string): SimHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  kubeFor(node: string, as: "sa" | "node" = "sa"): Kube {
    const key = `${as}:${node}`;
    let k = this.kubes.get(key);
    if (!k) {
      k = simKube(this.server, as === "node" ? this.o.nodeToken?.(node) : this.o.token?.(node));
      this.kubes.set(key, k);
    }
    return k;
  }

  /** Whether node-scoped work goes through the node's own credential. */
  get nodeIdentity(): boolean {
    return this.o.nodeToken !== undefined;
  }

  /** The kubelet is back: Ready, reporting the host's boot id. */
  nodeUp(node: string, bootId: string): void {
    const n = this.cluster.setNodeReady(node, true);
    this.server.registry.writeInternal("/nodes", { ...n, status: { ...n.status, nodeInfo: { ...(n.status?.nodeInfo ?? {}), bootID: bootId } } });
  }

  /** Moves the fake clock in steps, letting loopback I/O finish, until `cond` holds. */
  async until(cond: () => boolean, what: string, o: { stepMs?: number; maxMs?: number } = {}): Promise<void> {
    const step = o.stepMs ?? 1000;
    const max = o.maxMs ?? 6 * 3600_000;
    const start = this.clock.monotonic();
    while (!cond()) {
      if (this.failures.length) throw new Error(this.failures.join("\n"));
      if (this.clock.monotonic() - start > max) throw new Error(`timed out (fake clock ${max} ms) waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 2));
      await this.clock.advance(step);
    }
    if (this.failures.length) throw new Error(this.failures.join("\n"));
  }

  node(name: string): KObj {
    const n = this.server.store.get("/nodes", name);
    if (!n) throw new Error(`no Node ${name}`);
    return n;
  }

  lease(name: string): KObj {
    const l = this.server.store.get("coordination.k8s.io/leases", `sluice/${name}`);
    if (!l) throw new Error(`no Lease ${name}`);
    return l;
  }

  /** Writes a Node as someone else would (an admin, the kubelet). */
  editNode(name: string, edit: (n: KObj) => KObj): void {
    this.server.registry.writeInternal("/nodes", edit(structuredClone(this.node(name))));
  }

  /** Nodes with a waiting Lease in the queue. */
  waiters(): string[] {
    return this.server.store
      .list("coordination.k8s.io/leases", "sluice")
      .filter((l) => l.metadata.labels?.["sluice.dev/role"] === "waiter")
      .map((l) => l.spec?.holderIdentity as string);
  }

  slotHolders(): string[] {
    return this.server.store
      .list("coordination.k8s.io/leases", "sluice")
      .filter((l) => l.metadata.labels?.["sluice.dev/role"] === "slot" && l.spec?.holderIdentity)
      .map((l) => l.spec.holderIdentity as string);
  }

  async stop(): Promise<void> {
    for (const h of this.hosts.values()) h.crash();
    this.cluster.stop();
    await this.server.stop();
    for (const h of this.hosts.values()) h.cleanup();
  }
}
