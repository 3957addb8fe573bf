/**
 * scripts/build-sysext.sh, with a stand-in executable (the image's layout does not depend on
 * it), read back with the real squashfs tools.
 */
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/tmp";
import { FAKE_BINARY, ROOT, run, sha512 } from "./harness";

const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;

async function build(dir: string, out: string, arch = "x86-64") {
  const bin = join(dir, "sluice");
  writeFileSync(bin, FAKE_BINARY);
  // From the sources (no build needed); the same commit time for both builds of a pair.
  const env = { ...process.env, SLUICE_RENDER: `${process.execPath} --import tsx agent/cli/main.ts`, SOURCE_DATE_EPOCH: "1700000000" };
  const r = await run([join(ROOT, "scripts/build-sysext.sh"), "--arch", arch, "--binary", bin, "--out", out], { env, cwd: ROOT, timeoutMs: 120_000 });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return join(out, `sluice-${version}-${arch}.raw`);
}

describe("the sysext image", () => {
  it("holds usr/bin/sluice, the unit, the Upholds drop-in and extension-release, all root-owned", async () => {
    const dir = tempDir();
    const image = await build(dir, join(dir, "out"));
    const list = await run(["unsquashfs", "-lln", image]);
    expect(list.code).toBe(0);
    const entries = list.stdout
      .split("\n")
      .filter((l) => l.includes("squashfs-root"))
      .map((l) => {
        const f = l.trim().split(/\s+/);
        return { mode: f[0], owner: f[1], path: f.at(-1)!.replace(/^squashfs-root\/?/, "") };
      })
      .filter((e) => e.path !== "");
    const byPath = Object.fromEntries(entries.map((e) => [e.path, e]));
    expect(Object.keys(byPath).filter((p) => !p.endsWith("/") && !entries.find((e) => e.path.startsWith(`${p}/`))).sort()).toEqual([
      "usr/bin/sluice",
      "usr/lib/extension-release.d/extension-release.sluice",
      "usr/lib/systemd/system/multi-user.target.d/10-sluice.conf",
      "usr/lib/systemd/system/sluice.service",
    ]);
    for (const e of entries) expect(e.owner).toBe("0/0");
    expect(byPath["usr/bin/sluice"]!.mode).toBe("-rwxr-xr-x");
    expect(byPath["usr/lib/systemd/system/sluice.service"]!.mode).toBe("-rw-r--r--");

    const out = join(dir, "x");
    expect((await run(["unsquashfs", "-q", "-d", out, image])).code).toBe(0);
    expect(readFileSync(join(out, "usr/lib/extension-release.d/extension-release.sluice"), "utf8")).toBe("ID=flatcar\nSYSEXT_LEVEL=1.0\nARCHITECTURE=x86-64\nEXTENSION_RELOAD_MANAGER=1\n");
    expect(readFileSync(join(out, "usr/lib/systemd/system/multi-user.target.d/10-sluice.conf"), "utf8")).toContain("Upholds=sluice.service");
    expect(readFileSync(join(out, "usr/bin/sluice"))).toEqual(FAKE_BINARY);
    // The unit as the merged /usr shows it, next to the OS's own units.
    cpSync("/usr/lib/systemd/system", join(out, "usr/lib/systemd/system"), { recursive: true, verbatimSymlinks: true });
    const verify = await run(["systemd-analyze", "verify", `--root=${out}`, "sluice.service"]);
    expect(verify.stdout + verify.stderr).toBe("");

    const sums = readFileSync(join(dir, "out/SHA256SUMS"), "utf8");
    expect(sums).toMatch(new RegExp(`^[0-9a-f]{64}  sluice-${version.replace(/\./g, "\\.")}-x86-64\\.raw\\n$`));
    expect(readFileSync(`${image}.sha512`, "utf8")).toBe(`${sha512(readFileSync(image))}  sluice-${version}-x86-64.raw\n`);
  });

  it("is byte-identical when built twice", async () => {
    const dir = tempDir();
    const a = await build(dir, join(dir, "a"));
    const b = await build(dir, join(dir, "b"));
    expect(sha512(readFileSync(a))).toBe(sha512(readFileSync(b)));
  });
});
