/**
 * `npm run bench [-- --only PREFIX]`: runs every scripts/bench/*.bench.ts suite whose figures can
 * match PREFIX, prints one table with each figure beside its baseline and the ratio, and writes
 * bench.json (an array of Figure). Exits 0 even when a goal is missed: the table says so.
 *
 * Order: the suites whose figures are timed first, one at a time on a quiet machine; then the
 * suites' background work (the 1000-node rollouts, in worker threads) starts, and the steady
 * suites (figures in simulated time, counts, memory of a process of their own) run beside it on
 * the spare core. The table keeps the suites' file order.
 */
import { readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BenchSuite, Figure } from "./bench/types";

const here = dirname(fileURLToPath(import.meta.url));

function parseArgs(argv: string[]): { only: string } {
  let only = "";
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--only") only = argv[++i] ?? "";
    else if (a.startsWith("--only=")) only = a.slice("--only=".length);
    else {
      console.error(`unknown argument ${a}; usage: npm run bench -- [--only PREFIX]`);
      process.exit(64);
    }
  }
  return { only };
}

function fmt(n: number | null): string {
  if (n === null) return "-";
  return Math.abs(n) >= 100 ? n.toFixed(0) : String(n);
}

async function main(): Promise<void> {
  const { only } = parseArgs(process.argv.slice(2));
  const files = readdirSync(join(here, "bench")).filter((f) => f.endsWith(".bench.ts")).sort();
  const suites: { file: string; suite: BenchSuite; figures: Figure[] }[] = [];
  for (const file of files) {
    const suite = (await import(pathToFileURL(join(here, "bench", file)).href)).default as BenchSuite;
    // Skip a suite whose prefix cannot match: "--only rss" runs startup.ts only if it owns rss.*.
    const prefixes = suite.prefix.split(",");
    if (only && !prefixes.some((p) => `${p}.`.startsWith(only) || only.startsWith(`${p}.`) || only === p)) continue;
    suites.push({ file, suite, figures: [] });
  }
  const keep = (f: Figure) => !only || f.name.startsWith(only);
  const background: Promise<void>[] = [];
  const startBackground = () => {
    for (const s of suites) {
      if (!s.suite.background) continue;
      process.stderr.write(`bench: ${s.file} in the background…\n`);
      background.push(s.suite.background(only || undefined).then((figs) => void s.figures.push(...figs.filter(keep))));
    }
  };
  let started = false;
  for (const s of [...suites.filter((x) => !x.suite.steady), ...suites.filter((x) => x.suite.steady)]) {
    if (s.suite.steady && !started) {
      started = true;
      startBackground();
    }
    process.stderr.write(`bench: ${s.file}…\n`);
    s.figures.push(...(await s.suite.run(only || undefined)).filter(keep));
  }
  if (!started) startBackground();
  await Promise.all(background);
  const figures = suites.flatMap((s) => s.figures);
  const rows = [["figure", "value", "unit", "baseline", "ratio", "goal", "pass"]];
  for (const f of figures) {
    rows.push([f.name, fmt(f.value), f.unit, fmt(f.baseline), fmt(f.ratio), f.goal ?? "-", f.pass === null ? "-" : f.pass ? "yes" : "NO"]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd());
  writeFileSync("bench.json", `${JSON.stringify(figures, null, 2)}\n`);
  if (figures.length === 0) console.log(`no figure matches --only ${only}`);
}

await main();
