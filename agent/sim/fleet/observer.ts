/**
 * Watches every committed write of the API server's store (not a watch: nothing is dropped or
 * late) and the hosts' reboots, checks the fleet's invariants as they happen, and keeps the
 * figures a run is judged by: who held a slot when, each node's time cordoned, the makespan.
 *
 * Slot ownership is judged as DESIGN.md states it: an agent may act while its last confirmation
 * of the slot is younger than `renewDeadline`, so an eviction or a reboot command is a violation
 * only when the node has not held a slot within that long (an eviction already on its way when an
 * administrator clears the Lease is not sluice acting without a slot).
 */
import type { KObj, SimServer } from "..";
import type { Clock } from "../../ports";

export interface ObserverHost {
  readonly name: string;
  storedPhase(): string | undefined;
}

export interface NodeRecord {
  needAt?: number;
  /** Slot acquisitions and releases, monotonic ms. */
  taken: number[];
  released: number[];
  /** Completed cordon → uncordon spans, ms. */
  cordonedMs: number[];
  cordonedAt?: number;
  /** Times the host actually went down. */
  reboots: number;
  /** Reboot commands given. */
  commands: number;
  schedulableAtStart: boolean;
}

export class FleetObserver {
  readonly violations: string[] = [];
  readonly nodes = new Map<string, NodeRecord>();
  maxHolders = 0;
  evictions = 0;
  private readonly lastHeld = new Map<string, number>();
  private readonly holding = new Set<string>();
  /** Slot releases done by someone other than the holder (an administrator): not the agent's doing. */
  private readonly expectedClears = new Set<string>();
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly server: SimServer,
    private readonly clock: Clock,
    private readonly o: { slots: number; renewDeadlineMs: number; host: (name: string) => ObserverHost | undefined },
  ) {
    for (const n of server.store.list("/nodes")) this.record(n.metadata.name).schedulableAtStart = n.spec?.unschedulable !== true;
    this.unsubscribe.push(
      server.store.subscribe("coordination.k8s.io/leases", (ev) => this.onLease(ev.obj, ev.prev, ev.type)),
      server.store.subscribe("/pods", (ev) => {
        const p = ev.obj;
        if (ev.type !== "MODIFIED" || !p.metadata.deletionTimestamp || ev.prev?.metadata.deletionTimestamp) return;
        this.evictions += 1;
        const node = p.spec?.nodeName as string;
        if (this.o.host(node) && !this.heldRecently(node)) this.violations.push(`${node}: pod ${p.metadata.name} evicted without a slot`);
      }),
      server.store.subscribe("/nodes", (ev) => {
        const name = ev.obj.metadata.name as string;
        if (ev.type === "ADDED" && !this.nodes.has(name)) this.record(name).schedulableAtStart = ev.obj.spec?.unschedulable !== true;
        const was = ev.prev?.spec?.unschedulable === true;
        const is = ev.type !== "DELETED" && ev.obj.spec?.unschedulable === true;
        const r = this.record(name);
        if (!was && is) r.cordonedAt = this.clock.monotonic();
        if (was && !is && r.cordonedAt !== undefined) {
          r.cordonedMs.push(this.clock.monotonic() - r.cordonedAt);
          r.cordonedAt = undefined;
        }
      }),
    );
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
  }

  record(node: string): NodeRecord {
    let r = this.nodes.get(node);
    if (!r) {
      r = { taken: [], released: [], cordonedMs: [], reboots: 0, commands: 0, schedulableAtStart: true };
      this.nodes.set(node, r);
    }
    return r;
  }

  /** The next change of `lease`'s holder is an administrator's, not the holder's. */
  expectClear(lease: string): void {
    this.expectedClears.add(lease);
  }

  holders(): string[] {
    return this.server.store
      .list("coordination.k8s.io/leases")
      .filter((l) => l.metadata.labels?.["sluice.dev/role"] === "slot" && l.spec?.holderIdentity)
      .map((l) => l.spec.holderIdentity as string);
  }

  private heldRecently(node: string): boolean {
    if (this.holding.has(node)) return true;
    const at = this.lastHeld.get(node);
    return at !== undefined && this.clock.monotonic() - at <= this.o.renewDeadlineMs;
  }

  private onLease(obj: KObj, prev: KObj | undefined, type: string): void {
    if (obj.metadata.labels?.["sluice.dev/role"] !== "slot") return;
    const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
    const before = prev?.spec?.holderIdentity as string | undefined;
    const after = type === "DELETED" ? undefined : (obj.spec?.holderIdentity as string | undefined);
    const holders = this.holders();
    this.maxHolders = Math.max(this.maxHolders, holders.length);
    if (holders.length > this.o.slots) this.violations.push(`${holders.length} holders for ${this.o.slots} slots: ${holders.join(",")}`);
    if (before === after) return;
    const now = this.clock.monotonic();
    const admin = this.expectedClears.delete(key);
    if (before) {
      this.holding.delete(before);
      this.lastHeld.set(before, now);
      this.record(before).released.push(now);
      const host = this.o.host(before);
      const nodeGone = !this.server.store.get("/nodes", before);
      const phase = host?.storedPhase();
      if (!admin && !nodeGone && (phase === "draining" || phase === "rebooting")) this.violations.push(`${before}: slot released while ${phase}`);
    }
    if (after) {
      this.holding.add(after);
      this.record(after).taken.push(now);
    }
  }

  /** A host's reboot command was given. */
  command(node: string): void {
    this.record(node).commands += 1;
    if (!this.heldRecently(node)) this.violations.push(`${node}: reboot command given without a slot`);
  }

  /** A host went down. */
  rebooting(node: string): void {
    this.record(node).reboots += 1;
  }

  /** Completed slot cycles (taken → released) in ms, one per release that followed a take. */
  cycles(): number[] {
    const out: number[] = [];
    for (const r of this.nodes.values()) for (let i = 0; i < Math.min(r.taken.length, r.released.length); i++) out.push(r.released[i]! - r.taken[i]!);
    return out;
  }
}
