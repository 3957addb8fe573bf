/**
 * drainNode: kubectl drain's eviction loop, with kured's options, over the narrow Kube port.
 * The caller cordons first (cordon.ts) so that it can persist whether the node was already
 * unschedulable before anything changes. Every pod is evicted by its own task, all at once;
 * one poller LISTs the node's pods to see which evicted pods are gone, instead of one GET per
 * pod per second as kubectl does.
 */
import { setMaxListeners } from "node:events";
import { KubeError, type V1Pod } from "../kube";
import { SluiceError, errorMessage } from "../ports";
import {
  type EvictionOutcome, backoffMs, evictionOutcome, planPod, podGone, pollDelayMs, refusalReason, summarize, terminatingReason, waitDecision,
} from "./decide";
import type { DrainDeps, DrainOptions, DrainResult, HeldPod, PodRef } from "./types";

/** Passes over the node's pod list: a pod put back on the cordoned node is evicted again, not forever. */
const MAX_PASSES = 3;
/** Listing errors that retrying cannot fix: the credentials or the request are wrong. */
const FATAL_LIST_CODES = new Set(["forbidden", "unauthorized", "invalid", "bad-request"]);

class DrainTimeout extends SluiceError {
  constructor() {
    super("drain-timeout", "drainTimeout elapsed");
  }
}

interface Tracked extends HeldPod {
  ref: PodRef;
  done: boolean;
  lastSeen?: V1Pod;
  refusedCodes: Set<string>;
}

const key = (ns: string, name: string) => `${ns}/${name}`;

export async function drainNode(opts: DrainOptions, deps: DrainDeps, signal?: AbortSignal): Promise<DrainResult> {
  const { clock, log, events } = deps;
  const node = opts.node;
  const started = clock.monotonic();
  const timer = new AbortController();
  const timeout = new AbortController();
  if ((opts.timeoutMs ?? 0) > 0) {
    clock.sleep(opts.timeoutMs!, timer.signal).then(() => timeout.abort(new DrainTimeout()), () => {});
  }
  const stop = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
  // One listener per pod task (sleeps, waits): hundreds on a big node are expected, not a leak.
  setMaxListeners(0, stop);
  const result: DrainResult = { outcome: "drained", node, durationMs: 0, evicted: 0, skipped: [], notWaitedFor: [], held: [], pdbs: [] };
  const tracked = new Map<string, Tracked>();
  const skippedKeys = new Set<string>();
  const finish = async (outcome: DrainResult["outcome"]): Promise<DrainResult> => {
    timer.abort();
    result.outcome = outcome;
    result.durationMs = clock.monotonic() - started;
    if (outcome === "timed-out") {
      const now = clock.now();
      result.held = [...tracked.values()].filter((t) => !t.done).map((t) => heldOf(t, now));
      result.pdbs = [...new Set(result.held.flatMap((h) => h.pdbs))].sort();
    }
    const line = summarize(result);
    if (outcome === "drained") log.notice(line, { node });
    else log.warning(line, { node, pods: result.held.map((h) => `${h.namespace}/${h.name}`), pdbs: result.pdbs });
    return result;
  };

  let waiter: Waiter | undefined;
  try {
    if ((opts.delayMs ?? 0) > 0) {
      log.info("waiting drainDelay before evicting", { node, delayMs: opts.delayMs });
      await clock.sleep(opts.delayMs!, stop);
    }
    const w = new Waiter(deps, opts, stop);
    waiter = w;
    let clean = false;
    for (let pass = 1; pass <= MAX_PASSES + 1; pass++) {
      const pods = await listWithRetry(deps, node, opts.podSelector || undefined, stop);
      const todo: V1Pod[] = [];
      for (const pod of pods) {
        const ns = pod.metadata?.namespace ?? "";
        const name = pod.metadata?.name ?? "";
        const plan = planPod(pod, clock.now(), opts.skipWaitForDeleteTimeoutSeconds ?? 0);
        if (!plan.evict) {
          // A pod this drain evicted and stopped waiting for is reported in notWaitedFor, not here.
          if (!skippedKeys.has(key(ns, name)) && !tracked.has(key(ns, name))) result.skipped.push({ namespace: ns, name, reason: plan.reason });
          skippedKeys.add(key(ns, name));
          continue;
        }
        const seen = tracked.get(key(ns, name));
        if (seen && seen.ref.uid === pod.metadata?.uid) continue;
        todo.push(pod);
      }
      if (todo.length === 0) {
        clean = true;
        break;
      }
      // The list after the last pass only checks: pods that keep coming back (a StatefulSet
      // pinned here, a pod tolerating the cordon) must not be reported as drained, or the reboot
      // would kill them without an eviction. forceReboot decides, as for any failed drain.
      if (pass > MAX_PASSES) {
        result.held = todo.map((p) => ({
          namespace: p.metadata?.namespace ?? "",
          name: p.metadata?.name ?? "",
          state: "evicting" as const,
          reason: `came back on the node after ${MAX_PASSES} eviction passes`,
          pdbs: [],
          attempts: MAX_PASSES,
        }));
        result.error = { code: "drain-pods-return", message: `pods keep coming back on the cordoned node: ${result.held.map((h) => key(h.namespace, h.name)).join(", ")}` };
        break;
      }
      if (pass > 1) log.warning("pods came back on the cordoned node; evicting them too", { node, pods: todo.map((p) => key(p.metadata?.namespace ?? "", p.metadata?.name ?? "")) });
      log.info("evicting pods", { node, pass, pods: todo.length, skipped: result.skipped.length });
      const tasks = todo.map((pod) => evictAndWait(pod, deps, opts, tracked, w, stop, result));
      w.start();
      await Promise.all(tasks);
    }
    w.close();
    return await finish(clean ? "drained" : "failed");
  } catch (err) {
    waiter?.close();
    if (timeout.signal.aborted && !signal?.aborted) return finish("timed-out");
    if (signal?.aborted) {
      timer.abort();
      throw signal.reason;
    }
    const e = err instanceof SluiceError ? err : new SluiceError("drain-internal", errorMessage(err), { cause: err });
    result.error = { code: e.code, message: e.message };
    return finish("failed");
  }
}

async function listWithRetry(deps: DrainDeps, node: string, selector: string | undefined, stop: AbortSignal): Promise<V1Pod[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await deps.kube.listPodsOnNode(node, selector)).items;
    } catch (err) {
      if (err instanceof KubeError && FATAL_LIST_CODES.has(err.code)) throw err;
      deps.log.warning("cannot list the node's pods; retrying", { node, error: errorMessage(err), attempt });
      await deps.clock.sleep(backoffMs(attempt), stop);
    }
  }
}

async function evictAndWait(pod: V1Pod, deps: DrainDeps, opts: DrainOptions, tracked: Map<string, Tracked>, waiter: Waiter, stop: AbortSignal, result: DrainResult): Promise<void> {
  const { kube, clock, log, events } = deps;
  const ref: PodRef = { namespace: pod.metadata?.namespace ?? "", name: pod.metadata?.name ?? "", uid: pod.metadata?.uid ?? "" };
  const t: Tracked = { ...ref, ref, state: "evicting", reason: "eviction not yet accepted", pdbs: [], attempts: 0, done: false, refusedCodes: new Set(), lastSeen: pod };
  tracked.set(key(ref.namespace, ref.name), t);
  // The UID precondition makes the server refuse (409) to evict another pod that took this name
  // (a StatefulSet's replacement, possibly on another node) between our attempts.
  const evictOptions = { ...((opts.gracePeriodSeconds ?? -1) >= 0 ? { gracePeriodSeconds: opts.gracePeriodSeconds } : {}), ...(ref.uid ? { uid: ref.uid } : {}) };
  let refusals = 0;
  for (;;) {
    stop.throwIfAborted();
    t.attempts++;
    const err = await kube.evictPod(ref.namespace, ref.name, evictOptions).then(() => undefined, (e: unknown) => e ?? new Error("eviction failed"));
    const replaced = ref.uid !== "" && err instanceof KubeError && err.code === "conflict";
    const o: EvictionOutcome = replaced ? { kind: "gone" } : evictionOutcome(err, refusals + 1, ref.namespace);
    if (o.kind === "gone") {
      result.evicted++;
      log.debug(replaced ? "pod gone: its name now belongs to another pod (409 on the UID precondition)" : "pod already gone (404)", { pod: key(ref.namespace, ref.name) });
      t.done = true;
      return;
    }
    if (o.kind === "accepted") {
      result.evicted++;
      log.debug("eviction accepted", { pod: key(ref.namespace, ref.name) });
      break;
    }
    refusals++;
    t.reason = refusalReason(o);
    t.errorCode = o.code;
    t.pdbs = o.pdbs.length ? o.pdbs : o.cause === "disruption-budget" ? t.pdbs : [];
    if (!t.refusedCodes.has(`${o.cause}:${o.code}`)) {
      t.refusedCodes.add(`${o.cause}:${o.code}`);
      const fields = { pod: key(ref.namespace, ref.name), code: o.code, retryInMs: o.delayMs, pdbs: o.pdbs };
      if (o.cause === "refused") {
        log.warning(`eviction refused; retrying until drainTimeout: ${o.message}`, fields);
        await events.record({ node: opts.node, type: "Warning", reason: "EvictionRefused", message: `eviction of ${fields.pod} refused (${o.code}): ${o.message}` });
      } else log.info(t.reason, fields);
    }
    await clock.sleep(o.delayMs, stop);
    // The UID precondition alone is not enough after a refusal: the server checks the PDB first
    // (DESIGN, v1.28), so a replacement under a PDB with no budget answers 429, not 409, for as
    // long as the drain would wait. One GET per retry tells that case apart.
    const current = await kube.getPod(ref.namespace, ref.name).catch((e: unknown) => (e instanceof KubeError && e.code === "not-found" ? undefined : pod));
    if (podGone(ref.uid, current) || current?.spec?.nodeName !== opts.node) {
      result.evicted++;
      log.debug("pod gone before its eviction was accepted", { pod: key(ref.namespace, ref.name) });
      t.done = true;
      return;
    }
  }
  t.state = "terminating";
  t.reason = "eviction accepted, waiting for the pod to terminate";
  t.pdbs = [];
  const how = await waiter.wait(t);
  if (how === "skip-wait") {
    result.notWaitedFor.push(key(ref.namespace, ref.name));
    log.warning("not waiting any longer for a pod deleted long ago (skipWaitForDeleteTimeout)", { pod: key(ref.namespace, ref.name) });
  }
  t.done = true;
}

/** One poller for every evicted pod: a LIST of the node's pods, more often at first. */
class Waiter {
  private readonly waiting = new Map<string, { t: Tracked; resolve: (how: "gone" | "skip-wait") => void }>();
  private running = false;
  private readonly closed = new AbortController();
  private readonly started: number;
  private readonly sleepSignal: AbortSignal;

  constructor(
    private readonly deps: DrainDeps,
    private readonly opts: DrainOptions,
    private readonly stop: AbortSignal,
  ) {
    this.started = deps.clock.monotonic();
    this.sleepSignal = AbortSignal.any([stop, this.closed.signal]);
  }

  wait(t: Tracked): Promise<"gone" | "skip-wait"> {
    return new Promise((resolve, reject) => {
      // An abort that came while the eviction was on its way has already fired: a listener added
      // now would never run, and the drain would never end.
      if (this.stop.aborted) return reject(this.stop.reason);
      this.waiting.set(key(t.namespace, t.name), { t, resolve });
      this.stop.addEventListener("abort", () => reject(this.stop.reason), { once: true });
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop().finally(() => (this.running = false));
  }

  close(): void {
    this.closed.abort();
  }

  private async loop(): Promise<void> {
    const { clock, kube, log } = this.deps;
    while (!this.sleepSignal.aborted) {
      try {
        await clock.sleep(pollDelayMs(clock.monotonic() - this.started), this.sleepSignal);
      } catch {
        return;
      }
      if (this.waiting.size === 0) continue;
      let pods: V1Pod[];
      try {
        pods = (await kube.listPodsOnNode(this.opts.node)).items;
      } catch (err) {
        log.debug("cannot list pods while waiting for deletions", { error: errorMessage(err) });
        continue;
      }
      const byKey = new Map(pods.map((p) => [key(p.metadata?.namespace ?? "", p.metadata?.name ?? ""), p]));
      const now = clock.now();
      for (const [k, w] of [...this.waiting]) {
        const observed = byKey.get(k);
        w.t.lastSeen = observed;
        const d = waitDecision(w.t.ref.uid, observed, now, this.opts.skipWaitForDeleteTimeoutSeconds ?? 0);
        if (d === "wait") continue;
        this.waiting.delete(k);
        w.resolve(d);
      }
    }
  }
}

function heldOf(t: Tracked, nowMs: number): HeldPod {
  const reason = t.state === "terminating" ? terminatingReason(t.lastSeen, nowMs) : t.reason;
  const held: HeldPod = { namespace: t.namespace, name: t.name, state: t.state, reason, pdbs: t.pdbs, attempts: t.attempts };
  if (t.errorCode) held.errorCode = t.errorCode;
  return held;
}
