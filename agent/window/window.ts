/**
 * Maintenance windows, with two rules side by side (docs/usage/configuration.md):
 * - sluice's own (`windows` key): a window opens on each of its days at `startSec` (seconds after
 *   local midnight in its zone) and closes at `endSec` on the wall clock, exclusive (the next day
 *   when endSec < startSec, so 22:00-04:00 works), or after `lengthSec` of elapsed time. The day
 *   named is the day the window opens.
 * - kured's (startTime/endTime/rebootDays, `kured: true`): kured's timewindow.Contains. The end is
 *   inclusive to the second (23:59:59 leaves no gap before midnight) and the weekday checked is the
 *   instant's own, so a window crossing midnight is, on each listed day, 00:00 up to the end and
 *   the start up to midnight.
 * Pure: every function takes the instant to judge as an argument.
 */
import { type Calendar, calendarOf, type Day } from "./calendar";

export interface WindowSpec {
  /** 0 = Sunday … 6 = Saturday: the day the window opens. */
  days: number[];
  startSec: number;
  endSec?: number;
  lengthSec?: number;
  /** IANA zone, or "local" for the host's zone. */
  timeZone: string;
  /** kured's rule (see above) instead of sluice's. */
  kured?: boolean;
}

export interface Opening {
  start: number;
  end: number;
}

const DAY = 86_400;

/** The openings of `spec` that start on the local calendar `day`, if it is one of its days. */
function openingsOn(spec: WindowSpec, cal: Calendar, day: Day): Opening[] {
  if (!spec.days.includes(day.weekday)) return [];
  const start = cal.timeOn(day, spec.startSec);
  if (spec.kured) {
    // kured: the end second itself is inside; the instant's own day must be listed.
    const endSec = spec.endSec ?? DAY - 1;
    const end = cal.timeOn(day, endSec + 1);
    if (spec.startSec <= endSec) return [{ start, end }];
    return [{ start: day.midnight, end }, { start, end: cal.timeOn(day, DAY) }];
  }
  if (spec.lengthSec !== undefined) return [{ start, end: start + spec.lengthSec * 1000 }];
  const endSec = spec.endSec ?? DAY;
  const end = endSec > spec.startSec ? cal.timeOn(day, endSec) : cal.timeOn(cal.addDays(day, 1), endSec);
  return [{ start, end }];
}

/** The opening that contains `at` (start inclusive, end exclusive), if any. */
export function openingAt(spec: WindowSpec, at: number): Opening | null {
  const cal = calendarOf(spec.timeZone);
  const today = cal.dayOf(at);
  // A window that opened yesterday (or earlier, for long lengths) may still be open.
  for (let back = 0; back <= 7; back++) {
    for (const o of openingsOn(spec, cal, cal.addDays(today, -back))) if (o.start <= at && at < o.end) return o;
  }
  return null;
}

/** Whether any of `specs` is open at `at`. No windows at all means always open. */
export function windowContains(specs: readonly WindowSpec[], at: number): boolean {
  if (specs.length === 0) return true;
  return specs.some((s) => openingAt(s, at) !== null);
}

/** The next opening strictly after `at` across all windows, or null when none has any day. */
export function nextWindowOpening(specs: readonly WindowSpec[], at: number): Opening | null {
  let best: Opening | null = null;
  for (const spec of specs) {
    const cal = calendarOf(spec.timeZone);
    const today = cal.dayOf(at);
    for (let ahead = 0; ahead <= 8; ahead++) {
      for (const o of openingsOn(spec, cal, cal.addDays(today, ahead))) if (o.start > at && (!best || o.start < best.start)) best = o;
    }
  }
  return best;
}

/**
 * When the open state next changes after `at`: the end of the current opening (taking adjoining
 * or overlapping openings together) or the next opening. The event loop sets its timer by this.
 */
export function nextWindowBoundary(specs: readonly WindowSpec[], at: number): number | null {
  if (specs.length === 0) return null;
  let t = at;
  for (let guard = 0; guard < 32; guard++) {
    const ends = specs.map((s) => openingAt(s, t)?.end).filter((e): e is number => e !== undefined);
    if (ends.length === 0) break;
    t = Math.max(...ends);
  }
  if (t > at) return t;
  return nextWindowOpening(specs, at)?.start ?? null;
}

const DAY_SHORT = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

function hhmm(sec: number): string {
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}${s ? `:${String(s).padStart(2, "0")}` : ""}`;
}

/** "Mon,Tue,Wed,Thu 08:00-15:00 UTC" */
export function describeWindow(spec: WindowSpec): string {
  const days = spec.days.length === 7 ? "every day" : spec.days.map((d) => DAY_SHORT[d]).join(",");
  // kured's keys read as written (their end second is inside: docs/usage/configuration.md).
  if (spec.kured) return `${days} ${hhmm(spec.startSec)}-${hhmm(spec.endSec ?? DAY - 1)} ${spec.timeZone}`;
  const end = spec.lengthSec !== undefined ? `+${Math.round(spec.lengthSec / 60)}m` : `-${hhmm(spec.endSec ?? DAY)}`;
  return `${days} ${hhmm(spec.startSec)}${end} ${spec.timeZone}`;
}
