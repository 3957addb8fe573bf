/**
 * rebooting, recovering, releasing, aborting: from the reboot command to handing the slot on.
 * Every step here is idempotent, because a crash or a reboot can interrupt any of them and the
 * next process repeats it.
 */
import { afterRebootAnnotations, markAfterReboot, needMarkPatch, unholdMarkPatch } from "../drain";
import { errorMessage } from "../ports";
import { renderMessage, SLUICE_MESSAGES } from "../notify/template";
import type { Tick, TickContext } from "./context";
import { rebootOverdue } from "./decide";
import type { AbortingState, RebootingState, RecoveringState, ReleasingState } from "./state";

/** How long the Node may stay not Ready after the boot before a person is told (once). */
const NOT_READY_REPORT_MS = 10 * 60_000;

export async function tickRebooting(s: RebootingState, ctx: TickContext): Promise<Tick> {
  const { deps, lock, settings } = ctx;
  const now = deps.clock.now();
  const bootId = await deps.host.bootId();
  if (bootId !== s.bootIdBefore) {
    return { to: { phase: "recovering", since: now, slot: s.slot, wasUnschedulable: s.wasUnschedulable, needSince: s.needSince, ...(s.newVersion ? { newVersion: s.newVersion } : {}), bootIdBefore: s.bootIdBefore }, why: `the host rebooted (boot id ${bootId})` };
  }
  const issued = ctx.mem.rebootIssued;
  if (issued?.attempt !== s.attempts) {
    // Not given by this process (a restart with the same boot id means the host never went
    // down, so giving it again cannot be a second reboot), or a new attempt.
    if (!lock.confirmedWithin()) {
      try {
        await lock.renew(ctx.stop);
      } catch (err) {
        if (ctx.stop.aborted) return { to: s };
        return { to: { phase: "aborting", since: now, slot: s.slot, wasUnschedulable: s.wasUnschedulable, needSince: s.needSince, ...(s.newVersion ? { newVersion: s.newVersion } : {}), why: `could not confirm reboot slot ${s.slot}: ${errorMessage(err)}` }, why: `not rebooting: could not confirm reboot slot ${s.slot}` };
      }
    }
    deps.log.notice("rebooting the host", { command: settings.rebootCommand.join(" "), attempt: s.attempts });
    ctx.mem.rebootIssued = { attempt: s.attempts, failed: false };
    try {
      await deps.host.reboot();
    } catch (err) {
      ctx.mem.rebootIssued.failed = true;
      deps.log.warning("the reboot command failed", { error: errorMessage(err), attempt: s.attempts });
    }
  }
  if (!rebootOverdue(s.requestedAt, settings.rebootTimeout, now)) {
    return { to: s, waiting: `rebooting (attempt ${s.attempts}); the host should go down`, wakeAt: s.requestedAt + settings.rebootTimeout };
  }
  if (s.attempts < 2) {
    return { to: { ...s, since: now, attempts: s.attempts + 1, requestedAt: now }, edge: "retry-reboot", why: `the host was still up ${Math.round(settings.rebootTimeout / 1000)} s after the reboot command; trying once more` };
  }
  const why = `the host did not reboot after ${s.attempts} attempts of ${settings.rebootCommand.join(" ")}; keeping reboot slot ${s.slot} until a person looks`;
  ctx.tell("reboot-stuck", String(s.requestedAt), { level: "warning", message: why, event: { reason: "RebootNotHappening", type: "Warning" } });
  if (ctx.mem.told.get("reboot-stuck-notified") !== String(s.requestedAt)) {
    ctx.mem.told.set("reboot-stuck-notified", String(s.requestedAt));
    ctx.notify(`Node ${ctx.node} did not reboot; it keeps its reboot slot until someone looks`);
  }
  return { to: s, waiting: why };
}

export async function tickRecovering(s: RecoveringState, ctx: TickContext): Promise<Tick> {
  const { deps, settings, node } = ctx;
  const now = deps.clock.now();
  const n = ctx.nodeWatch.current();
  const ready = n?.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
  // The kubelet reports the boot id: a Ready from before the reboot does not count.
  const reported = n?.status?.nodeInfo?.bootID;
  const bootId = await deps.host.bootId();
  if (!ready || (reported && reported !== bootId)) {
    if (now - s.since > NOT_READY_REPORT_MS) {
      if (!ctx.mem.told.has("not-ready")) ctx.notify(renderMessage(SLUICE_MESSAGES.notBack, node));
      ctx.tell("not-ready", String(s.since), { level: "warning", message: `${node} has not become Ready since its reboot; keeping reboot slot ${s.slot}`, event: { reason: "NodeNotReadyAfterReboot", type: "Warning" } });
    }
    return { to: s, waiting: "waiting for the Node to be Ready after the boot", wakeAt: s.since + NOT_READY_REPORT_MS + 1 };
  }
  await ctx.lock.setPhase("recovering", {}, ctx.stop).catch((err: unknown) => deps.log.info("could not mark the slot recovering", { error: errorMessage(err) }));
  if (s.newVersion) {
    const version = (await deps.host.osRelease().catch(() => undefined))?.version;
    if (version !== undefined && version !== s.newVersion) {
      deps.metrics?.rollback?.();
      const message = `update not applied: running ${version}, update_engine had staged ${s.newVersion} (rolled back?)`;
      deps.log.warning(message, { node });
      await deps.events.record({ node, type: "Warning", reason: "UpdateRolledBack", message });
      ctx.notify(renderMessage(SLUICE_MESSAGES.rollback, node));
    }
  }
  const nk = ctx.nodeKube;
  await markAfterReboot({ kube: nk, clock: deps.clock, log: deps.log, events: deps.events }, node, { postRebootNodeLabels: settings.postRebootNodeLabels, annotateNodes: settings.annotateNodes, kuredAnnotations: settings.kuredAnnotations }, s.wasUnschedulable);
  const unmark = unholdMarkPatch(n?.metadata);
  if (unmark) await nk.patchNode(node, unmark);
  if (!ctx.need().needed) {
    const needMark = needMarkPatch(n?.metadata, false);
    if (needMark) await nk.patchNode(node, needMark);
  }
  deps.metrics?.rebooted?.();
  return { to: { phase: "releasing", since: now, slot: s.slot, needSince: s.needSince, rebootedAt: now }, why: s.wasUnschedulable ? "back, Ready and verified; left cordoned as it was before" : "back, Ready, verified and uncordoned" };
}

export async function tickReleasing(s: ReleasingState, ctx: TickContext): Promise<Tick> {
  const { deps, settings } = ctx;
  // `since` is persisted: a restart waits only what is left of lockReleaseDelay.
  const due = s.since + settings.lockReleaseDelay;
  if (deps.clock.now() < due) return { to: s, waiting: `holding reboot slot ${s.slot} for lockReleaseDelay`, wakeAt: due };
  await ctx.lock.release();
  return { to: { phase: "idle", since: deps.clock.now(), lastRebootAt: s.rebootedAt }, why: `released reboot slot ${s.slot}` };
}

export async function tickAborting(s: AbortingState, ctx: TickContext): Promise<Tick> {
  const { deps, settings, node } = ctx;
  const nk = ctx.nodeKube;
  const n = ctx.nodeWatch.current() ?? (await nk.getNode(node));
  if (!s.wasUnschedulable && n.spec?.unschedulable === true) {
    await nk.patchNode(node, { unschedulable: false });
    deps.log.info("uncordoned", { node });
    await deps.events.record({ node, type: "Normal", reason: "Uncordoned", message: `sluice uncordoned ${node}` });
  }
  const unmark = unholdMarkPatch(n.metadata);
  if (unmark) await nk.patchNode(node, unmark);
  if (settings.annotateNodes) await nk.patchNode(node, { annotations: afterRebootAnnotations(settings.kuredAnnotations) });
  await ctx.lock.release();
  const now = deps.clock.now();
  if (ctx.need().needed) return { to: { phase: "pending", since: now, needSince: s.needSince, reason: "still needed after an aborted attempt", ...(s.newVersion ? { newVersion: s.newVersion } : {}) }, why: `gave back reboot slot ${s.slot}; queueing again (${s.why})` };
  return { to: { phase: "idle", since: now }, why: `gave back reboot slot ${s.slot}; no longer needed` };
}
