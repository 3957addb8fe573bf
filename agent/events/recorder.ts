/**
 * The EventRecorder port over Kube: core/v1 Events about the cluster-scoped Node, in namespace
 * `default` (the only one the API accepts for them besides "", shared/k8s-golden 13), with
 * source.component `sluice` and source.host this host's node — what `kubectl describe node`
 * shows. Repeats are folded into one Event with a growing count (correlate.ts). Recording never
 * throws: a lost Event is worth a warning, never a failed drain or reboot.
 */
import { KubeError, type CoreV1Event, type Kube } from "../kube";
import { type Logger, redactText } from "../log";
import { type Clock, type EventRecorder, type NodeEvent, errorMessage } from "../ports";
import { DEFAULT_WINDOW_MS, SeenCache, correlate, eventKey, eventName } from "./correlate";

export const EVENT_NAMESPACE = "default";
export const EVENT_COMPONENT = "sluice";
/** Long enough for any message sluice writes (a drain summary names at most 10 pods). */
const MAX_MESSAGE = 1024;

export interface KubeEventRecorderOptions {
  /** source.host and reportingInstance: the node sluice runs on. */
  host: string;
  windowMs?: number;
}

export class KubeEventRecorder implements EventRecorder {
  private readonly seen = new SeenCache();
  private readonly uids = new Map<string, string>();
  /** One write at a time per key, so two identical records cannot both create. */
  private readonly chains = new Map<string, Promise<void>>();
  private seq = 0;

  constructor(
    private readonly deps: { kube: Kube; clock: Clock; log: Logger },
    private readonly options: KubeEventRecorderOptions,
  ) {}

  record(e: NodeEvent): Promise<void> {
    // An Event is read by everyone who may `kubectl describe node`: the same redaction as the log.
    const text = redactText(e.message);
    const ev = { ...e, message: text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text };
    const key = eventKey(ev, EVENT_COMPONENT, this.options.host);
    const run = (this.chains.get(key) ?? Promise.resolve()).then(() => this.write(key, ev));
    const tail = run.finally(() => {
      if (this.chains.get(key) === tail) this.chains.delete(key);
    });
    this.chains.set(key, tail);
    return tail;
  }

  private async write(key: string, e: NodeEvent): Promise<void> {
    const { kube, clock, log } = this.deps;
    try {
      const now = clock.now();
      const mono = clock.monotonic();
      const decision = correlate(this.seen.get(key), mono, this.options.windowMs ?? DEFAULT_WINDOW_MS);
      if (decision.action === "patch") {
        try {
          await kube.patchEvent(EVENT_NAMESPACE, decision.name, { count: decision.count, lastTimestamp: new Date(now) });
          this.seen.set(key, { ...this.seen.get(key)!, count: decision.count, lastMono: mono });
          return;
        } catch (err) {
          // Expired on the server (Event TTL) or deleted: start a new one, as client-go does.
          if (!(err instanceof KubeError && err.code === "not-found")) throw err;
          this.seen.delete(key);
        }
      }
      const name = eventName(e.node, now, this.seq++);
      await kube.createEvent(EVENT_NAMESPACE, await this.body(name, e, now));
      this.seen.set(key, { name, count: 1, firstTimestampMs: now, lastMono: mono });
    } catch (err) {
      log.warning("cannot record a Kubernetes Event", { node: e.node, reason: e.reason, error: errorMessage(err) });
    }
  }

  private async body(name: string, e: NodeEvent, now: number): Promise<CoreV1Event> {
    const at = new Date(now);
    return {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace: EVENT_NAMESPACE },
      involvedObject: { apiVersion: "v1", kind: "Node", name: e.node, uid: await this.uidOf(e.node) },
      reason: e.reason,
      message: e.message,
      type: e.type,
      source: { component: EVENT_COMPONENT, host: this.options.host },
      reportingComponent: EVENT_COMPONENT,
      reportingInstance: this.options.host,
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
    };
  }

  /**
   * The Node's UID, so the Event is shown for this incarnation of the node. If it cannot be read,
   * the name stands in, as the kubelet does for its own node's Events.
   */
  private async uidOf(node: string): Promise<string> {
    const cached = this.uids.get(node);
    if (cached) return cached;
    try {
      const uid = (await this.deps.kube.getNode(node)).metadata?.uid;
      if (uid) {
        this.uids.set(node, uid);
        return uid;
      }
    } catch (err) {
      this.deps.log.debug("cannot read the node's uid for its Events", { node, error: errorMessage(err) });
    }
    return node;
  }
}
