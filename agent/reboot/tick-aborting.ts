/**
 * aborting: give up this attempt — uncordon what sluice cordoned, remove its marks, give the slot
 * back — and queue again if the reboot is still needed.
 */
import { afterRebootAnnotations, unholdMarkPatch } from "../drain";
import type { Tick, TickContext } from "./context";
import type { AbortingState } from "./state";

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
