/**
 * recovering: after the boot, wait for the Node to be Ready with this boot's id, verify the
 * update took, uncordon only what sluice cordoned, post labels, clear marks. Idempotent: a crash
 * anywhere repeats it.
 */
import { markAfterReboot, needMarkPatch, unholdMarkPatch } from "../drain";
import { errorMessage } from "../ports";
import { renderMessage, SLUICE_MESSAGES } from "../notify/template";
import type { Tick, TickContext } from "./context";
import type { RecoveringState } from "./state";

/** How long the Node may stay not Ready after the boot before a person is told (once). */
const NOT_READY_REPORT_MS = 10 * 60_000;

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
    // Once the report is due it is told; after that only a Node change or the period wakes the
    // loop (a wakeAt in the past would make it tick every millisecond).
    const reportAt = s.since + NOT_READY_REPORT_MS + 1;
    return { to: s, waiting: "waiting for the Node to be Ready after the boot", ...(reportAt > now ? { wakeAt: reportAt } : {}) };
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
