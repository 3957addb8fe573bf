import { describe, expect, it } from "vitest";
import { formatGoDuration, parseGoDuration } from "../../agent/config/duration";
import { closest } from "../../agent/config/suggest";
import { Invalid, command, label, selector, timeOfDay, weekday, weekdays } from "../../agent/config/values";

describe("kured time formats", () => {
  it.each([
    ["8", 8 * 3600],
    ["15", 15 * 3600],
    ["0", 0],
    ["3pm", 15 * 3600],
    ["03pm", 15 * 3600],
    ["3PM", 15 * 3600],
    ["12am", 0],
    ["12pm", 12 * 3600],
    ["3:30pm", 15 * 3600 + 1800],
    ["15:04", 15 * 3600 + 4 * 60],
    ["8:00", 8 * 3600],
    ["15:04:05", 15 * 3600 + 4 * 60 + 5],
    // Go's 12-hour layouts take hour 0: "0pm" is noon, "00am" midnight (kured parses with them).
    ["0pm", 12 * 3600],
    ["00am", 0],
    ["03:04pm", 15 * 3600 + 4 * 60],
    ["23:59:59", 86_399],
    [8, 8 * 3600],
  ])("%s", (raw, sec) => expect(timeOfDay(raw)).toBe(sec));

  // 24:00 is refused as kured (Go) refuses it; an end of 0:00 already means midnight.
  it.each(["25", "13pm", "15:4", "15:60", "7:00:60", "noon", "", "24:00", "24:01", "3:04:05pm", "-1", "1:2:3"])("rejects %s", (raw) => {
    expect(() => timeOfDay(raw)).toThrow(Invalid);
  });
});

describe("kured day names", () => {
  it.each([
    ["su", 0],
    ["sun", 0],
    ["Sunday", 0],
    ["mo", 1],
    ["TUE", 2],
    ["wednesday", 3],
    ["th", 4],
    ["fri", 5],
    ["sa", 6],
    ["0", 0],
    ["6", 6],
    [3, 3],
  ])("%s", (raw, day) => expect(weekday(raw)).toBe(day));

  it.each(["7", "-1", "sunn", "funday", ""])("rejects %s", (raw) => expect(() => weekday(raw)).toThrow(Invalid));

  it("takes lists and comma strings, sorted and without repeats", () => {
    expect(weekdays(["thu", "mon", "1"])).toEqual([1, 4]);
    expect(weekdays("mo,tu,we")).toEqual([1, 2, 3]);
  });
});

describe("Go durations", () => {
  it.each([
    ["0", 0],
    ["5m", 300_000],
    ["1h30m", 5_400_000],
    ["1.5h", 5_400_000],
    ["300ms", 300],
    ["2h45m30.5s", 9_930_500],
    ["-1s", -1000],
    ["1us", 0.001],
  ])("%s", (raw, ms) => expect(parseGoDuration(raw)).toBe(ms));

  it.each(["5", "m", "1h 30m", "5x", "", "1.h.", "h1"])("rejects %s", (raw) => expect(parseGoDuration(raw)).toBeNull());

  it.each([
    [0, "0s"],
    [300_000, "5m"],
    [5_400_000, "1h30m"],
    [1500, "1.5s"],
    [250, "250ms"],
  ])("formats %d as %s", (ms, text) => expect(formatGoDuration(ms)).toBe(text));
});

describe("labels and selectors", () => {
  it.each(["kured=needs-updates", "example.com/phase=pre", "a=", "x_y.z=1"])("label %s", (l) => expect(label(l)).toBe(l));
  it.each(["novalue", "=v", "bad key=v", "a=b c", `k=${"x".repeat(64)}`])("rejects label %s", (l) => expect(() => label(l)).toThrow(Invalid));
  it.each(["app=web", "app==web,tier!=db", "tier in (db, cache)", "!batch", "app", "a notin (x)"])("selector %s", (s) => expect(selector(s)).toBe(s));
  it.each(["app=web,", "tier in (db", "a b c", "=x"])("rejects selector %s", (s) => expect(() => selector(s)).toThrow(Invalid));
});

describe("did you mean", () => {
  it("finds close keys, case and separators aside", () => {
    const keys = ["lockTtl", "lockReleaseDelay", "startTime", "rebootDays"];
    expect(closest("lockTTl", keys)).toBe("lockTtl");
    expect(closest("lock-ttl", keys)).toBe("lockTtl");
    expect(closest("startTme", keys)).toBe("startTime");
    expect(closest("rebootday", keys)).toBe("rebootDays");
    expect(closest("image", keys)).toBeUndefined();
  });
});

describe("commands are split into words as kured splits them (shlex)", () => {
  it.each([
    ["", []],
    ["/sbin/reboot-required -r", ["/sbin/reboot-required", "-r"]],
    ["  test  -f   /run/x ", ["test", "-f", "/run/x"]],
    ['sh -c "! needs-restarting --reboothint"', ["sh", "-c", "! needs-restarting --reboothint"]],
    ["sh -c 'test -f \"/run/a b\"'", ["sh", "-c", 'test -f "/run/a b"']],
    ['echo "a \\"q\\" b"', ["echo", 'a "q" b']],
    ["a\\ b c", ["a b", "c"]],
    ['x ""', ["x", ""]],
    [["true", "with space"], ["true", "with space"]],
  ] as const)("%j -> %j", (input, want) => expect(command(input)).toEqual(want));

  it("refuses an unterminated quote", () => expect(() => command('sh -c "oops')).toThrow(/unterminated quote/));
});
