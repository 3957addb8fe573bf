// Runs vitest (arguments pass through) and ends with the plain "N passed, N failed" line that
// CI reads, since vitest's own summary is not one of the formats it knows. Exits as vitest did.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const out = join(import.meta.dirname, "../build/vitest-results.json");
mkdirSync(join(import.meta.dirname, "../build"), { recursive: true });
rmSync(out, { force: true });
const r = spawnSync("vitest", ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${out}`, ...process.argv.slice(2)], { stdio: "inherit" });
let summary = "0 passed, 1 failed (vitest wrote no results)";
try {
  const j = JSON.parse(readFileSync(out, "utf8"));
  const skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
  summary = `${j.numPassedTests} passed, ${j.numFailedTests + (j.numFailedTestSuites && !j.numFailedTests ? j.numFailedTestSuites : 0)} failed${skipped ? `, ${skipped} skipped` : ""}`;
} catch {}
console.log(`\n${summary}`);
process.exitCode = r.status ?? 1;
