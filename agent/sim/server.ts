/**
 * The in-memory Kubernetes API server: loopback HTTP on a random port, one store, users by
 * bearer token, fault injection and counters, and test hooks (compact, restartWatchCache).
 */
import { randomBytes } from "node:crypto";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { nullLogger, type Logger } from "../log";
import { type Clock, systemClock } from "../ports/clock";
import { type SimUser, type SimUserSpec, parseAuthYaml, toSimUser } from "./auth";
import { Faults } from "./faults";
import { type AuditEvent, handle } from "./handler";
import { Registry } from "./registry";
import { findResource } from "./resources";
import { Store, type KObj } from "./store";
import { type KubeVersion, type VersionProfile, versionProfile } from "./version";
import { WatchHub } from "./watch-hub";

export interface SimServerOptions {
  /** The server's clock: timestamps, grace periods, watch timeouts, bookmarks, injected latency. */
  clock?: Clock;
  /** 0 (default) picks a free port. Always bound to 127.0.0.1. */
  port?: number;
  /** Events kept per resource for watches to resume from (the watch cache window). */
  historyLimit?: number;
  /** Periodic bookmark interval; the real server sends one about every minute. */
  bookmarkIntervalMs?: number;
  /** Token of the built-in `admin` user (group system:masters); random when omitted. */
  adminToken?: string;
  users?: SimUserSpec[];
  /** Multi-document YAML: `users:` documents and RBAC objects (see docs/usage/sim.md). */
  authYaml?: string;
  /** Namespaces created at start besides default, kube-system, kube-public, kube-node-lease. */
  namespaces?: string[];
  log?: Logger;
  /**
   * Every random choice of the server: generateName suffixes, the watch timeout when a client
   * sends none, injected faults. Math.random when omitted; a seeded source replays a run.
   * (uids, boot ids and tokens stay crypto-random: identities, only ever compared for equality.)
   */
  random?: () => number;
  /**
   * The kube-apiserver to answer as: "1.28" (default; policy/v1 and events.k8s.io/v1 only,
   * Retry-After, DisruptionTarget, field validation) or "1.20" (policy/v1beta1 only: for
   * testing clients' v1beta1 fallback). See docs/usage/sim.md.
   */
  version?: KubeVersion;
  /** Same as `version: "1.20"` (kept for the suites written before `version`). */
  legacyPolicy?: boolean;
  /** Keep an audit record of every resource request in `auditLog` (for least-privilege tests). */
  audit?: boolean;
}

const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

export class SimServer {
  readonly clock: Clock;
  readonly store: Store;
  readonly registry: Registry;
  readonly faults: Faults;
  readonly adminToken: string;
  readonly profile: VersionProfile;
  /** Resource requests as they were answered, when `audit` is on. */
  readonly auditLog: AuditEvent[] = [];
  private readonly users = new Map<string, SimUser>();
  private readonly http: Server;
  private readonly watchers = { open: 0 };
  private readonly hub: WatchHub;
  private readonly log: Logger;
  private port = 0;

  constructor(private readonly options: SimServerOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? nullLogger;
    this.profile = versionProfile(options.version ?? (options.legacyPolicy ? "1.20" : "1.28"));
    this.store = new Store(options.historyLimit ?? 1000);
    this.registry = new Registry(this.store, this.clock, this.profile, options.random);
    this.faults = new Faults(options.random);
    this.hub = new WatchHub(this.store, { clock: this.clock, everyMs: options.bookmarkIntervalMs ?? 60_000 });
    this.adminToken = options.adminToken ?? randomBytes(24).toString("base64url");
    this.addUser({ token: this.adminToken, name: "admin", groups: ["system:masters"] });
    for (const u of options.users ?? []) this.addUser(u);
    for (const ns of [...SYSTEM_NAMESPACES, ...(options.namespaces ?? [])]) this.ensureNamespace(ns);
    if (options.authYaml) {
      const parsed = parseAuthYaml(options.authYaml);
      for (const u of parsed.users) this.users.set(u.token, u);
      // As `kubectl apply` would: a namespace that is already there (`sluice` is served by
      // default) is not an error, so deploy/ manifests load as they are.
      for (const o of parsed.objects) if (!(o.kind === "Namespace" && this.store.get("/namespaces", String(o.metadata?.name ?? "")))) this.apply(o);
    }
    this.http = createServer((req, res) => {
      void handle(req, res, {
        registry: this.registry,
        clock: this.clock,
        random: options.random ?? Math.random,
        faults: this.faults,
        users: this.users,
        serverAddress: () => `127.0.0.1:${this.port}`,
        addUser: (u) => this.users.set(u.token, u),
        watchers: this.watchers,
        hub: this.hub,
        profile: this.profile,
        audit: options.audit ? (e) => this.auditLog.push(e) : undefined,
      });
    });
    // Watches are long-lived; node's default timeouts would cut them and the 2000-watcher bench.
    this.http.requestTimeout = 0;
    this.http.headersTimeout = 0;
    this.http.keepAliveTimeout = 60_000;
    this.http.maxConnections = Infinity;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.http.once("error", reject);
      // A simulated fleet connects by the thousand in one turn; beyond the accept queue (Node's
      // default backlog is 511) the kernel drops the SYN and the client retries it a second
      // later, so a fleet's start stood idle for seconds at a time. The kernel caps this at
      // net.core.somaxconn.
      this.http.listen({ port: this.options.port ?? 0, host: "127.0.0.1", backlog: 65_535 }, () => resolve());
    });
    this.port = (this.http.address() as AddressInfo).port;
    this.log.info("sim API server listening", { url: this.url });
    return this;
  }

  async stop(): Promise<void> {
    this.hub.stop();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Watches currently streaming. */
  get openWatches(): number {
    return this.watchers.open;
  }

  /** Adds a bearer-token identity; returns its token. */
  addUser(spec: SimUserSpec): string {
    const u = toSimUser(spec);
    this.users.set(u.token, u);
    return u.token;
  }

  /** A token acting as the kubelet of `node` (Node authorizer + NodeRestriction apply). */
  nodeToken(node: string): string {
    const token = `sim-node-${node}-${randomBytes(8).toString("hex")}`;
    return this.addUser({ token, node });
  }

  kubeconfigYaml(token = this.adminToken, user = "sim"): string {
    return stringify({
      apiVersion: "v1",
      kind: "Config",
      // Plain HTTP on loopback; client-node refuses http:// unless TLS verification is off.
      clusters: [{ name: "sluice-sim", cluster: { server: this.url, "insecure-skip-tls-verify": true } }],
      users: [{ name: user, user: { token } }],
      contexts: [{ name: "sluice-sim", context: { cluster: "sluice-sim", user } }],
      "current-context": "sluice-sim",
    });
  }

  kubeConfig(token = this.adminToken): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromString(this.kubeconfigYaml(token));
    return kc;
  }

  /** Test hook: etcd compaction at the current revision (exact-revision lists and old continue tokens get 410). */
  compact(): void {
    this.store.compact();
  }

  /** Test hook: an API server restart; watches from before now get a 410 ERROR event. */
  restartWatchCache(): void {
    this.store.restartWatchCache();
  }

  /** Creates an object directly (as admin, bypassing HTTP); for fixtures and the simulated cluster. */
  apply(obj: KObj): KObj {
    const [group, version] = String(obj.apiVersion ?? "v1").includes("/") ? String(obj.apiVersion).split("/") : ["", String(obj.apiVersion ?? "v1")];
    const plural = `${String(obj.kind).toLowerCase()}${String(obj.kind).endsWith("s") ? "es" : "s"}`;
    const def = findResource(group, version, plural.replace(/ys$/, "ies")) ?? findResource(group, this.profile.served[group]?.[0] ?? version, plural.replace(/ys$/, "ies"));
    if (!def) throw new Error(`sim: cannot apply kind ${String(obj.kind)}`);
    return this.registry.create({ def, version, namespace: obj.metadata?.namespace ?? "", name: "", subresource: "" }, obj) as KObj;
  }

  ensureNamespace(name: string): void {
    if (this.store.get("/namespaces", name)) return;
    this.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
    this.apply({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: name } });
  }
}
