/**
 * rebooting: the reboot command, given again if this process did not give it (the same boot id
 * after a restart proves the host never went down), one retry after rebootTimeout, then a report
 * while holding the slot: a person decides.
 */
import { errorMessage } from "../ports";
import type { Tick, TickContext } from "./context";
import { rebootOverdue } from "./decide";
import type { RebootingState } from "./state";

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
