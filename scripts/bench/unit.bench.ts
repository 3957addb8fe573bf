/**
 * unit.exposure: `systemd-analyze security --offline=true` of the rendered unit (0 = fully
 * locked down, 10 = no sandbox at all). The goal is at most 2.0 for a root service that must
 * reboot the host and reach the API server; baseline: the same unit with no hardening at all.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderUnit } from "../../agent/render";
import { type BenchSuite, figure } from "./types";

function exposure(unitText: string): number {
  const dir = mkdtempSync(join(tmpdir(), "sluice-unit-"));
  try {
    const file = join(dir, "sluice.service");
    writeFileSync(file, unitText);
    const out = execFileSync("systemd-analyze", ["security", "--offline=true", "--no-pager", file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const m = /Overall exposure level for sluice\.service: ([\d.]+)/.exec(out);
    if (!m) throw new Error(`no exposure level in systemd-analyze's output:\n${out.slice(-500)}`);
    return Number(m[1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const suite: BenchSuite = {
  prefix: "unit",
  async run() {
    const unit = renderUnit({ execPath: "/opt/bin/sluice" });
    const bare = unit.split("\n[Service]")[0] + "\n[Service]\nType=notify\nExecStart=/opt/bin/sluice run\n";
    return [figure("unit.exposure", exposure(unit), "", { baseline: exposure(bare), maxValue: 2.0, goal: "<= 2.0" })];
  },
};
export default suite;
