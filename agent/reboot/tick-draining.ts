/**
 * draining: the node holds a slot. Confirm the slot, mark and cordon the node, evict its pods;
 * then reboot (drained, or forceReboot) or give up (aborting). The drain stops at once when the
 * slot is lost, when the maintenance window closes, or on SIGTERM (which keeps the slot).
 */
import { afterRebootAnnotations, drainNode, holdMarkPatch, markBeforeReboot, summarize } from "../drain";
import { SluiceError, errorMessage } from "../ports";
import { windowFit } from "../window";
import { renderMessage, SLUICE_MESSAGES } from "../notify/template";
import type { Tick, TickContext } from "./context";
import { drainReport } from "./drain-report";
import type { DrainingState } from "./state";

class WindowClosing extends SluiceError {
  constructor() {
    super("window-closing", "the maintenance window closed before the drain finished");
  }
}

export async function tickDraining(s: DrainingState, ctx: TickContext): Promise<Tick> {
  const { deps, lock, settings, node } = ctx;
  const abort = (why: string): Tick => ({ to: { phase: "aborting", since: deps.clock.now(), slot: s.slot, wasUnschedulable: s.wasUnschedulable, needSince: s.needSince, ...(s.newVersion ? { newVersion: s.newVersion } : {}), why }, why });
  const hold = lock.holdSignal();
  if (hold.aborted) {
    deps.metrics?.lockLost?.();
    return abort(`lost reboot slot ${s.slot}: ${errorMessage(hold.reason)}`);
  }
  if (!ctx.need().needed) return abort("the reboot is no longer needed");
  const fit = windowFit(ctx.windows, deps.clock.now(), 0);
  if (!fit.fits) return abort("the maintenance window closed before the drain finished");

  // No drain step without a confirmed slot: this write is the confirmation (and records the cordon state).
  try {
    await lock.setPhase("draining", { wasUnschedulable: s.wasUnschedulable }, AbortSignal.any([ctx.stop, hold]));
  } catch (err) {
    if (ctx.stop.aborted) return { to: s };
    if ((err as SluiceError).code === "lock-lost" || (err as SluiceError).code === "lock-not-held") return abort(`lost reboot slot ${s.slot}: ${errorMessage(err)}`);
    throw err;
  }

  const nk = ctx.nodeKube;
  const deps2 = { kube: nk, clock: deps.clock, log: deps.log, events: deps.events };
  const current = ctx.nodeWatch.current();
  const marks = holdMarkPatch(current?.metadata, { scaleDownProtection: settings.scaleDownProtection, excludeFromLoadBalancers: settings.excludeFromLoadBalancers });
  if (marks) await nk.patchNode(node, marks);
  await markBeforeReboot(deps2, node, { preRebootNodeLabels: settings.preRebootNodeLabels, annotateNodes: settings.annotateNodes, kuredAnnotations: settings.kuredAnnotations });
  if (!s.wasUnschedulable && current?.spec?.unschedulable !== true) {
    await nk.patchNode(node, { unschedulable: true });
    deps.log.info("cordoned", { node });
    await deps.events.record({ node, type: "Normal", reason: "Cordoned", message: `sluice cordoned ${node}` });
  }

  // The drain must end with the window: a stretch that closes stops it, and the node gives way.
  const closing = new AbortController();
  const timer = new AbortController();
  if (fit.closesAt !== null && Number.isFinite(fit.closesAt)) {
    deps.clock.sleep(Math.max(0, fit.closesAt - deps.clock.now()), timer.signal).then(() => closing.abort(new WindowClosing()), () => {});
  }
  const stop = AbortSignal.any([ctx.stop, hold, closing.signal]);
  let result;
  try {
    result = await drainNode(
      {
        node,
        gracePeriodSeconds: settings.drainGracePeriod,
        timeoutMs: settings.drainTimeout,
        delayMs: settings.drainDelay,
        podSelector: settings.drainPodSelector,
        skipWaitForDeleteTimeoutSeconds: settings.skipWaitForDeleteTimeout,
      },
      deps2,
      stop,
    );
  } catch (err) {
    if (!stop.aborted) throw err;
  } finally {
    timer.abort();
  }
  if (ctx.stop.aborted) return { to: s };
  if (hold.aborted) {
    deps.metrics?.lockLost?.();
    ctx.notify(renderMessage(SLUICE_MESSAGES.lockLost, node));
    return abort(`lost reboot slot ${s.slot} while draining: ${errorMessage(hold.reason)}`);
  }
  if (closing.signal.aborted) return abort("the maintenance window closed before the drain finished");
  if (!result) return { to: s };

  await ctx.saveDrain(drainReport(result, deps.clock.now()));
  deps.metrics?.drainDuration?.(result.durationMs / 1000);
  const forced = result.outcome !== "drained";
  if (forced && !settings.forceReboot) {
    // The in-progress annotation goes with the abort; the cordon is undone by aborting.
    if (settings.annotateNodes) await nk.patchNode(node, { annotations: afterRebootAnnotations(settings.kuredAnnotations) }).catch(() => {});
    return abort(summarize(result));
  }
  if (settings.rebootDelay > 0) {
    deps.log.info("waiting rebootDelay before rebooting", { delayMs: settings.rebootDelay });
    await deps.clock.sleep(settings.rebootDelay, AbortSignal.any([ctx.stop, hold])).catch(() => {});
    if (ctx.stop.aborted) return { to: s };
    if (hold.aborted) return abort(`lost reboot slot ${s.slot} before rebooting`);
  }

  // No reboot without a confirmed slot: record the boot id in the Lease, which confirms it.
  const bootIdBefore = await deps.host.bootId();
  try {
    await lock.setPhase("rebooting", { bootId: bootIdBefore }, AbortSignal.any([ctx.stop, hold]));
  } catch (err) {
    if (ctx.stop.aborted) return { to: s };
    return abort(`could not confirm reboot slot ${s.slot} before rebooting: ${errorMessage(err)}`);
  }
  const why = forced ? `${summarize(result)} Rebooting anyway (forceReboot)` : `${summarize(result)}; rebooting`;
  return {
    to: { phase: "rebooting", since: deps.clock.now(), slot: s.slot, wasUnschedulable: s.wasUnschedulable, needSince: s.needSince, ...(s.newVersion ? { newVersion: s.newVersion } : {}), bootIdBefore, attempts: 1, requestedAt: deps.clock.now() },
    edge: forced ? "forced" : "drained",
    why,
  };
}
