/** releasing: hold the slot for lockReleaseDelay (from the persisted `since`), then hand it on. */
import type { Tick, TickContext } from "./context";
import type { ReleasingState } from "./state";

export async function tickReleasing(s: ReleasingState, ctx: TickContext): Promise<Tick> {
  const { deps, settings } = ctx;
  // `since` is persisted: a restart waits only what is left of lockReleaseDelay.
  const due = s.since + settings.lockReleaseDelay;
  if (deps.clock.now() < due) return { to: s, waiting: `holding reboot slot ${s.slot} for lockReleaseDelay`, wakeAt: due };
  await ctx.lock.release();
  return { to: { phase: "idle", since: deps.clock.now(), lastRebootAt: s.rebootedAt }, why: `released reboot slot ${s.slot}` };
}
