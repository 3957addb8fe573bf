/**
 * The agent: one loop over the state machine, woken by one latch (reboot-need changes, the lock
 * (a slot taken, the group paused or resumed while queued), this Node's changes, timers for the
 * next window boundary or deadline, and a resync every `period`). Each tick runs the current phase's handler; a new state goes through `commit`,
 * which checks the edge, persists (or the transition did not happen) and then tells — log, Event,
 * metrics, notification — without letting any of those decide anything or stop the machine.
 */
import type { Settings } from "../config";
import type { DrainReport } from "./store";
import { RebootLock } from "../lock";
import { type EventType, SluiceError, errorMessage } from "../ports";
import type { WindowSpec } from "../window";
import type { AgentDeps, AgentMemory, Tick, TickContext } from "./context";
import { findEdge, type EdgeName } from "./edges";
import { Latch } from "./latch";
import { NodeWatch } from "./node-watch";
import { reconcile } from "./reconcile";
import { type AgentState, holdsSlot } from "./state";
import { StateStore, STATE_VERSION, type PersistedState } from "./store";
import { tickAborting } from "./tick-aborting";
import { tickRebooting } from "./tick-rebooting";
import { tickRecovering } from "./tick-recovering";
import { tickReleasing } from "./tick-releasing";
import { tickDraining } from "./tick-draining";
import { leaveQueue, queuePosition, tickIdle, tickPending } from "./tick-pending";
import { StatusWriter } from "./status-file";
import { renderMessage } from "../notify/template";
import { windowFit } from "../window";

export interface AgentOptions {
  settings: Settings;
  windows: WindowSpec[];
  /** This node's Kubernetes name. */
  node: string;
}

const HANDLERS: { [P in AgentState["phase"]]: (s: Extract<AgentState, { phase: P }>, ctx: TickContext) => Promise<Tick> } = {
  idle: tickIdle,
  pending: tickPending,
  draining: tickDraining,
  rebooting: tickRebooting,
  recovering: tickRecovering,
  releasing: tickReleasing,
  aborting: tickAborting,
};

const MIN_STAY_MS = 1000;

/** Backoff after a failed tick: the loop never dies of a transient error, and never spins. */
const failureDelay = (n: number) => Math.min(60_000, 1000 * 2 ** Math.min(n - 1, 6));

export class Agent {
  private state: AgentState = { phase: "idle", since: 0 };
  private lastDrain: DrainReport | undefined;
  private readonly store: StateStore;
  private readonly latch: Latch;
  readonly lock: RebootLock;
  readonly nodeWatch: NodeWatch;
  private readonly mem: AgentMemory = { told: new Map() };
  private readonly status: StatusWriter;
  /** The pause marker as the last tick saw it ("" when not paused). */
  private pauseSeen = "";

  constructor(
    private readonly deps: AgentDeps,
    private readonly o: AgentOptions,
  ) {
    const s = o.settings;
    this.store = new StateStore(deps.fs, s.stateDir);
    this.status = new StatusWriter(deps.fs, s.stateDir, deps.host, deps.log);
    this.latch = new Latch(deps.clock);
    this.lock = new RebootLock(
      { namespace: s.namespace, group: s.group, concurrency: s.concurrency, nodeName: o.node, lockTtlMs: s.lockTtl, renewDeadlineMs: s.renewDeadline, random: deps.random },
      { kube: deps.kube, clock: deps.clock, log: deps.log.child({ component: "lock" }), events: deps.events },
    );
    this.nodeWatch = new NodeWatch(deps.kube, o.node, deps.clock, deps.log, { random: deps.random });
  }

  /** Whether start-up (Node registered, lock started, state reconciled) is done. */
  started = false;

  /** The current state (for tests and the demo). */
  current(): AgentState {
    return this.state;
  }

  /**
   * Runs until `stop` aborts (SIGTERM): then the state is already persisted, a slot held mid-drain
   * or mid-reboot stays held, and the promise resolves.
   */
  async run(stop: AbortSignal): Promise<void> {
    const { deps, o } = this;
    const log = deps.log;
    const offs: (() => void)[] = [];
    this.nodeWatch.start(stop);
    try {
      offs.push(this.nodeWatch.onChange(() => this.latch.wake()));
      offs.push(deps.signals.onChange(() => this.latch.wake()));
      offs.push(this.lock.cache.onChange(() => this.onLeaseEvent()));
      await this.nodeWatch.exists(stop);
      await this.lock.start(stop);
      if (stop.aborted) return;
      await this.start();
      if (this.state.phase === "idle") await this.lock.suspend();
      this.started = true;
      await this.loop(stop);
    } catch (err) {
      // A stop during start-up (waiting for the Node, the first list) is a stop, not a failure.
      if (!stop.aborted) throw err;
    } finally {
      for (const off of offs) off();
      if (this.state.phase === "pending") await leaveQueue(this.context(stop)).catch(() => {});
      await this.lock.stop();
      await this.nodeWatch.stopped();
      log.notice("sluice stopped", { phase: this.state.phase, ...(holdsSlot(this.state) ? { keeps: this.state.slot } : {}) });
    }
  }

  /** Reconciles the stored state with the truth (DESIGN.md: the Lease and the boot id win). */
  private async start(): Promise<void> {
    const { deps, o } = this;
    let stored: PersistedState | undefined;
    try {
      stored = await this.store.load();
    } catch (err) {
      deps.log.warning("cannot use the stored state; starting from what the cluster and the host say", { error: errorMessage(err), code: (err as SluiceError).code });
    }
    if (stored && stored.node !== o.node) deps.log.warning("the stored state belongs to another node; ignoring it", { stored: stored.node, node: o.node });
    this.lastDrain = stored?.node === o.node ? stored.lastDrain : undefined;
    const held = this.lock.heldSlot();
    const need = deps.signals.current();
    const r = reconcile(stored, {
      node: o.node,
      bootId: await deps.host.bootId(),
      now: deps.clock.now(),
      held: held && { name: held.name, phase: held.phase, bootId: held.bootId, wasUnschedulable: held.wasUnschedulable, needSince: held.needSince },
      needed: need.needed,
      needSince: need.since,
    });
    this.state = r.state;
    if (r.note || !stored || stored.node !== o.node || stored.state !== r.state) {
      if (r.note) deps.log.notice(`resuming: ${r.note}`, { phase: r.state.phase });
      await this.persist(r.state);
    }
    deps.log.notice("sluice started", { node: o.node, phase: this.state.phase, group: o.settings.group, ...(holdsSlot(this.state) ? { slot: this.state.slot } : {}) });
    deps.metrics?.transition?.(this.state.phase, this.state.phase, deps.clock.now());
    deps.metrics?.lockHeld?.(holdsSlot(this.state));
  }

  private async loop(stop: AbortSignal): Promise<void> {
    const { deps } = this;
    const ctx = this.context(stop);
    let failures = 0;
    while (!stop.aborted) {
      this.latch.arm();
      this.pauseSeen = pauseKey(this.lock.view().paused);
      const from = this.state;
      let tick: Tick;
      try {
        tick = await (HANDLERS[from.phase] as (s: AgentState, c: TickContext) => Promise<Tick>)(from, ctx);
        failures = 0;
      } catch (err) {
        if (stop.aborted) break;
        failures += 1;
        const delay = failureDelay(failures);
        ctx.tell("tick-failed", `${from.phase}:${errorMessage(err)}`, { level: "warning", message: `${from.phase}: ${errorMessage(err)}; trying again`, fields: { code: (err as SluiceError).code, retryInMs: delay } });
        await this.latch.wait(delay, stop);
        continue;
      }
      if (tick.to !== from) {
        try {
          await this.commit(from, tick.to, tick.edge, tick.why);
        } catch (err) {
          failures += 1;
          deps.log.error("cannot persist the transition; it did not happen", { from: from.phase, to: tick.to.phase, error: errorMessage(err) });
          await this.latch.wait(failureDelay(failures), stop);
        }
        continue;
      }
      if (stop.aborted) break;
      this.gauges();
      await this.status.write(this.state, tick.waiting ?? "", deps.clock.now());
      const now = deps.clock.now();
      const until = Math.min(tick.wakeAt ?? Infinity, now + this.o.settings.period);
      // A handler that stays and asks to be woken in the past would otherwise make this a busy
      // loop: a stay waits at least a second (an event still wakes it at once).
      await this.latch.wait(Math.max(MIN_STAY_MS, until - now), stop);
    }
  }

  /** The one transition function: the edge must be legal; persisting must succeed; the rest is best effort. */
  async commit(from: AgentState, to: AgentState, name?: EdgeName, why?: string): Promise<void> {
    const { deps, o } = this;
    const edge = findEdge(from.phase, to.phase, name);
    if (!edge) throw new SluiceError("illegal-transition", `no transition ${from.phase} → ${to.phase}${name ? ` (${name})` : ""}`);
    await this.persist(to);
    this.state = to;
    // Only a waiting or holding node needs its group's Lease events (pending resumes in acquire).
    if (to.phase === "idle") void this.lock.suspend();
    else if (from.phase === "idle") void this.lock.resume();
    this.mem.rebootIssued = to.phase === "rebooting" && from.phase === "rebooting" ? undefined : this.mem.rebootIssued;
    const message = why ?? edge.label;
    const line = `${from.phase} → ${to.phase}: ${message}`;
    if (edge.event.type === "Warning") deps.log.warning(line, { edge: edge.name });
    else deps.log.notice(line, { edge: edge.name });
    const at = deps.clock.now();
    deps.metrics?.transition?.(from.phase, to.phase, at);
    deps.metrics?.lockHeld?.(holdsSlot(to));
    if (to.phase === "pending" || to.phase === "idle") deps.metrics?.rebootRequired?.(to.phase === "pending", to.phase === "pending" ? to.needSince : undefined);
    void deps.events.record({ node: o.node, type: edge.event.type, reason: edge.event.reason, message: capital(message) }).catch(() => {});
    const template = edge.notify && templateFor(o.settings, edge.notify);
    if (template) this.notify(renderMessage(template, o.node));
    else if (edge.notify === "abort" || edge.notify === "retry") this.notify(`Node ${o.node}: ${message}`);
    void deps.host.notifyStatus(`${to.phase}: ${message}`).catch(() => {});
  }

  /**
   * Lease events reach the loop only while pending, and only when they change what the status
   * line says (the group paused or resumed): the lock's own acquire loop takes the slot and wakes
   * the loop, and holding phases hear of a lost slot through the hold signal. Ticking on every
   * event would, in a 2000-node queue, run 2000 ticks on every host at every take.
   */
  private onLeaseEvent(): void {
    if (this.state.phase !== "pending") return;
    const view = this.lock.view();
    if (pauseKey(view.paused) !== this.pauseSeen) return this.latch.wake();
    // The queue position is a gauge: kept current here, O(log n), without a tick.
    const m = this.deps.metrics;
    if (m?.queuePosition && this.mem.acquiring) m.queuePosition(queuePosition(this.lock, this.o.node));
  }

  /** Gauges that follow the world rather than a transition: cheap, in memory, set once a tick. */
  private gauges(): void {
    const m = this.deps.metrics;
    if (!m) return;
    const need = this.deps.signals.current();
    const pending = this.state.phase !== "idle";
    m.rebootRequired?.(need.needed || pending, this.state.phase === "pending" || holdsSlot(this.state) ? (this.state as { needSince: number }).needSince : need.since);
    const now = this.deps.clock.now();
    const fit = windowFit(this.o.windows, now, 0);
    m.window?.(fit.fits, fit.fits ? null : fit.opensAt);
    if (this.state.phase !== "pending") {
      m.blocked?.({});
      m.queuePosition?.(null);
    }
  }

  private notify(message: string): void {
    void this.deps.notifier.send(message).catch((err: unknown) => this.deps.log.warning("notification failed", { error: errorMessage(err) }));
  }

  private async persist(state: AgentState): Promise<void> {
    await this.store.save({ version: STATE_VERSION, node: this.o.node, state, ...(this.lastDrain ? { lastDrain: this.lastDrain } : {}) });
  }

  private context(stop: AbortSignal): TickContext {
    const { deps, o } = this;
    const told = this.mem.told;
    return {
      deps,
      nodeKube: deps.nodeKube ?? deps.kube,
      settings: o.settings,
      windows: o.windows,
      node: o.node,
      lock: this.lock,
      nodeWatch: this.nodeWatch,
      need: () => deps.signals.current(),
      stop,
      mem: this.mem,
      wake: () => this.latch.wake(),
      tell: (key, value, say) => {
        if (told.get(key) === value) return;
        told.set(key, value);
        deps.log[say.level](say.message, say.fields ?? {});
        if (say.event) void deps.events.record({ node: o.node, type: say.event.type as EventType, reason: say.event.reason, message: capital(say.message) }).catch(() => {});
      },
      untell: (key) => void told.delete(key),
      saveDrain: async (report) => {
        this.lastDrain = report;
        await this.persist(this.state).catch((err: unknown) => deps.log.warning("cannot record the drain's outcome", { error: errorMessage(err) }));
      },
      notify: (message) => this.notify(message),
    };
  }
}

function pauseKey(paused: { by: string } | undefined): string {
  return paused ? `paused:${paused.by}` : "";
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function templateFor(s: Settings, kind: string): string | undefined {
  const t = kind === "drain" ? s.messageTemplateDrain : kind === "reboot" ? s.messageTemplateReboot : kind === "uncordon" ? s.messageTemplateUncordon : undefined;
  return t && t.trim() ? t : undefined;
}
