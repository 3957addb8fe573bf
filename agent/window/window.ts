/**
 * Maintenance windows. A window opens on each of its days at `startSec` (seconds after local
 * midnight in its zone) and closes at `endSec` on the wall clock (the next day when endSec <=
 * startSec, so 22:00-04:00 works) or after `lengthSec` of elapsed time. Pure: every function
 * takes the instant to judge as an argument.
 */
import { DateTime } from "luxon";

export interface WindowSpec {
  /** 0 = Sunday … 6 = Saturday: the day the window opens. */
  days: number[];
  startSec: number;
  endSec?: number;
  lengthSec?: number;
  /** IANA zone, or "local" for the host's zone. */
  timeZone: string;
}

export interface Opening {
  start: number;
  end: number;
}

const DAY = 86_400;

function zoneOf(spec: WindowSpec): string {
  return spec.timeZone === "local" ? "system" : spec.timeZone;
}

/** The opening of `spec` that starts on the local calendar day of `day`, if it is one of its days. */
function openingOn(spec: WindowSpec, day: DateTime): Opening | null {
  // luxon weekday: 1 = Monday … 7 = Sunday.
  if (!spec.days.includes(day.weekday % 7)) return null;
  const midnight = day.startOf("day");
  const at = (sec: number, plusDays = 0) =>
    midnight.plus({ days: plusDays }).set({ hour: Math.floor(sec / 3600) % 24, minute: Math.floor(sec / 60) % 60, second: sec % 60 }).plus({ days: sec >= DAY ? 1 : 0 });
  const start = at(spec.startSec);
  let end: DateTime;
  if (spec.lengthSec !== undefined) end = start.plus({ seconds: spec.lengthSec });
  else {
    const endSec = spec.endSec ?? DAY;
    end = endSec > spec.startSec ? at(endSec) : at(endSec, 1);
  }
  return { start: start.toMillis(), end: end.toMillis() };
}

/** The opening that contains `at` (start inclusive, end exclusive), if any. */
export function openingAt(spec: WindowSpec, at: number): Opening | null {
  const local = DateTime.fromMillis(at, { zone: zoneOf(spec) });
  // A window that opened yesterday (or earlier, for long lengths) may still be open.
  for (let back = 0; back <= 7; back++) {
    const o = openingOn(spec, local.minus({ days: back }));
    if (o && o.start <= at && at < o.end) return o;
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
    const local = DateTime.fromMillis(at, { zone: zoneOf(spec) });
    for (let ahead = 0; ahead <= 8; ahead++) {
      const o = openingOn(spec, local.plus({ days: ahead }));
      if (o && o.start > at && (!best || o.start < best.start)) best = o;
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
  const end = spec.lengthSec !== undefined ? `+${Math.round(spec.lengthSec / 60)}m` : `-${hhmm(spec.endSec ?? DAY)}`;
  return `${days} ${hhmm(spec.startSec)}${end} ${spec.timeZone}`;
}
