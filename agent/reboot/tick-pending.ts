/**
 * idle and pending: noticing the need, marking the backlog on the Node, and deciding whether this
 * node may queue for a slot now (window fit, cooldown, inhibitors, blockers), then waiting in the
 * lock's fair queue. The wait runs across ticks; anything that makes the node ineligible leaves
 * the queue (its needSince keeps its place for when it comes back).
 */
import { needMarkPatch, setPendingTaint, withPreferNoSchedule } from "../drain";
import { annotationInhibitor, checkBlockers, fileInhibitors, type Inhibitor, inhibitorsKey } from "../gates";
import { queueStanding } from "../lock";
import { errorMessage } from "../ports";
import { type RebootNeed } from "../signals";
import { describeWindow, windowFit } from "../window";
import type { Tick, TickContext } from "./context";
import { admission } from "./decide";
import type { IdleState, PendingState } from "./state";

function needReason(need: RebootNeed): string {
  const says = need.reasons.filter((r) => r.needed).map((r) => `${r.source}: ${r.detail}`);
  return says.join("; ") || "a reboot-need source says so";
}

/**
 * Keeps the backlog mark (and kured's PreferNoSchedule taint, when configured) on the Node equal
 * to the need; best effort, written only when it differs from the watched Node.
 */
async function markNeed(ctx: TickContext, needed: boolean, since?: number): Promise<void> {
  const n = ctx.nodeWatch.current();
  if (!n) return;
  try {
    const patch = needMarkPatch(n.metadata, needed, since);
    if (patch) await ctx.nodeKube.patchNode(ctx.node, patch);
    const key = ctx.settings.preferNoScheduleTaint;
    if (key && withPreferNoSchedule(n.spec?.taints, key, needed)) {
      // NodeRestriction forbids a node to change its own taints: this goes with the ServiceAccount.
      await setPendingTaint({ kube: ctx.deps.kube, clock: ctx.deps.clock, log: ctx.deps.log, events: ctx.deps.events }, ctx.node, key, needed);
    }
    ctx.untell("need-mark");
  } catch (err) {
    ctx.tell("need-mark", errorMessage(err), { level: "warning", message: "cannot mark the reboot need on the Node", fields: { error: errorMessage(err) } });
  }
}

export async function tickIdle(s: IdleState, ctx: TickContext): Promise<Tick> {
  const need = ctx.need();
  if (need.needed) {
    const since = need.since ?? ctx.deps.clock.now();
    return { to: { phase: "pending", since: ctx.deps.clock.now(), needSince: since, reason: needReason(need), ...(need.newVersion ? { newVersion: need.newVersion } : {}), ...(s.lastRebootAt !== undefined ? { lastRebootAt: s.lastRebootAt } : {}) }, why: `reboot required: ${needReason(need)}` };
  }
  await markNeed(ctx, false);
  return { to: s, waiting: "no reboot needed" };
}

export async function tickPending(s: PendingState, ctx: TickContext): Promise<Tick> {
  const { deps, lock, settings } = ctx;
  const now = deps.clock.now();
  const need = ctx.need();
  if (!need.needed) {
    await leaveQueue(ctx);
    return { to: { phase: "idle", since: now, ...(s.lastRebootAt !== undefined ? { lastRebootAt: s.lastRebootAt } : {}) }, why: "the reboot is no longer needed" };
  }
  await markNeed(ctx, true, s.needSince);

  const inhibitors: Inhibitor[] = [];
  const fromNode = annotationInhibitor(ctx.nodeWatch.current()?.metadata?.annotations);
  if (fromNode) inhibitors.push(fromNode);
  inhibitors.push(...(await fileInhibitors(deps.fs, settings.inhibitPaths)));
  reportInhibitors(ctx, inhibitors);

  const fit = windowFit(ctx.windows, now, settings.windowMargin);
  const gate = admission({ now, fit, cooldownMs: settings.rebootCooldown, lastRebootAt: s.lastRebootAt, inhibitors });
  deps.metrics?.blocked?.({ inhibited: inhibitors.length > 0, window: !fit.fits, cooldown: !gate.go && gate.kind === "cooldown", paused: lock.view().paused !== undefined, ...(ctx.mem.blockers ? blockedGates(ctx.mem.blockers) : {}) });
  if (!gate.go) {
    await leaveQueue(ctx);
    const windows = ctx.windows.map(describeWindow).join("; ");
    ctx.tell("gate", gate.kind, { level: "info", message: gate.why, fields: gate.kind === "window" ? { windows } : {} });
    return { to: s, waiting: gate.why, ...(gate.wakeAt !== undefined ? { wakeAt: gate.wakeAt } : {}) };
  }
  ctx.untell("gate");

  const blockers = await blockersNow(ctx, false);
  if (blockers.blocked) {
    await leaveQueue(ctx);
    return { to: s, waiting: `blocked: ${blockers.reasons.join("; ")}`, wakeAt: blockers.at + settings.period };
  }

  const acq = (ctx.mem.acquiring ??= startAcquire(ctx, s));
  if (acq.result) {
    ctx.mem.acquiring = undefined;
    // The wait may have been long: the blockers get one fresh look before anything is touched.
    const last = await blockersNow(ctx, true);
    if (last.blocked) {
      await lock.release().catch((err: unknown) => deps.log.warning("cannot give back the slot", { error: errorMessage(err) }));
      return { to: s, waiting: `blocked: ${last.reasons.join("; ")}`, wakeAt: last.at + settings.period };
    }
    const wasUnschedulable = ctx.nodeWatch.current()?.spec?.unschedulable === true;
    const slot = acq.result.name;
    return {
      to: { phase: "draining", since: deps.clock.now(), slot, wasUnschedulable, needSince: s.needSince, ...(s.newVersion ? { newVersion: s.newVersion } : {}) },
      why: `took reboot slot ${slot}; draining`,
    };
  }
  if (acq.error !== undefined) {
    ctx.mem.acquiring = undefined;
    deps.log.warning("could not queue for a reboot slot; trying again", { error: errorMessage(acq.error) });
    return { to: s, waiting: `could not queue for a slot: ${errorMessage(acq.error)}`, wakeAt: now + Math.min(settings.period, 10_000) };
  }
  // The status line says what does not move with every Lease event: the place in the queue is
  // the metric's (the agent sets it on each event) and `sluice status` computes it from the
  // Leases it reads, so a long queue does not rewrite status.json on every host at every take.
  const view = lock.view();
  deps.metrics?.queuePosition?.(queuePosition(lock, ctx.node));
  const paused = view.paused ? `; group ${settings.group} is paused by ${view.paused.by || "an operator"}` : "";
  return { to: s, waiting: `${QUEUED}${paused}` };
}

/** This node's place among the live waiters (0: next), null when it is not queued: the metric's value. */
export function queuePosition(lock: Pick<TickContext["lock"], "view">, node: string): number | null {
  const view = lock.view();
  const { position } = queueStanding(node, view, view.holders, new Set(), 0);
  return position >= 0 ? position : null;
}

/** The status line of a queued node; `sluice status` adds the position it reads from the Leases. */
export const QUEUED = "queued for a reboot slot";

function startAcquire(ctx: TickContext, s: PendingState): NonNullable<TickContext["mem"]["acquiring"]> {
  const abort = new AbortController();
  const entry: NonNullable<TickContext["mem"]["acquiring"]> = { abort };
  const stop = AbortSignal.any([abort.signal, ctx.stop]);
  void (async () => {
    try {
      const bootId = await ctx.deps.host.bootId();
      entry.result = await ctx.lock.acquire({ needSince: s.needSince, bootId }, stop);
    } catch (err) {
      if (!stop.aborted) entry.error = err;
    }
    ctx.wake();
  })();
  return entry;
}

/** Leaves the queue (and gives back a slot taken for a pending node that may no longer go). */
export async function leaveQueue(ctx: TickContext): Promise<void> {
  const acq = ctx.mem.acquiring;
  ctx.mem.acquiring = undefined;
  acq?.abort.abort();
  ctx.deps.metrics?.queuePosition?.(null);
  if (ctx.lock.heldSlot()) await ctx.lock.release();
}

/** The blockers, evaluated at most once a period (they cost API and Prometheus requests), or fresh. */
async function blockersNow(ctx: TickContext, fresh: boolean): Promise<NonNullable<TickContext["mem"]["blockers"]>> {
  const { settings, deps } = ctx;
  const now = deps.clock.now();
  const cached = ctx.mem.blockers;
  if (!fresh && cached && now - cached.at < settings.period) return cached;
  if (!settings.blockingPodSelector.some((x) => x.trim()) && !settings.prometheusUrl) return (ctx.mem.blockers = { at: now, blocked: false, reasons: [], gates: {} });
  const r = await checkBlockers(
    { node: ctx.node, podSelectors: settings.blockingPodSelector, prometheusUrl: settings.prometheusUrl, alerts: { regexp: settings.alertFilterRegexp, matchOnly: settings.alertFilterMatchOnly, firingOnly: settings.alertFiringOnly } },
    { kube: ctx.nodeKube, fetch: deps.fetch, log: deps.log },
    ctx.stop,
  );
  const key = r.reasons.join("; ");
  if (r.blocked) ctx.tell("blockers", key, { level: "notice", message: `reboot blocked: ${key}`, event: { reason: "RebootBlocked", type: "Normal" } });
  else if (ctx.mem.told.has("blockers")) {
    ctx.untell("blockers");
    ctx.tell("blockers-cleared", "", { level: "notice", message: "reboot no longer blocked", event: { reason: "RebootUnblocked", type: "Normal" } });
    ctx.untell("blockers-cleared");
  }
  return (ctx.mem.blockers = { at: now, blocked: r.blocked, reasons: r.reasons, gates: Object.fromEntries(r.gates.map((g) => [g.gate, g.blocked])) });
}

function blockedGates(b: NonNullable<TickContext["mem"]["blockers"]>): Record<string, boolean> {
  return b.gates ?? {};
}

function reportInhibitors(ctx: TickContext, list: Inhibitor[]): void {
  ctx.deps.metrics?.inhibited?.(Object.fromEntries(list.map((i) => [i.source.startsWith("file:") ? "file" : i.source, true])));
  if (list.length > 0) {
    const text = list.map((i) => `${i.source === "annotation" ? "Node annotation sluice.dev/inhibit" : i.source.slice(5)}: ${i.reason}`).join("; ");
    ctx.tell("inhibitors", inhibitorsKey(list), { level: "notice", message: `reboot inhibited: ${text}`, event: { reason: "RebootInhibited", type: "Normal" } });
  } else if (ctx.mem.told.has("inhibitors")) {
    ctx.untell("inhibitors");
    ctx.tell("inhibitors-cleared", "", { level: "notice", message: "reboot no longer inhibited", event: { reason: "RebootNoLongerInhibited", type: "Normal" } });
    ctx.untell("inhibitors-cleared");
  }
}
