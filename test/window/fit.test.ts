/**
 * windowFit: whether a drain may start now (the window stays open at least the margin), across
 * zones, midnight and both DST nights of Europe/Berlin (2026-03-29 02:00→03:00, 2026-10-25 03:00→02:00).
 */
import { describe, expect, it } from "vitest";
import { type WindowSpec, windowFit } from "../../agent/window";

const H = 3600;
const M = 60_000;
const utc = (s: string) => Date.parse(s);

describe("windowFit", () => {
  const nightly: WindowSpec = { days: [0, 1, 2, 3, 4, 5, 6], startSec: 22 * H, endSec: 4 * H, timeZone: "UTC" };
  it.each<[string, WindowSpec[], string, number, object]>([
    ["no windows: always", [], "2026-01-05T12:00:00Z", 15 * M, { fits: true, closesAt: null }],
    ["inside a window crossing midnight, plenty left", [nightly], "2026-01-05T23:00:00Z", 15 * M, { fits: true, closesAt: utc("2026-01-06T04:00:00Z"), fitsUntil: utc("2026-01-06T03:45:00Z") }],
    ["after midnight, still inside", [nightly], "2026-01-06T03:40:00Z", 15 * M, { fits: true }],
    ["too close to the end: wait for the next opening", [nightly], "2026-01-06T03:50:00Z", 15 * M, { fits: false, why: "closing", opensAt: utc("2026-01-06T22:00:00Z") }],
    ["closed: the next opening", [nightly], "2026-01-06T12:00:00Z", 15 * M, { fits: false, why: "closed", opensAt: utc("2026-01-06T22:00:00Z") }],
    ["a zone east of UTC", [{ days: [1], startSec: 22 * H, endSec: 23 * H, timeZone: "Europe/Berlin" }], "2026-01-05T21:10:00Z", 15 * M, { fits: true, closesAt: utc("2026-01-05T22:00:00Z") }],
    ["a zone west of UTC, before its opening", [{ days: [1], startSec: 1 * H, endSec: 3 * H, timeZone: "America/New_York" }], "2026-01-05T05:00:00Z", 15 * M, { fits: false, why: "closed", opensAt: utc("2026-01-05T06:00:00Z") }],
    ["spring DST night: 01:00-04:00 Berlin is two real hours", [{ days: [0], startSec: 1 * H, endSec: 4 * H, timeZone: "Europe/Berlin" }], "2026-03-29T00:30:00Z", 15 * M, { fits: true, closesAt: utc("2026-03-29T02:00:00Z") }],
    ["autumn DST night: 01:00-04:00 Berlin is four real hours", [{ days: [0], startSec: 1 * H, endSec: 4 * H, timeZone: "Europe/Berlin" }], "2026-10-25T00:30:00Z", 15 * M, { fits: true, closesAt: utc("2026-10-25T03:00:00Z") }],
    ["adjoining windows count as one stretch", [{ days: [1], startSec: 20 * H, endSec: 22 * H, timeZone: "UTC" }, { days: [1], startSec: 22 * H, endSec: 23 * H, timeZone: "UTC" }], "2026-01-05T21:50:00Z", 30 * M, { fits: true, closesAt: utc("2026-01-05T23:00:00Z") }],
    ["a margin longer than the window never fits", [{ days: [1], startSec: 20 * H, endSec: 21 * H, timeZone: "UTC" }], "2026-01-05T20:00:00Z", 2 * 3600_000, { fits: false, why: "closing" }],
  ])("%s", (_n, specs, at, margin, want) => {
    expect(windowFit(specs, utc(at), margin)).toMatchObject(want);
  });
});

describe("UTC without a zone database", () => {
  // The UTC calendar is plain arithmetic (no Intl, no ICU data in memory): it must agree with the
  // zone calendar on every boundary, here checked against Etc/GMT+0, which goes through luxon.
  it.each(["2026-01-05T00:00:00Z", "2026-02-28T23:59:59Z", "2026-03-29T01:30:00Z", "2026-12-31T23:00:00Z", "2028-02-29T12:00:00Z"])("agrees with the zone calendar at %s", (at) => {
    const spec = (timeZone: string): WindowSpec => ({ days: [0, 2, 4, 6], startSec: 22 * H, endSec: 3 * H, timeZone });
    const kured = (timeZone: string): WindowSpec => ({ ...spec(timeZone), kured: true });
    for (const margin of [0, 15 * M]) {
      expect(windowFit([spec("UTC")], utc(at), margin)).toEqual(windowFit([spec("Etc/GMT+0")], utc(at), margin));
      expect(windowFit([kured("UTC")], utc(at), margin)).toEqual(windowFit([kured("Etc/GMT+0")], utc(at), margin));
    }
  });
});
