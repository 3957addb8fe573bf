/**
 * This agent's own Node, kept current by one watch (field selector on its name): the state machine
 * reads Ready, bootID, cordon and marks from it without a GET per tick, and wakes on its changes.
 * The watch also serves first boot, where the kubelet registers the Node after sluice started.
 */
import type { Kube, V1Node } from "../kube";
import type { Logger } from "../log";
import type { Clock } from "../ports";

const code = (err: unknown) => (err as { code?: string } | undefined)?.code ?? "internal";

export class NodeWatch {
  private node: V1Node | undefined;
  private known = false;
  private readonly listeners = new Set<() => void>();
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly kube: Kube,
    readonly name: string,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly o: { watchTimeoutSeconds?: number; random?: () => number } = {},
  ) {}

  /** The Node as last seen; undefined before the first read or while it does not exist. */
  current(): V1Node | undefined {
    return this.node;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts reading and watching; runs until `signal` aborts. */
  start(signal: AbortSignal): void {
    this.loop = this.run(signal);
  }

  stopped(): Promise<void> {
    return this.loop;
  }

  /** Resolves once the Node exists (at once when it does). Logs once while it does not. */
  async exists(signal: AbortSignal): Promise<V1Node> {
    let told = false;
    for (;;) {
      signal.throwIfAborted();
      if (this.node) return this.node;
      if (this.known && !told) {
        told = true;
        this.log.notice("waiting for this host's Node to be registered", { node: this.name });
      }
      await new Promise<void>((resolve) => {
        const off = this.onChange(() => (off(), signal.removeEventListener("abort", stop), resolve()));
        const stop = () => (off(), resolve());
        signal.addEventListener("abort", stop, { once: true });
      });
    }
  }

  private set(node: V1Node | undefined): void {
    this.node = node;
    this.known = true;
    for (const l of this.listeners) l();
  }

  private async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    let rv: string | undefined;
    // After a 410 the watch starts over without a resourceVersion: the server begins it with the
    // Node as it is now (an ADDED event). A GET would not do: it answers the Node's own version,
    // which is as old as its last change, and a busy cluster's watch window has long moved past
    // it — every watch from it is 410 again, and the agent would GET and re-watch forever.
    let fromNow = false;
    while (!signal.aborted) {
      try {
        if (rv === undefined && !fromNow) {
          try {
            const n = await this.kube.getNode(this.name);
            rv = n.metadata?.resourceVersion;
            this.set(n);
          } catch (err) {
            if (code(err) !== "not-found") throw err;
            // Watch from "now" without a version: an ADDED event comes when the kubelet registers.
            this.set(undefined);
          }
        }
        const base = this.o.watchTimeoutSeconds ?? 3600;
        const w = await this.kube.watchNode(this.name, { resourceVersion: fromNow ? undefined : rv, allowBookmarks: true, timeoutSeconds: Math.max(1, Math.round(base * (0.9 + 0.2 * (this.o.random ?? Math.random)()))), signal }, (type, node) => {
          const v = node.metadata?.resourceVersion;
          if (v) (rv = v), (fromNow = false);
          if (type === "BOOKMARK") return;
          failures = 0;
          this.set(type === "DELETED" ? undefined : node);
        });
        await w.done;
        failures = 0;
      } catch (err) {
        if (signal.aborted) break;
        if (code(err) === "gone") {
          rv = undefined;
          // Routine (the window moved on while the watch was away): start over at once, once.
          if (!fromNow) {
            fromNow = true;
            continue;
          }
        }
        failures += 1;
        const delay = Math.min(30_000, 500 * 2 ** Math.min(failures, 6));
        const fields = { node: this.name, code: code(err), error: (err as Error)?.message ?? String(err), delayMs: delay };
        if (failures === 3) this.log.warning("the Node watch keeps failing; retrying", fields);
        else this.log.debug("node watch failed; retrying", fields);
        if (failures > 1 && !fromNow) rv = undefined;
        await this.clock.sleep(delay, signal).catch(() => {});
      }
    }
  }
}
