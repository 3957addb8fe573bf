/**
 * The fleet simulator: one in-memory API server (with kubelets, a ReplicaSet-like controller and
 * the disruption controller) on a SimClock, and N simulated hosts each running the real agent
 * (state machine, lock, gates, drain, Events) through the real HTTP client. Used by the tests
 * (test/helpers/agent-harness.ts), the benchmarks (fleet.*, chaos.*) and `sluice demo`.
 */
import { rmSync } from "node:fs";
import type { Settings } from "../../config";
import { HttpKube, type Kube, resolveKubeconfig } from "../../kube";
import type { Logger } from "../../log";
import { type Clock, type Notifier, type NodeEvent, silentNotifier } from "../../ports";
import type { WindowSpec } from "../../window";
import { SimCluster, type KObj, SimServer } from "..";
import { fleetRoot, type HostFleet, SimHost } from "./host";
import { FleetObserver } from "./observer";
import { jittered, seeded } from "./random";
import { SimClock } from "./sim-clock";

export interface FleetOptions {
  nodes: string[];
  settings?: Partial<Settings>;
  windows?: WindowSpec[];
  /** Pods of the apps/web workload per node (ReplicaSet-owned; evicted pods come back elsewhere). */
  podsPerNode?: number;
  /** A PodDisruptionBudget over the workload. */
  pdb?: { maxUnavailable: number } | { minAvailable: number };
  authYaml?: string;
  /** Token per node for the sim's users (RBAC tests): the ServiceAccount's. */
  token?: (node: string) => string | undefined;
  /** Token of the node's own (kubelet) credential, for node-identity mode: node-scoped work and Events go through it. */
  nodeToken?: (node: string) => string | undefined;
  /** Keep the sim's audit log (least-privilege tests). */
  audit?: boolean;
  /** Token of the sim's admin user, which the agents use (default: random). */
  adminToken?: string;
  /** Wall time at the start (ms). */
  start?: number;
  seed?: number;
  /** A host's reboot time, and the fraction by which each reboot varies around it (seeded). */
  rebootMs?: number;
  rebootJitter?: number;
  podReadyDelayMs?: number;
  /** `fake` (set by the simulation, default) or `sentinel` (the real sentinel-file source, per host). */
  needs?: "fake" | "sentinel";
  /** How the agent ends as its host goes down: killed (default) or SIGTERM as systemd does. */
  shutdown?: "kill" | "sigterm";
  /** Keep every agent's log lines (default true; off for thousands of agents). */
  keepLogs?: boolean;
  logLevel?: "debug" | "info" | "notice" | "warning" | "error";
  /** Per-request timeout of the agents' HTTP client (real ms). */
  kubeTimeoutMs?: number;
  /** The notifier each host's agent is handed (default: none). */
  notifier?: (node: string, log: Logger, clock: Clock) => Notifier;
  serverLog?: Logger;
}

/** `prefix-01` … with the width the count needs. */
export function nodeNames(count: number, prefix = "node"): string[] {
  const width = Math.max(2, String(count).length);
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(width, "0")}`);
}

export class Fleet implements HostFleet {
  readonly clock: SimClock;
  server!: SimServer;
  cluster!: SimCluster;
  observer!: FleetObserver;
  readonly hosts = new Map<string, SimHost>();
  readonly events: (NodeEvent & { at: number })[] = [];
  readonly reboots: { node: string; at: number }[] = [];
  readonly failures: string[] = [];
  readonly windows: WindowSpec[];
  readonly random: () => number;
  readonly root = fleetRoot();
  /** Current phase of each host's agent, as its transitions said. */
  readonly phases = new Map<string, string>();
  /** Called on every transition of any agent (the demo's view). */
  onTransition: ((node: string, from: string, to: string) => void) | undefined;
  private readonly stopCtl = new AbortController();
  private readonly kubes = new Map<string, Kube>();
  private apiUrl: string | undefined;
  /** Requests in flight through the agents' clients: the driver waits for them before moving time. */
  private inflight = 0;
  private started = 0;
  /** Resolved when `inflight` next falls to 0 (quiesce waits on it rather than on a timer). */
  private drained: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(readonly options: FleetOptions) {
    this.clock = new SimClock(options.start);
    this.windows = options.windows ?? [];
    this.random = seeded(options.seed ?? 1);
  }

  get stopping(): AbortSignal {
    return this.stopCtl.signal;
  }

  get violations(): string[] {
    return this.observer.violations;
  }

  get maxHolders(): number {
    return this.observer.maxHolders;
  }

  get slots(): number {
    return this.options.settings?.concurrency ?? 1;
  }

  async start(): Promise<this> {
    const o = this.options;
    // deploy/ creates the sluice namespace itself.
    this.server = await new SimServer({ clock: this.clock, namespaces: o.authYaml ? ["apps"] : ["sluice", "apps"], random: this.random, audit: o.audit, ...(o.adminToken ? { adminToken: o.adminToken } : {}), ...(o.serverLog ? { log: o.serverLog } : {}), ...(o.authYaml ? { authYaml: o.authYaml } : {}) }).start();
    this.cluster = new SimCluster(this.server, { podReadyDelayMs: o.podReadyDelayMs ?? 2_000 });
    for (const n of o.nodes) this.cluster.addNode(n);
    const per = o.podsPerNode ?? 2;
    if (per > 0) this.cluster.addWorkload("apps", "web", per * o.nodes.length, o.nodes);
    if (o.pdb) this.server.apply({ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "web", namespace: "apps" }, spec: { ...o.pdb, selector: { matchLabels: { app: "web" } } } });
    const renewDeadlineMs = o.settings?.renewDeadline ?? 30_000;
    this.observer = new FleetObserver(this.server, this.clock, { slots: this.slots, renewDeadlineMs, host: (n) => this.hosts.get(n) });
    for (const n of o.nodes) {
      const h = new SimHost(this, n, o.settings ?? {});
      h.rebootMs = jittered(o.rebootMs ?? 60_000, o.rebootJitter ?? 0, this.random);
      this.hosts.set(n, h);
      this.nodeUp(n, h.bootIdValue);
    }
    return this;
  }

  /** Agents' clients talk to `url` (a fault-injecting proxy) instead of the server; before they start. */
  routeThrough(url: string): void {
    this.apiUrl = url;
    this.kubes.clear();
  }

  startAll(): void {
    for (const h of this.hosts.values()) h.start();
  }

  /** Called by a host when its reboot command is given. */
  rebootCommand(node: string): void {
    this.observer.command(node);
  }

  /** Called by a host as it goes down. */
  rebooting(node: string): void {
    this.observer.rebooting(node);
    this.reboots.push({ node, at: this.clock.now() });
  }

  transition(node: string, from: string, to: string): void {
    this.phases.set(node, to);
    this.onTransition?.(node, from, to);
  }

  notifier(node: string, log: Logger): Notifier {
    return this.options.notifier?.(node, log, this.clock) ?? silentNotifier;
  }

  host(name: string): SimHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  /** Whether node-scoped work goes through the node's own credential. */
  get nodeIdentity(): boolean {
    return this.options.nodeToken !== undefined;
  }

  /** The host's client (shared by its successive agent processes, as the kubeconfig is): the ServiceAccount's, or with `as: "node"` the kubelet's. */
  kubeFor(node: string, as: "sa" | "node" = "sa"): Kube {
    const key = `${as}:${node}`;
    let k = this.kubes.get(key);
    if (!k) {
      let yaml = this.server.kubeconfigYaml(as === "node" ? this.options.nodeToken?.(node) : this.options.token?.(node));
      if (this.apiUrl) yaml = yaml.replace(this.server.url, this.apiUrl);
      const http = new HttpKube(resolveKubeconfig(yaml), { userAgent: `sluice/${node}`, ...(this.options.kubeTimeoutMs ? { timeoutMs: this.options.kubeTimeoutMs } : {}) });
      k = this.track(http);
      this.kubes.set(key, k);
    }
    return k;
  }

  /** Counts the object's calls in flight: the driver moves time only when none is (requests, file writes). */
  track<T extends object>(k: T): T {
    return new Proxy(k, {
      get: (t, p, r) => {
        const v = Reflect.get(t, p, r) as unknown;
        if (typeof v !== "function") return v;
        return (...args: unknown[]) => {
          const out = (v as (...a: unknown[]) => unknown).apply(t, args);
          if (!(out instanceof Promise)) return out;
          this.begin();
          return out.finally(() => this.end());
        };
      },
    });
  }

  expect(p: Promise<unknown>): void {
    this.begin();
    void p.finally(() => this.end());
  }

  private begin(): void {
    this.inflight += 1;
    this.started += 1;
  }

  private end(): void {
    this.inflight -= 1;
    if (this.inflight > 0 || !this.drained) return;
    const d = this.drained;
    this.drained = undefined;
    d.resolve();
  }

  /** Until nothing is in flight: woken by the last answer, not by a timer (a timer's millisecond, per step of the clock, was a fifth of a 1000-node rollout's wall time). */
  private untilDrained(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    if (!this.drained) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.drained = { promise, resolve };
    }
    return this.drained.promise;
  }

  /** The kubelet is back: Ready, reporting the host's boot id. */
  nodeUp(node: string, bootId: string): void {
    // A Node deleted while its host was down is registered again by the kubelet.
    if (!this.server.store.get("/nodes", node)) this.cluster.addNode(node);
    const n = this.cluster.setNodeReady(node, true);
    this.server.registry.writeInternal("/nodes", { ...n, status: { ...n.status, nodeInfo: { ...(n.status?.nodeInfo ?? {}), bootID: bootId } } });
  }

  /** Moves the clock in fixed steps, letting loopback I/O finish, until `cond` holds. */
  async until(cond: () => boolean, what: string, o: { stepMs?: number; maxMs?: number } = {}): Promise<void> {
    const step = o.stepMs ?? 1000;
    const max = o.maxMs ?? 6 * 3600_000;
    const start = this.clock.monotonic();
    while (!cond()) {
      this.throwFailures();
      if (this.clock.monotonic() - start > max) throw new Error(`timed out (fake clock ${max} ms) waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 2));
      await this.clock.advance(step);
    }
    this.throwFailures();
  }

  /**
   * Lets `ms` of simulated time pass in steps of `stepMs`, settling the agents' I/O after each
   * (`quiesce`): what a test asserts afterwards ("still not rebooted", "told once") then holds
   * however slowly the machine answered, instead of racing requests still in flight.
   */
  async pass(ms: number, stepMs = 60_000): Promise<void> {
    if (!(stepMs > 0)) throw new Error(`Fleet.pass: stepMs must be positive, not ${stepMs}`);
    await this.quiesce();
    for (let left = ms; left > 0; left -= stepMs) {
      await this.clock.advance(Math.min(stepMs, left));
      await this.quiesce();
    }
    this.throwFailures();
  }

  /**
   * Discrete-event driving for large fleets: waits until the agents' requests are answered and
   * the store is still, then jumps the clock to the next sleeper, until `cond` holds. Nothing
   * happens between two sleepers but I/O, which has been waited for, so no simulated time passes
   * while real time is spent on requests: makespans are the agents' own.
   */
  async runUntil(cond: () => boolean, what: string, o: { maxMs?: number; maxStepMs?: number; onStep?: () => void } = {}): Promise<void> {
    const max = o.maxMs ?? 30 * 24 * 3600_000;
    const maxStep = o.maxStepMs ?? 60_000;
    const start = this.clock.monotonic();
    for (;;) {
      await this.quiesce();
      if (this.stopping.aborted) return;
      this.throwFailures();
      o.onStep?.();
      if (cond()) return;
      const now = this.clock.monotonic();
      if (now - start > max) throw new Error(`timed out (simulated ${max} ms) waiting for ${what}`);
      const next = this.clock.nextDue() ?? now + maxStep;
      await this.clock.advanceTo(Math.min(Math.max(next, now), now + maxStep));
    }
  }

  /**
   * Until no request or file write is in flight and the store has not moved for a few turns of
   * the event loop. Loopback data written by the server is readable at once, so a turn (one poll
   * phase) is enough for a watch event to reach its agent and the agent's answer to start.
   */
  async quiesce(maxRounds = 100_000): Promise<void> {
    let still = 0;
    for (let i = 0; i < maxRounds && still < 3; i++) {
      const rv = this.server.store.currentRv();
      const started = this.started;
      await new Promise((r) => setImmediate(r));
      await this.untilDrained();
      still = this.inflight === 0 && rv === this.server.store.currentRv() && started === this.started ? still + 1 : 0;
    }
  }

  private throwFailures(): void {
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

  /** Nodes with a waiting Lease in the queue, longest-waiting first as the lock orders them. */
  waiters(): string[] {
    return this.server.store
      .list("coordination.k8s.io/leases", "sluice")
      .filter((l) => l.metadata.labels?.["sluice.dev/role"] === "waiter")
      .map((l) => l.spec?.holderIdentity as string);
  }

  slotHolders(): string[] {
    return this.observer.holders();
  }

  async stop(): Promise<void> {
    this.stopCtl.abort();
    for (const h of this.hosts.values()) h.crash();
    this.observer.stop();
    this.cluster.stop();
    await this.server.stop();
    for (const k of this.kubes.values()) (k as HttpKube).close();
    for (const h of this.hosts.values()) h.cleanup();
    rmSync(this.root, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
  }
}
