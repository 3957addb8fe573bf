/**
 * A sentinel path that is a symlink loop: the answer is "not needed" (kured tests existence; a
 * loop does not exist), the source starts, and the warnings are bounded — it used to re-arm a
 * failing watch at once, forever (~780 log lines a second) and never finish starting.
 */
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../agent/ports";
import { SentinelFileSource } from "../../agent/signals/sentinel-file";
import type { SourceReport } from "../../agent/signals/types";
import { Lines, until } from "../helpers/sim";
import { tempDir } from "../helpers/tmp";

describe("a sentinel that is a symlink loop", () => {
  it("is absent, starts, and logs its watch error at most once across resyncs", async () => {
    const dir = tempDir();
    symlinkSync(join(dir, "b"), join(dir, "a"));
    symlinkSync(join(dir, "a"), join(dir, "b"));
    const lines = new Lines();
    const reports: SourceReport[] = [];
    const source = new SentinelFileSource(join(dir, "a"), { clock: new FakeClock(), log: lines.logger, onReport: (r) => reports.push(r) });
    const stop = new AbortController();
    await source.start(stop.signal);
    await until(() => reports.length === 1, 5000, "first report");
    expect(reports[0]).toMatchObject({ needed: false });
    for (let i = 0; i < 5; i++) await source.resync();
    const warnings = lines.lines.filter((l) => /WARNING/.test(l));
    expect(warnings.length).toBeLessThanOrEqual(1);
    stop.abort();
    await source.stopped();
  }, 20_000);
});
