/**
 * Local days in a time zone: the little calendar arithmetic the windows need. UTC (kured's
 * default zone, and what most fleets configure) is plain arithmetic; any other zone goes through
 * luxon. The split is for memory: the first use of a zone through Intl wakes ICU's zone and locale
 * data, about 8 MiB resident for the life of the process (docs/development/footprint.md), which
 * an agent on UTC windows should not pay.
 */
import { DateTime } from "luxon";

export interface Day {
  /** Epoch ms of the local midnight that starts the day. */
  midnight: number;
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
}

export interface Calendar {
  /** The local day containing `at`. */
  dayOf(at: number): Day;
  /** The local day `n` days after `day` (negative: before). */
  addDays(day: Day, n: number): Day;
  /** The instant of local time `sec` seconds after midnight on `day` (the wall clock through DST); 86 400 is the next midnight. */
  timeOn(day: Day, sec: number): number;
}

const DAY_MS = 86_400_000;
const UTC_NAMES = new Set(["UTC", "Etc/UTC", "GMT", "Etc/GMT", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu"]);

export function isUtc(zone: string): boolean {
  return UTC_NAMES.has(zone);
}

const utc: Calendar = {
  dayOf: (at) => {
    const midnight = Math.floor(at / DAY_MS) * DAY_MS;
    return { midnight, weekday: new Date(midnight).getUTCDay() };
  },
  addDays: (day, n) => ({ midnight: day.midnight + n * DAY_MS, weekday: (((day.weekday + n) % 7) + 7) % 7 }),
  timeOn: (day, sec) => day.midnight + sec * 1000,
};

class ZoneCalendar implements Calendar {
  constructor(private readonly zone: string) {}

  private day(dt: DateTime): Day {
    const m = dt.startOf("day");
    // luxon weekday: 1 = Monday … 7 = Sunday.
    return { midnight: m.toMillis(), weekday: m.weekday % 7 };
  }

  dayOf(at: number): Day {
    return this.day(DateTime.fromMillis(at, { zone: this.zone }));
  }

  addDays(day: Day, n: number): Day {
    return this.day(DateTime.fromMillis(day.midnight, { zone: this.zone }).plus({ days: n }));
  }

  timeOn(day: Day, sec: number): number {
    if (sec >= 86_400) return this.addDays(day, 1).midnight;
    // set() keeps the wall-clock time through DST changes (a time in the spring gap moves forward).
    return DateTime.fromMillis(day.midnight, { zone: this.zone }).set({ hour: Math.floor(sec / 3600), minute: Math.floor(sec / 60) % 60, second: sec % 60 }).toMillis();
  }
}

const zones = new Map<string, Calendar>();

/** The calendar of an IANA zone, or "local" for the host's zone. */
export function calendarOf(zone: string): Calendar {
  if (isUtc(zone)) return utc;
  let c = zones.get(zone);
  if (!c) zones.set(zone, (c = new ZoneCalendar(zone === "local" ? "system" : zone)));
  return c;
}
