import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../agent/cli/main";
import { tempDir } from "../helpers/tmp";
import { cliContext } from "../helpers/cli";

const KURED_VALUES = new URL("../../../shared/fixtures/kured-values.yaml", import.meta.url).pathname;

const context = cliContext;

describe("sluice CLI", () => {
  it("--help lists the commands and exits 0", async () => {
    const { ctx, stdout } = context();
    expect(await main(["--help"], ctx)).toBe(0);
    for (const cmd of ["run", "check-config", "version"]) expect(stdout.text).toContain(cmd);
  });

  it("version prints version, commit, Node version and architecture", async () => {
    const { ctx, stdout } = context();
    expect(await main(["version", "--json"], ctx)).toBe(0);
    const v = JSON.parse(stdout.text);
    expect(v).toEqual({ version: expect.any(String), commit: expect.any(String), node: process.version, arch: process.arch, platform: "linux" });
  });

  it("a usage error exits 64", async () => {
    const { ctx, stderr } = context();
    expect(await main(["reboot-everything"], ctx)).toBe(64);
    expect(stderr.text).toContain("unknown command 'reboot-everything'");
    expect(await main(["check-config", "--no-such-flag"], context().ctx)).toBe(64);
  });

  it.each([["typo", "--help"], ["typo", "-h"], ["typo"], ["--", "typo"]])("an unknown command is a usage error with or without flags: %j", async (...argv) => {
    const { ctx, stdout, stderr } = context();
    const code = await main(argv, ctx);
    expect(code).toBe(64);
    expect(stdout.text).not.toContain("Commands:");
    expect(stderr.text).toMatch(/unknown command|too many arguments|error/);
  });

  it("check-config prints every effective value with its origin", async () => {
    const { ctx, stdout } = context({ SLUICE_CONCURRENCY: "2" });
    expect(await main(["check-config", "--config", KURED_VALUES, "--config-dir", "/nonexistent", "--group", "zone-a", "--json"], ctx)).toBe(0);
    const out = JSON.parse(stdout.text);
    expect(out.settings.lockTtl).toEqual({ value: 1_800_000, origin: `file ${KURED_VALUES}:20` });
    expect(out.settings.concurrency).toEqual({ value: 2, origin: "env SLUICE_CONCURRENCY" });
    expect(out.settings.group).toEqual({ value: "zone-a", origin: "flag --group" });
    expect(out.settings.period).toEqual({ value: 60_000, origin: "default" });
    expect(out.windows).toEqual(["Mon,Tue,Wed,Thu 08:00-15:00 UTC"]);
  });

  it("check-config in text names the windows and the file", async () => {
    const { ctx, stdout } = context();
    expect(await main(["check-config", "-c", KURED_VALUES, "--config-dir", "/nonexistent"], ctx)).toBe(0);
    expect(stdout.text).toContain(`configuration is valid (files: ${KURED_VALUES})`);
    expect(stdout.text).toMatch(/lockReleaseDelay\s+5m\s+file /);
    expect(stdout.text).toContain("reboot windows: Mon,Tue,Wed,Thu 08:00-15:00 UTC");
  });

  it("a bad value exits 78 with the message on the error priority", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "c.yaml"), "concurrency: none\n");
    const { ctx, stderr } = context();
    expect(await main(["check-config", "-c", join(dir, "c.yaml")], ctx)).toBe(78);
    expect(stderr.lines).toEqual([`<3>${dir}/c.yaml:1: concurrency: "none" is not valid: expected a whole number from 1 to 10000 code=config-invalid`]);
  });

  it("run refuses a world-readable kubeconfig with 78", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "kubeconfig"), "apiVersion: v1\n");
    chmodSync(join(dir, "kubeconfig"), 0o644);
    const { ctx, stderr } = context();
    expect(await main(["run", "--config-dir", dir, "--kubeconfig", join(dir, "kubeconfig")], ctx)).toBe(78);
    expect(stderr.text).toContain(`kubeconfig: ${dir}/kubeconfig is open to every user (mode 0644); run chmod 600`);
  });

  it.each([
    [0o640, "its group (mode 0640)"],
    [0o620, "its group (mode 0620)"],
    [0o602, "every user (mode 0602)"],
  ])("run refuses a kubeconfig with any group or other access: %o", async (mode, said) => {
    const dir = tempDir();
    writeFileSync(join(dir, "kubeconfig"), "apiVersion: v1\n");
    chmodSync(join(dir, "kubeconfig"), mode);
    const { ctx, stderr } = context();
    expect(await main(["run", "--config-dir", dir, "--kubeconfig", join(dir, "kubeconfig")], ctx)).toBe(78);
    expect(stderr.text).toContain(`is open to ${said}`);
  });

  it.runIf(process.getuid?.() === 0)("run refuses a kubeconfig owned by another unprivileged user", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "kubeconfig"), "apiVersion: v1\n");
    chmodSync(join(dir, "kubeconfig"), 0o600);
    chownSync(join(dir, "kubeconfig"), 65534, 65534);
    const { ctx, stderr } = context();
    expect(await main(["run", "--config-dir", dir, "--kubeconfig", join(dir, "kubeconfig")], ctx)).toBe(78);
    expect(stderr.text).toContain("belongs to user 65534");
  });

  it("check-config, text and JSON, shows no credential but keeps what is not one", async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, "c.yaml"),
      [
        "notifyUrl: slack://xoxb-tokenA/tokenB/tokenC",
        "prometheusUrl: https://alice:hunter2@prom.example.com:9090",
        "rebootSentinelCommand: [check, --token, s3cr3t, '--password=pw1', '-H', 'Authorization: Bearer abc.def']",
        "slackHookUrl: https://hooks.slack.com/services/T0/B1/hooksecret",
        "metricsHost: 10.0.0.1",
      ].join("\n"),
    );
    for (const json of [false, true]) {
      const { ctx, stdout } = context();
      expect(await main(["check-config", "-c", join(dir, "c.yaml"), "--config-dir", "/nonexistent", ...(json ? ["--json"] : [])], ctx)).toBe(0);
      for (const secret of ["xoxb-tokenA", "tokenB", "tokenC", "hunter2", "alice", "s3cr3t", "pw1", "abc.def", "hooksecret"]) expect(stdout.text).not.toContain(secret);
      for (const kept of ["prom.example.com:9090", "--token", "check", "10.0.0.1", "slack://"]) expect(stdout.text).toContain(kept);
    }
  });

  it("a closed pipe ends the output quietly (sluice check-config | true)", () => {
    // `true` exits without reading: every write of sluice's meets a closed pipe.
    const r = spawnSync("sh", ["-c", "node --import tsx agent/cli/main.ts check-config --config-dir /nonexistent -c /dev/null | true"], { encoding: "utf8", cwd: new URL("../..", import.meta.url).pathname });
    expect(r.stderr).toBe("");
  });
});
