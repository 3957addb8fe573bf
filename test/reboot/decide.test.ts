import { describe, expect, it } from "vitest";
import { admission, rebootOverdue } from "../../agent/reboot";

const NOW = Date.UTC(2026, 0, 5, 9, 0, 0);
const open = { fits: true as const, closesAt: null, fitsUntil: null };

describe("admission", () => {
  it.each([
    ["all clear", { fit: open, cooldownMs: 0, inhibitors: [] }, { go: true }],
    ["an inhibitor file", { fit: open, cooldownMs: 0, inhibitors: [{ source: "file:/run/sluice/inhibit/backup", reason: "nightly backup" }] }, { go: false, kind: "inhibited", why: "inhibited by /run/sluice/inhibit/backup (nightly backup)" }],
    ["the annotation wins over a closed window", { fit: { fits: false as const, why: "closed" as const, opensAt: NOW + 3600_000 }, cooldownMs: 0, inhibitors: [{ source: "annotation", reason: "db" }] }, { go: false, kind: "inhibited" }],
    ["a closed window says when it opens", { fit: { fits: false as const, why: "closed" as const, opensAt: NOW + 3600_000 }, cooldownMs: 0, inhibitors: [] }, { go: false, kind: "window", why: "waiting for the maintenance window: the next opens at 2026-01-05T10:00:00Z", wakeAt: NOW + 3600_000 }],
    ["a window closing too soon", { fit: { fits: false as const, why: "closing" as const, opensAt: NOW + 86_400_000 }, cooldownMs: 0, inhibitors: [] }, { go: false, kind: "window", why: expect.stringMatching(/closes too soon/) }],
    ["no window ever opens", { fit: { fits: false as const, why: "closed" as const, opensAt: null }, cooldownMs: 0, inhibitors: [] }, { go: false, kind: "window", why: "waiting for the maintenance window: no maintenance window ever opens" }],
    ["in cooldown", { fit: open, cooldownMs: 3600_000, lastRebootAt: NOW - 600_000, inhibitors: [] }, { go: false, kind: "cooldown", wakeAt: NOW + 3000_000 }],
    ["cooldown over", { fit: open, cooldownMs: 3600_000, lastRebootAt: NOW - 3600_000, inhibitors: [] }, { go: true }],
    ["no cooldown configured", { fit: open, cooldownMs: 0, lastRebootAt: NOW - 1, inhibitors: [] }, { go: true }],
  ])("%s", (_n, facts, want) => {
    expect(admission({ now: NOW, ...facts })).toMatchObject(want);
  });
});

describe("rebootOverdue", () => {
  it.each([
    [0, 600_000, 599_999, false],
    [0, 600_000, 600_000, true],
    [1000, 10_000, 20_000, true],
  ])("requested at %d, timeout %d, now %d → %s", (at, timeout, now, want) => {
    expect(rebootOverdue(at, timeout, now)).toBe(want);
  });
});
