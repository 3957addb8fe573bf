/**
 * The pure decisions of the machine that are not the lock's or the drain's: whether a pending
 * node may queue for a slot now, and how long a phase waits. Table-tested.
 */
import type { Inhibitor } from "../gates";
import type { WindowFit } from "../window";

export interface AdmissionFacts {
  now: number;
  fit: WindowFit;
  cooldownMs: number;
  lastRebootAt?: number;
  inhibitors: readonly Inhibitor[];
}

export type Admission =
  | { go: true }
  /** `wakeAt`: when the answer may change by time alone (a window opening, the cooldown ending); undefined: only an event can change it. */
  | { go: false; kind: "inhibited" | "window" | "cooldown"; why: string; wakeAt?: number };

const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** Inhibitors first (a person said no), then the window, then the cooldown. */
export function admission(f: AdmissionFacts): Admission {
  if (f.inhibitors.length > 0) {
    const list = f.inhibitors.map((i) => `${i.source === "annotation" ? "annotation sluice.dev/inhibit" : i.source.slice("file:".length)} (${i.reason})`).join(", ");
    return { go: false, kind: "inhibited", why: `inhibited by ${list}` };
  }
  if (!f.fit.fits) {
    const when = f.fit.opensAt === null ? "no maintenance window ever opens" : `the next opens at ${at(f.fit.opensAt)}`;
    const why = f.fit.why === "closed" ? `waiting for the maintenance window: ${when}` : `the maintenance window closes too soon to finish (windowMargin); ${when}`;
    return { go: false, kind: "window", why, ...(f.fit.opensAt !== null ? { wakeAt: f.fit.opensAt } : {}) };
  }
  if (f.cooldownMs > 0 && f.lastRebootAt !== undefined && f.now < f.lastRebootAt + f.cooldownMs) {
    const until = f.lastRebootAt + f.cooldownMs;
    return { go: false, kind: "cooldown", why: `in rebootCooldown until ${at(until)}`, wakeAt: until };
  }
  return { go: true };
}

/** When the reboot command is judged not to have worked: rebootTimeout after it was given. */
export function rebootOverdue(requestedAt: number, rebootTimeoutMs: number, now: number): boolean {
  return now >= requestedAt + rebootTimeoutMs;
}
