/**
 * Property-based tests (fast-check, seeded) of the maintenance windows: kured's keys mean exactly
 * what kured's timewindow.Contains computes, and sluice's openings and boundaries are consistent.
 */
import fc from "fast-check";
import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import { nextWindowBoundary, nextWindowOpening, windowContains, type WindowSpec } from "../../agent/window";

const SEED = { seed: 424242 };
const ZONES = ["UTC", "Europe/Berlin", "America/Los_Angeles", "Australia/Lord_Howe", "Asia/Kolkata"];
const DAY = 86_400;

/**
 * kured's Contains, written from its definition: the instant's own weekday must be listed; start
 * and end (end + 999 ms, the second inclusive) are on the instant's calendar day; when start is
 * after end, the window wraps: before the end, start moves a day back, else the end a day on.
 */
function kuredContains(spec: WindowSpec, at: number): boolean {
  const t = DateTime.fromMillis(at, { zone: spec.timeZone });
  if (!spec.days.includes(t.weekday % 7)) return false;
  const on = (sec: number) => t.set({ hour: Math.floor(sec / 3600), minute: Math.floor(sec / 60) % 60, second: sec % 60, millisecond: 0 }).toMillis();
  let start = on(spec.startSec);
  let end = on(spec.endSec!) + 999;
  if (spec.startSec > spec.endSec!) {
    if (at < end) start -= DAY * 1000;
    else end += DAY * 1000;
  }
  return at >= start && at <= end;
}

const kuredSpec = fc
  .record({
    days: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 7 }),
    startSec: fc.integer({ min: 0, max: DAY - 1 }),
    endSec: fc.integer({ min: 0, max: DAY - 1 }),
    timeZone: fc.constantFrom(...ZONES),
  })
  .filter((s) => s.startSec !== s.endSec)
  .map((s): WindowSpec => ({ ...s, kured: true }));

// Instants in 2026, away from DST changes by whole hours where kured's 24 h arithmetic and
// calendar days differ (documented: sluice follows the wall clock there).
const instant = fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2026, 11, 31) });

function nearDstChange(zone: string, at: number): boolean {
  const a = DateTime.fromMillis(at - 2 * DAY * 1000, { zone }).offset;
  const b = DateTime.fromMillis(at + 2 * DAY * 1000, { zone }).offset;
  return a !== b;
}

describe("kured's window keys", () => {
  it("open exactly when kured's timewindow.Contains says so", () => {
    fc.assert(
      fc.property(kuredSpec, instant, (spec, at) => {
        fc.pre(!nearDstChange(spec.timeZone, at));
        expect(windowContains([spec], at)).toBe(kuredContains(spec, at));
      }),
      { ...SEED, numRuns: 2000 },
    );
  });

  it("the end second is inside and the second after it is not (non-wrapping windows)", () => {
    fc.assert(
      fc.property(kuredSpec.filter((s) => s.startSec < s.endSec!), fc.integer({ min: 0, max: 300 }), (spec, dayOffset) => {
        const day = DateTime.fromObject({ year: 2026, month: 1, day: 1 }, { zone: spec.timeZone }).plus({ days: dayOffset });
        fc.pre(spec.days.includes(day.weekday % 7) && !nearDstChange(spec.timeZone, day.toMillis()));
        const end = day.plus({ seconds: spec.endSec! }).toMillis();
        return windowContains([spec], end + 999) && !windowContains([spec], end + 1000);
      }),
      SEED,
    );
  });
});

describe("openings and boundaries", () => {
  const anySpec = fc.oneof(
    kuredSpec,
    fc.record({
      days: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 7 }),
      startSec: fc.integer({ min: 0, max: DAY - 1 }),
      lengthSec: fc.integer({ min: 60, max: 3 * DAY }),
      timeZone: fc.constantFrom(...ZONES),
    }),
  );

  it("the next opening lies after `at` and is open at its start", () => {
    fc.assert(
      fc.property(anySpec, instant, (spec, at) => {
        const o = nextWindowOpening([spec], at);
        expect(o).not.toBeNull();
        expect(o!.start).toBeGreaterThan(at);
        expect(windowContains([spec], o!.start)).toBe(true);
      }),
      SEED,
    );
  });

  it("the open state holds until the next boundary", () => {
    fc.assert(
      fc.property(anySpec, instant, (spec, at) => {
        const b = nextWindowBoundary([spec], at);
        expect(b).not.toBeNull();
        expect(b!).toBeGreaterThan(at);
        const open = windowContains([spec], at);
        expect(windowContains([spec], Math.floor((at + b!) / 2))).toBe(open);
        expect(windowContains([spec], b! - 1)).toBe(open);
      }),
      SEED,
    );
  });
});
