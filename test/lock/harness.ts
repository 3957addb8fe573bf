/**
 * In-process agents against one sim API server: a shared HttpKube (the ServiceAccount's
 * credentials, as every agent's lock uses), Node objects for the agents, an observer that sees
 * every Lease write in the store, and a recorder of Events.
 */
import type { HttpKube } from "../../agent/kube";
import { type Logger, nullLogger } from "../../agent/log";
import { RebootLock, type LockOptions } from "../../agent/lock";
import { type Clock, type EventRecorder, systemClock } from "../../agent/ports";
import type { SimServer } from "../../agent/sim";
import { LEASES, Lines, RecordedEvents, startSim, until } from "../helpers/sim";

export { LEASES, Lines, startSim, until };
/** The Events recorder under the lock suites' name. */
export const Events = RecordedEvents;

export function addNode(server: SimServer, name: string): void {
  server.apply({ apiVersion: "v1", kind: "Node", metadata: { name } });
}

export function deleteNode(server: SimServer, name: string): void {
  const cur = server.store.get("/nodes", name);
  if (cur) server.store.write("/nodes", "DELETED", { ...cur, metadata: { ...cur.metadata } });
}

export function makeLock(kube: HttpKube, node: string, over: Partial<LockOptions> = {}, deps: { clock?: Clock; events?: EventRecorder; log?: Logger } = {}): RebootLock {
  return new RebootLock(
    { namespace: "sluice", group: "default", concurrency: 1, nodeName: node, lockTtlMs: 0, headGraceMs: 300, nodeGoneGraceMs: 50, nodeCheckIntervalMs: 100, ...over },
    { kube, clock: deps.clock ?? systemClock, log: deps.log ?? nullLogger, events: deps.events ?? new Events() },
  );
}

/** Sees every committed Lease write (not a watch: nothing can be dropped) and checks the invariant. */
export class Observer {
  readonly holders = new Map<string, string>();
  maxHolders = 0;
  violations: string[] = [];
  readonly served: string[] = [];
  private readonly unsubscribe: () => void;

  constructor(server: SimServer, private readonly slots: number, group = "default") {
    this.unsubscribe = server.store.subscribe(LEASES, (ev) => {
      const labels = ev.obj.metadata.labels ?? {};
      if (labels["sluice.dev/role"] !== "slot" || labels["sluice.dev/group"] !== group) return;
      const name = ev.obj.metadata.name as string;
      const holder = ev.type === "DELETED" ? "" : ((ev.obj.spec?.holderIdentity as string | undefined) ?? "");
      const before = this.holders.get(name) ?? "";
      if (holder) this.holders.set(name, holder);
      else this.holders.delete(name);
      if (holder && holder !== before) this.served.push(holder);
      const all = [...this.holders.values()];
      this.maxHolders = Math.max(this.maxHolders, all.length);
      if (all.length > this.slots) this.violations.push(`${all.length} holders for ${this.slots} slots at rv ${ev.rv}: ${all.join(",")}`);
      if (new Set(all).size !== all.length) this.violations.push(`a node holds two slots at rv ${ev.rv}: ${all.join(",")}`);
      const idx = Number(labels["sluice.dev/slot"]);
      if (!(idx < this.slots)) this.violations.push(`slot ${name} beyond concurrency`);
    });
  }

  stop(): void {
    this.unsubscribe();
  }
}
