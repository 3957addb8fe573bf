import { describe, expect, it } from "vitest";
import { checkInhibitDelay, parseTimeSpanMs } from "../../agent/host/logind";

describe("parseTimeSpanMs", () => {
  it.each([
    ["90", 90_000],
    ["5s", 5000],
    ["1min 30s", 90_000],
    ["1min30s", 90_000],
    ["2h", 7_200_000],
    ["500ms", 500],
    ["1.5s", 1500],
    ["infinity", Infinity],
    [" 30 s ", 30_000],
    ["", undefined],
    ["soon", undefined],
    ["5 parsecs", undefined],
    ["-5s", undefined],
  ])("%j → %s", (raw, ms) => {
    expect(parseTimeSpanMs(raw)).toBe(ms);
  });
});

const main = (text: string) => ({ name: "/etc/systemd/logind.conf", text });
const dropin = (n: string, text: string) => ({ name: `/etc/systemd/logind.conf.d/${n}`, text });

describe("checkInhibitDelay", () => {
  it.each([
    { name: "nothing set: logind's 5 s default, too short for 30 s", files: [], grace: 30_000, ms: 5000, from: "logind's default", warn: true },
    { name: "the stock commented-out file changes nothing", files: [main("[Login]\n#InhibitDelayMaxSec=5\n")], grace: 30_000, ms: 5000, from: "logind's default", warn: true },
    { name: "sluice's drop-in covers the grace", files: [main("[Login]\n"), dropin("60-sluice-inhibit-delay.conf", "[Login]\nInhibitDelayMaxSec=120\n")], grace: 120_000, ms: 120_000, from: "/etc/systemd/logind.conf.d/60-sluice-inhibit-delay.conf", warn: false },
    { name: "a later drop-in lowers it again (the kubelet's 99-kubelet.conf wins)", files: [dropin("60-sluice.conf", "[Login]\nInhibitDelayMaxSec=120\n"), dropin("99-kubelet.conf", "[Login]\nInhibitDelayMaxSec=30s\n")], grace: 120_000, ms: 30_000, from: "/etc/systemd/logind.conf.d/99-kubelet.conf", warn: true },
    { name: "the key in another section does not count", files: [main("[Other]\nInhibitDelayMaxSec=600\n")], grace: 30_000, ms: 5000, from: "logind's default", warn: true },
    { name: "an invalid value is ignored, the previous one stays", files: [main("[Login]\nInhibitDelayMaxSec=2min\n"), dropin("x.conf", "[Login]\nInhibitDelayMaxSec=lots\n")], grace: 60_000, ms: 120_000, from: "/etc/systemd/logind.conf", warn: false },
    { name: "the last assignment in one file wins", files: [main("[Login]\nInhibitDelayMaxSec=10\n; comment\nInhibitDelayMaxSec = 45\n")], grace: 45_000, ms: 45_000, from: "/etc/systemd/logind.conf", warn: false },
    { name: "infinity covers any grace", files: [main("[Login]\r\nInhibitDelayMaxSec=infinity\r\n")], grace: 86_400_000, ms: Infinity, from: "/etc/systemd/logind.conf", warn: false },
    { name: "no grace configured (graceful shutdown off): never a warning", files: [], grace: 0, ms: 5000, from: "logind's default", warn: false },
    { name: "equal is enough", files: [main("[Login]\nInhibitDelayMaxSec=30\n")], grace: 30_000, ms: 30_000, from: "/etc/systemd/logind.conf", warn: false },
  ])("$name", ({ files, grace, ms, from, warn }) => {
    const r = checkInhibitDelay(files, grace);
    expect(r.effectiveMs).toBe(ms);
    expect(r.from).toBe(from);
    if (warn) {
      expect(r.warning).toContain(`InhibitDelayMaxSec is ${ms / 1000}s (${from})`);
      expect(r.warning).toContain(`grace of ${grace / 1000}s`);
    } else expect(r.warning).toBeUndefined();
  });
});
