/**
 * The kOps user-data script: shellcheck clean, and run for real (bash, curl, sha512sum) against a
 * scratch root with systemctl replaced by a recorder, twice, as coreos-cloudinit does at each boot.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { tempDir } from "../helpers/tmp";
import { FAKE_BINARY, FAKE_BINARY_GZ, ROOT, render, run, serve, sha512, type Served } from "./harness";

const CONFIG = join(ROOT, "butane/example/config.yaml");
const KUBECONFIG = join(ROOT, "butane/example/kubeconfig");

let server: Served;
beforeEach(async () => {
  server = await serve({ "/sluice": FAKE_BINARY, "/sluice.gz": FAKE_BINARY_GZ });
});
afterEach(() => server.close());

async function script(extra: string[]): Promise<{ text: string; userData: string }> {
  const r = await render(["kops", "--config", CONFIG, "--kubeconfig", KUBECONFIG, "--shutdown-grace-period", "45s", ...extra]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const entry = parse(r.stdout).spec.additionalUserData[0];
  expect(entry).toMatchObject({ name: "sluice.sh", type: "text/x-shellscript" });
  return { text: entry.content as string, userData: r.stdout };
}

/** A host without systemd: systemctl records its arguments, one call a line. */
function stubs(dir: string): { env: Record<string, string>; calls: () => string[] } {
  const bin = join(dir, "stub-bin");
  mkdirSync(bin, { recursive: true });
  const log = join(dir, "systemctl.log");
  writeFileSync(join(bin, "systemctl"), `#!/bin/sh\necho "$*" >>${log}\n`);
  chmodSync(join(bin, "systemctl"), 0o755);
  return {
    env: { PATH: `${bin}:/usr/bin:/bin`, SLUICE_INSTALL_ROOT: join(dir, "root") },
    calls: () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []),
  };
}

describe("kOps additionalUserData", () => {
  it("is shellcheck clean", async () => {
    const dir = tempDir();
    const { text } = await script(["--binary-url", "https://x.example/sluice", "--binary-sha512", sha512(FAKE_BINARY)]);
    writeFileSync(join(dir, "sluice.sh"), text);
    const r = await run(["shellcheck", "--shell=bash", "--severity=style", join(dir, "sluice.sh")]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("notes updatePolicy next to the entry", async () => {
    const { userData } = await script(["--binary-url", "https://x.example/sluice", "--binary-sha512", sha512(FAKE_BINARY)]);
    expect(userData).toMatch(/^# .*updatePolicy/m);
  });

  it("installs everything on the first run, and on the second downloads nothing and restarts nothing", async () => {
    const dir = tempDir();
    const { env, calls } = stubs(dir);
    const root = env.SLUICE_INSTALL_ROOT!;
    mkdirSync(join(root, "etc/flatcar"), { recursive: true });
    writeFileSync(join(root, "etc/flatcar/update.conf"), "GROUP=stable");
    const { text } = await script(["--binary-url", server.url("/sluice.gz"), "--binary-gzip", "--binary-sha512", sha512(FAKE_BINARY)]);
    writeFileSync(join(dir, "sluice.sh"), text);

    const first = await run(["bash", join(dir, "sluice.sh")], { env });
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(server.hits.get("/sluice.gz")).toBe(1);
    expect(readFileSync(join(root, "opt/bin/sluice"))).toEqual(FAKE_BINARY);
    expect(statSync(join(root, "opt/bin/sluice")).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(root, "etc/sluice/config.yaml"), "utf8")).toBe(readFileSync(CONFIG, "utf8"));
    expect(readFileSync(join(root, "etc/sluice/kubeconfig"), "utf8")).toBe(readFileSync(KUBECONFIG, "utf8"));
    expect(statSync(join(root, "etc/sluice/kubeconfig")).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, "etc/sluice/config.yaml")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(root, "etc/flatcar/update.conf"), "utf8")).toBe("GROUP=stable\nREBOOT_STRATEGY=off\n");
    expect(readFileSync(join(root, "etc/systemd/logind.conf.d/60-sluice-inhibit-delay.conf"), "utf8")).toContain("InhibitDelayMaxSec=45\n");
    expect(readFileSync(join(root, "etc/systemd/system/sluice.service"), "utf8")).toContain("ExecStart=/opt/bin/sluice run\n");
    expect(calls()).toEqual([
      "daemon-reload",
      "kill --signal=SIGHUP systemd-logind.service",
      "enable sluice.service",
      "mask --now locksmithd.service",
      "restart sluice.service",
    ]);

    const again = await run(["bash", join(dir, "sluice.sh")], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(server.hits.get("/sluice.gz")).toBe(1);
    expect(readFileSync(join(root, "etc/flatcar/update.conf"), "utf8")).toBe("GROUP=stable\nREBOOT_STRATEGY=off\n");
    expect(calls().slice(5)).toEqual(["enable sluice.service", "mask --now locksmithd.service", "start sluice.service"]);

    // The unit it wrote is one systemd accepts, with the executable it downloaded.
    mkdirSync(join(root, "usr/lib/systemd"), { recursive: true });
    await run(["cp", "-a", "/usr/lib/systemd/system", join(root, "usr/lib/systemd/")]);
    const verify = await run(["systemd-analyze", "verify", `--root=${root}`, "sluice.service"]);
    expect(verify.stdout + verify.stderr).toBe("");
  });

  it("a new release (another sha512) is downloaded and restarts sluice", async () => {
    const dir = tempDir();
    const { env, calls } = stubs(dir);
    const root = env.SLUICE_INSTALL_ROOT!;
    mkdirSync(join(root, "opt/bin"), { recursive: true });
    writeFileSync(join(root, "opt/bin/sluice"), "old release");
    const { text } = await script(["--binary-url", server.url("/sluice"), "--binary-sha512", sha512(FAKE_BINARY)]);
    writeFileSync(join(dir, "sluice.sh"), text);
    expect((await run(["bash", join(dir, "sluice.sh")], { env })).code).toBe(0);
    expect(readFileSync(join(root, "opt/bin/sluice"))).toEqual(FAKE_BINARY);
    expect(calls().at(-1)).toBe("restart sluice.service");
  });

  it("refuses a download whose sha512 does not match and leaves the old executable alone", async () => {
    const dir = tempDir();
    const { env, calls } = stubs(dir);
    const root = env.SLUICE_INSTALL_ROOT!;
    mkdirSync(join(root, "opt/bin"), { recursive: true });
    writeFileSync(join(root, "opt/bin/sluice"), "old release");
    const { text } = await script(["--binary-url", server.url("/sluice"), "--binary-sha512", sha512("tampered")]);
    writeFileSync(join(dir, "sluice.sh"), text);
    const r = await run(["bash", join(dir, "sluice.sh")], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("does not match its sha512");
    expect(readFileSync(join(root, "opt/bin/sluice"), "utf8")).toBe("old release");
    expect(calls()).toEqual([]);
  });

  it.each([
    ["a 404", "/missing", false],
    ["garbage instead of gzip", "/sluice", true],
  ])("a download that fails (%s) stops the script, keeps the old executable and leaves no temporary file", async (_name, path, gzip) => {
    const dir = tempDir();
    const { env, calls } = stubs(dir);
    const root = env.SLUICE_INSTALL_ROOT!;
    mkdirSync(join(root, "opt/bin"), { recursive: true });
    writeFileSync(join(root, "opt/bin/sluice"), "old release");
    const { text } = await script(["--binary-url", server.url(path), "--binary-sha512", sha512(FAKE_BINARY), ...(gzip ? ["--binary-gzip"] : [])]);
    writeFileSync(join(dir, "sluice.sh"), text);
    const r = await run(["bash", join(dir, "sluice.sh")], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cannot download");
    expect(readdirSync(join(root, "opt/bin"))).toEqual(["sluice"]);
    expect(readFileSync(join(root, "opt/bin/sluice"), "utf8")).toBe("old release");
    expect(calls()).toEqual([]);
  });

  it("quotes hostile configuration text exactly", async () => {
    const dir = tempDir();
    const nasty = "# it's $(touch /tmp/pwned) `id` \\\n#'\"\n#EOF\n\n#  trailing spaces  \n";
    writeFileSync(join(dir, "c.yaml"), `${nasty}concurrency: 2`);
    const { env } = stubs(dir);
    const r0 = await render(["kops", "--config", join(dir, "c.yaml"), "--kubeconfig", KUBECONFIG, "--binary-url", server.url("/sluice"), "--binary-sha512", sha512(FAKE_BINARY)]);
    expect(r0.code).toBe(0);
    writeFileSync(join(dir, "sluice.sh"), parse(r0.stdout).spec.additionalUserData[0].content);
    expect((await run(["bash", join(dir, "sluice.sh")], { env })).code).toBe(0);
    expect(readFileSync(join(env.SLUICE_INSTALL_ROOT!, "etc/sluice/config.yaml"), "utf8")).toBe(`${nasty}concurrency: 2`);
  });

  it("installs the sysext variant with its link", async () => {
    const dir = tempDir();
    const { env } = stubs(dir);
    const image = Buffer.from("image bytes");
    await server.close();
    server = await serve({ "/sluice-2.0-x86-64.raw": image });
    const r0 = await render(["kops", "--sysext", "--config", CONFIG, "--kubeconfig", KUBECONFIG, "--sysext-url", server.url("/sluice-2.0-x86-64.raw"), "--sysext-sha512", sha512(image), "--sysext-version", "2.0"]);
    expect(r0.code, r0.stderr).toBe(0);
    writeFileSync(join(dir, "sluice.sh"), parse(r0.stdout).spec.additionalUserData[0].content);
    const r = await run(["bash", join(dir, "sluice.sh")], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(readlinkSync(join(env.SLUICE_INSTALL_ROOT!, "etc/extensions/sluice.raw"))).toBe("/opt/extensions/sluice/sluice-2.0-x86-64.raw");
  });
});
