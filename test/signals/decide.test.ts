import { describe, expect, it } from "vitest";
import {
  backoffDelay,
  spendLogBudget,
  type LogBudget,
  combineNeed,
  enabledSources,
  interpretSentinelExit,
  judgeStatusSignal,
  needChanged,
  parseEngineStatus,
  type RebootNeed,
  type SourceReport,
} from "../../agent/signals";
import { engineAbsence } from "../../agent/signals/decide";

describe("enabledSources", () => {
  it.each([
    [{ rebootSentinel: "/run/r", rebootSentinelCommand: null, updateEngine: "auto" }, ["sentinel-file", "update-engine"]],
    // Unlike kured, a command does not replace the file: every source counts.
    [{ rebootSentinel: "/run/r", rebootSentinelCommand: ["true"], updateEngine: "off" }, ["sentinel-file", "sentinel-command"]],
    [{ rebootSentinel: "", rebootSentinelCommand: [], updateEngine: "on" }, ["update-engine"]],
    [{ rebootSentinel: "/run/r", rebootSentinelCommand: [], updateEngine: "off" }, ["sentinel-file"]],
  ] as const)("%j -> %j", (opts, want) => {
    expect(enabledSources(opts)).toEqual(want);
  });
});

describe("interpretSentinelExit (kured semantics)", () => {
  const run = (exitCode: number | null, extra: { signal?: NodeJS.Signals; timedOut?: boolean } = {}) => ({
    exitCode,
    signal: extra.signal ?? null,
    timedOut: extra.timedOut ?? false,
  });
  it.each([
    [run(0), true, "info"],
    [run(1), false, "info"],
    [run(2), false, "warning"],
    [run(127), false, "warning"],
    [run(null, { signal: "SIGKILL" }), false, "warning"],
    [run(null, { signal: "SIGKILL", timedOut: true }), false, "warning"],
    // A command that printed "yes" and exited 0 after its deadline still does not count.
    [run(0, { timedOut: true }), false, "warning"],
  ])("%j -> needed=%s, %s", (result, needed, level) => {
    const v = interpretSentinelExit(result, 1000);
    expect(v.needed).toBe(needed);
    expect(v.level).toBe(level);
  });
});

describe("parseEngineStatus", () => {
  const good = [1700000000n, 0.5, "UPDATE_STATUS_DOWNLOADING", "3975.2.0", 123456n];
  it.each([
    ["the documented body", "xdssx", good, true],
    ["int64 as a number (not how dbus-next marshals x)", "xdssx", [1, 0.5, "X", "", 0n], false],
    ["a short body", "xdss", good.slice(0, 4), false],
    ["a different signature", "sdssx", ["1", 0.5, "X", "", 0n], false],
    ["no signature", undefined, good, false],
  ] as const)("%s -> ok=%s", (_name, sig, body, ok) => {
    expect(parseEngineStatus(sig, body as unknown[]) !== null).toBe(ok);
  });
});

describe("judgeStatusSignal: only the current owner of com.coreos.update1 is believed", () => {
  it.each([
    [":1.5", ":1.5", "accept"],
    [":1.9", ":1.5", "spoofed"],
    [undefined, ":1.5", "spoofed"],
    [":1.5", null, "spoofed"], // nobody owns the name: every StatusUpdate is somebody pretending
    [":1.5", undefined, "owner-unknown"], // GetNameOwner not answered yet; GetStatus follows
    ["com.coreos.update1", ":1.5", "spoofed"], // the bus stamps unique names; a well-known name here is forged
  ] as const)("sender %s, owner %s -> %s", (sender, owner, want) => {
    expect(judgeStatusSignal(sender, owner)).toBe(want);
  });
});

describe("engineAbsence", () => {
  it("auto shrugs once, on keeps warning and reports an error", () => {
    expect(engineAbsence("auto")).toEqual({ log: "info-once", health: "absent" });
    expect(engineAbsence("on")).toEqual({ log: "warning", health: "error" });
  });
});

describe("backoffDelay", () => {
  it.each([
    [0, 1, 1000],
    [1, 1, 2000],
    [3, 1, 8000],
    [10, 1, 60000],
    [0, 0, 800],
    [10, 0, 48000],
  ])("attempt %i noise %d -> %i ms", (attempt, noise, want) => {
    expect(backoffDelay(attempt, 1000, 60000, () => noise)).toBe(want);
  });
});

describe("combineNeed", () => {
  const r = (source: SourceReport["source"], needed: boolean, since: number, extra: Partial<SourceReport> = {}): SourceReport => ({
    source,
    needed,
    health: "ok",
    detail: "",
    since,
    ...extra,
  });
  const none: RebootNeed = { needed: false, reasons: [] };
  it.each<[string, SourceReport[], RebootNeed | null, Partial<RebootNeed>]>([
    ["nothing enabled", [], null, { needed: false, since: undefined }],
    ["nobody needs it", [r("sentinel-file", false, 5), r("update-engine", false, 6)], none, { needed: false }],
    ["any source is enough", [r("sentinel-file", false, 5), r("update-engine", true, 60, { newVersion: "4000.0.0" })], none, { needed: true, since: 60, newVersion: "4000.0.0" }],
    ["since is the earliest needing source", [r("sentinel-file", true, 40), r("update-engine", true, 60)], null, { needed: true, since: 40 }],
    [
      "since survives a second source joining",
      [r("sentinel-file", true, 40), r("update-engine", true, 20)],
      { needed: true, reasons: [], since: 40 },
      { needed: true, since: 40 },
    ],
    ["newVersion only while update_engine says needed", [r("update-engine", false, 1, { newVersion: "4000.0.0" })], null, { needed: false, newVersion: undefined }],
  ])("%s", (_name, reports, previous, want) => {
    const got = combineNeed(reports, previous, 100);
    expect(got).toMatchObject(Object.fromEntries(Object.entries(want).filter(([, v]) => v !== undefined)));
    if (want.since === undefined) expect(got.since).toBeUndefined();
    if (want.newVersion === undefined) expect(got.newVersion).toBeUndefined();
  });

  it("orders reasons file, command, update_engine", () => {
    const got = combineNeed([r("update-engine", false, 1), r("sentinel-command", false, 1)], null, 1);
    expect(got.reasons.map((x) => x.source)).toEqual(["sentinel-command", "update-engine"]);
  });
});

describe("needChanged", () => {
  const need = (needed: boolean, sources: Array<[SourceReport["source"], boolean]>, newVersion?: string): RebootNeed => ({
    needed,
    reasons: sources.map(([source, n]) => ({ source, needed: n, health: "ok", detail: `detail-${sources.map(([s]) => s).join(",")}`, since: 0 })),
    ...(newVersion ? { newVersion } : {}),
  });
  it.each<[string, RebootNeed | null, RebootNeed, boolean]>([
    ["first answer", null, need(false, []), true],
    ["details only (update_engine progress)", need(false, [["update-engine", false]]), need(false, [["update-engine", false]]), false],
    ["flip to needed", need(false, [["sentinel-file", false]]), need(true, [["sentinel-file", true]]), true],
    ["a second source agrees", need(true, [["sentinel-file", true], ["update-engine", false]]), need(true, [["sentinel-file", true], ["update-engine", true]]), true],
    ["staged version appears", need(true, [["update-engine", true]]), need(true, [["update-engine", true]], "4000.0.0"), true],
  ])("%s -> %s", (_n, prev, next, want) => {
    expect(needChanged(prev, next)).toBe(want);
  });
});

describe("log budget for what anyone can cause (spoofed StatusUpdates)", () => {
  it("logs the first, summarises the rest until the interval has passed", () => {
    let b: LogBudget = { lastAt: -Infinity, suppressed: 0 };
    const seen: Array<[number, boolean, number]> = [];
    for (const t of [0, 10, 20, 59_999, 60_000, 60_001, 200_000]) {
      const r = spendLogBudget(b, t, 60_000);
      b = r.next;
      seen.push([t, r.log, r.suppressed]);
    }
    expect(seen).toEqual([
      [0, true, 0],
      [10, false, 0],
      [20, false, 0],
      [59_999, false, 0],
      [60_000, true, 3],
      [60_001, false, 0],
      [200_000, true, 1],
    ]);
  });
});
