import { describe, expect, it } from "vitest";
import { describeWindow, nextWindowBoundary, nextWindowOpening, openingAt, windowContains, type WindowSpec } from "../../agent/window";

const H = 3600;
const t = (iso: string) => Date.parse(iso);
const weekdays8to15: WindowSpec = { days: [1, 2, 3, 4], startSec: 8 * H, endSec: 15 * H, timeZone: "UTC" };
const overnightBerlin: WindowSpec = { days: [6], startSec: 22 * H, endSec: 4 * H, timeZone: "Europe/Berlin" };
const ninetyMinutesNY: WindowSpec = { days: [0], startSec: 1 * H, lengthSec: 90 * 60, timeZone: "America/New_York" };

describe("windowContains", () => {
  it.each<[string, WindowSpec, string, boolean]>([
    ["start is inclusive", weekdays8to15, "2026-11-23T08:00:00Z", true],
    ["end is exclusive", weekdays8to15, "2026-11-23T15:00:00Z", false],
    ["a day not listed", weekdays8to15, "2026-11-27T09:00:00Z", false],
    // 2026-11-28 is a Saturday; Berlin is UTC+1 in November.
    ["overnight, before midnight", overnightBerlin, "2026-11-28T21:30:00Z", true],
    ["overnight, after midnight (Sunday, opened Saturday)", overnightBerlin, "2026-11-29T02:59:00Z", true],
    ["overnight, closed at 04:00 local", overnightBerlin, "2026-11-29T03:00:00Z", false],
    ["overnight does not open on Sunday evening", overnightBerlin, "2026-11-29T21:30:00Z", false],
    // New York is UTC-5 in late November: 01:00 local = 06:00Z, for 90 minutes.
    ["length window inside", ninetyMinutesNY, "2026-11-29T07:29:00Z", true],
    ["length window after", ninetyMinutesNY, "2026-11-29T07:30:00Z", false],
    ["the zone decides the day", ninetyMinutesNY, "2026-11-29T01:30:00Z", false],
  ])("%s", (_name, spec, at, open) => expect(windowContains([spec], t(at))).toBe(open));

  it("no windows means always open; several windows are a union", () => {
    expect(windowContains([], t("2026-11-29T03:00:00Z"))).toBe(true);
    expect(windowContains([weekdays8to15, overnightBerlin], t("2026-11-28T21:30:00Z"))).toBe(true);
  });

  it("a spring-forward night keeps the wall-clock end", () => {
    // Europe/Berlin jumps from 02:00 to 03:00 on 2026-03-29 (a Sunday); window Sat 22:00-04:00.
    const o = openingAt(overnightBerlin, t("2026-03-29T00:30:00Z"))!;
    expect(new Date(o.start).toISOString()).toBe("2026-03-28T21:00:00.000Z");
    expect(new Date(o.end).toISOString()).toBe("2026-03-29T02:00:00.000Z"); // 04:00 CEST
  });
});

describe("nextWindowOpening", () => {
  it.each<[WindowSpec, string, string]>([
    [weekdays8to15, "2026-11-23T07:00:00Z", "2026-11-23T08:00:00.000Z"],
    [weekdays8to15, "2026-11-23T08:00:00Z", "2026-11-24T08:00:00.000Z"], // strictly after
    [weekdays8to15, "2026-11-26T16:00:00Z", "2026-11-30T08:00:00.000Z"], // Thu evening → Monday
    [overnightBerlin, "2026-11-23T12:00:00Z", "2026-11-28T21:00:00.000Z"],
  ])("%#", (spec, at, next) => expect(new Date(nextWindowOpening([spec], t(at))!.start).toISOString()).toBe(next));

  it("no day at all has no opening", () => expect(nextWindowOpening([{ ...weekdays8to15, days: [] }], t("2026-11-23T07:00:00Z"))).toBeNull());
});

describe("nextWindowBoundary", () => {
  it("is the close while open, the next opening while closed, and joins adjoining windows", () => {
    expect(new Date(nextWindowBoundary([weekdays8to15], t("2026-11-23T09:00:00Z"))!).toISOString()).toBe("2026-11-23T15:00:00.000Z");
    expect(new Date(nextWindowBoundary([weekdays8to15], t("2026-11-23T16:00:00Z"))!).toISOString()).toBe("2026-11-24T08:00:00.000Z");
    const afternoon: WindowSpec = { days: [1], startSec: 15 * H, endSec: 18 * H, timeZone: "UTC" };
    expect(new Date(nextWindowBoundary([weekdays8to15, afternoon], t("2026-11-23T09:00:00Z"))!).toISOString()).toBe("2026-11-23T18:00:00.000Z");
    expect(nextWindowBoundary([], t("2026-11-23T09:00:00Z"))).toBeNull();
  });
});

it("describes a window for people", () => {
  expect(describeWindow(weekdays8to15)).toBe("Mon,Tue,Wed,Thu 08:00-15:00 UTC");
  expect(describeWindow(ninetyMinutesNY)).toBe("Sun 01:00+90m America/New_York");
});
