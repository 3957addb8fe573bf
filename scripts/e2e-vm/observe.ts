/**
 * What an operator sees through the API server, recorded as a timeline: the slot Lease's holder
 * and phase, each Node's cordon, readiness, boot id and reboot-needed label, the Events sluice
 * writes, and the pods still on each node. The Lease is watched, so every holder it had is seen
 * in the server's order (a release and the next take may be milliseconds apart); the rest is
 * polled twice a second over loopback. Only changes are kept, each with the time it was seen.
 */
import type { Api, KObj } from "./api";

export type Seen =
  | { kind: "holder"; holder: string; phase: string }
  | { kind: "node"; node: string; cordoned: boolean; ready: boolean; bootId: string; needed: boolean }
  | { kind: "pods"; node: string; count: number }
  | { kind: "event"; node: string; reason: string; type: string; message: string };

export type Entry = Seen & { t: number };

export class Observer {
  readonly timeline: Entry[] = [];
  private last = new Map<string, string>();
  private events = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private busy = false;
  errors = 0;

  constructor(
    private readonly api: Api,
    private readonly o: { nodes: string[]; lease: string; namespace: string },
  ) {}

  private watching = new AbortController();

  start(): void {
    this.timer = setInterval(() => void this.poll(), 500);
    void this.watchLease();
  }

  stop(): void {
    clearInterval(this.timer);
    this.watching.abort();
  }

  /** Every version of the slot Lease, in order; resumes from the last one seen when the watch ends. */
  private async watchLease(): Promise<void> {
    let rv = "";
    while (!this.watching.signal.aborted) {
      try {
        const q = `watch=1&fieldSelector=metadata.name%3D${this.o.lease}${rv ? `&resourceVersion=${rv}` : ""}`;
        const res = await fetch(`${this.api.url}/apis/coordination.k8s.io/v1/namespaces/${this.o.namespace}/leases?${q}`, { headers: { authorization: `Bearer ${this.api.token}` }, signal: this.watching.signal });
        let buf = "";
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += Buffer.from(chunk).toString("utf8");
          let nl: number;
          while ((nl = buf.indexOf("\n")) >= 0) {
            const ev = JSON.parse(buf.slice(0, nl)) as { type: string; object: KObj };
            buf = buf.slice(nl + 1);
            if (ev.type === "ERROR") {
              rv = "";
              continue;
            }
            rv = ev.object.metadata.resourceVersion ?? rv;
            const gone = ev.type === "DELETED";
            this.note("lease", { kind: "holder", holder: gone ? "" : ev.object.spec?.holderIdentity ?? "", phase: gone ? "" : ev.object.metadata.annotations?.["sluice.dev/phase"] ?? "" });
          }
        }
      } catch {
        if (this.watching.signal.aborted) return;
        this.errors += 1;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Polls now (waits for a poll under way), so a check right after sees the latest. */
  async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (const name of this.o.nodes) {
        const n = await this.api.get(`/api/v1/nodes/${name}`);
        const ready = (n?.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === "Ready" && c.status === "True");
        this.note(`node/${name}`, { kind: "node", node: name, cordoned: n?.spec?.unschedulable === true, ready, bootId: n?.status?.nodeInfo?.bootID ?? "", needed: n?.metadata.labels?.["sluice.dev/reboot-needed"] === "true" });
        const pods = await this.api.list(`/api/v1/pods?fieldSelector=spec.nodeName%3D${name}`);
        this.note(`pods/${name}`, { kind: "pods", node: name, count: pods.filter((p) => !p.metadata.deletionTimestamp).length });
      }
      // In the order the server stored them (one resourceVersion counter), not the list's by name.
      const events = await this.api.list("/api/v1/namespaces/default/events");
      for (const e of events.sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion))) this.noteEvent(e);
    } catch {
      this.errors += 1;
    } finally {
      this.busy = false;
    }
  }

  private note(key: string, s: Seen): void {
    const text = JSON.stringify(s);
    if (this.last.get(key) === text) return;
    this.last.set(key, text);
    this.timeline.push({ ...s, t: Date.now() });
  }

  /** One entry per Event occurrence: a repeat folded into an existing Event raises its count. */
  private noteEvent(e: KObj): void {
    const key = e.metadata.uid ?? e.metadata.name;
    const count = Number(e.count ?? 1);
    const seen = this.events.get(key) ?? 0;
    if (count <= seen) return;
    this.events.set(key, count);
    for (let i = seen; i < count; i++) this.timeline.push({ kind: "event", node: e.involvedObject?.name ?? "", reason: e.reason ?? "", type: e.type ?? "", message: e.message ?? "", t: Date.now() });
  }

  /** Polls until `pred` holds for an entry seen since `from` (an index into the timeline). */
  async waitFor(what: string, pred: (e: Entry) => boolean, o: { from?: number; timeoutMs: number; alive?: () => void }): Promise<Entry> {
    const deadline = Date.now() + o.timeoutMs;
    for (;;) {
      const hit = this.timeline.slice(o.from ?? 0).find(pred);
      if (hit) return hit;
      o.alive?.();
      if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(o.timeoutMs / 1000)} s waiting for: ${what}`);
      await new Promise((r) => setTimeout(r, 250));
      await this.poll();
    }
  }

  eventsFor(node: string, from = 0): string[] {
    return this.timeline.slice(from).flatMap((e) => (e.kind === "event" && e.node === node ? [e.reason] : []));
  }
}

/** A compact line per entry, for the report and for failures. */
export function describe(e: Entry, t0: number): string {
  const at = `${((e.t - t0) / 1000).toFixed(1).padStart(6)}s`;
  switch (e.kind) {
    case "holder":
      return `${at} slot: ${e.holder || "(free)"}${e.phase ? ` [${e.phase}]` : ""}`;
    case "node":
      return `${at} node ${e.node}: ${e.ready ? "Ready" : "NotReady"}${e.cordoned ? ", cordoned" : ""}${e.needed ? ", reboot-needed" : ""}, boot ${e.bootId.slice(0, 8)}`;
    case "pods":
      return `${at} pods on ${e.node}: ${e.count}`;
    case "event":
      return `${at} Event ${e.type} ${e.reason} on ${e.node}: ${e.message}`;
  }
}
