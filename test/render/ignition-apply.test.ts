/**
 * The rendered Ignition config applied by the real Ignition (Debian's 2.14) to a scratch root,
 * the executable served over loopback and checked against its sha512; then systemd's own
 * verifier on the result.
 */
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/tmp";
import { FAKE_BINARY, FAKE_BINARY_GZ, ROOT, applyIgnition, render, run, scratchRoot, serve, sha512, type Served } from "./harness";

const CONFIG = join(ROOT, "butane/example/config.yaml");
const KUBECONFIG = join(ROOT, "butane/example/kubeconfig");

let server: Served;
beforeEach(async () => {
  server = await serve({ "/sluice": FAKE_BINARY, "/sluice.gz": FAKE_BINARY_GZ, "/kubeconfig": readFileSync(KUBECONFIG) });
});
afterEach(() => server.close());

async function renderTo(dir: string, args: string[]): Promise<string> {
  const r = await render(["ignition", "--config", CONFIG, "--shutdown-grace-period", "90s", ...args]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const file = join(dir, "config.ign");
  writeFileSync(file, r.stdout);
  const v = await run(["ignition-validate", file]);
  expect(v.stdout + v.stderr).toBe("");
  expect(v.code).toBe(0);
  return file;
}

const mode = (p: string) => statSync(p).mode & 0o7777;

describe("Ignition applies the rendered config", () => {
  it("writes the executable (sha512 verified), config, kubeconfig 0600, unit enabled, locksmithd masked, update.conf and the logind drop-in", async () => {
    const dir = tempDir();
    const { root, bin } = scratchRoot(dir);
    // A host whose update.conf already names its update group: the group must survive.
    mkdirSync(join(root, "etc/flatcar"), { recursive: true });
    writeFileSync(join(root, "etc/flatcar/update.conf"), "GROUP=beta\n");
    const file = await renderTo(dir, ["--kubeconfig", KUBECONFIG, "--binary-url", server.url("/sluice"), "--binary-sha512", sha512(FAKE_BINARY)]);

    const r = await applyIgnition(file, dir, root, bin);
    expect(r.stderr, r.stdout.slice(-2000)).toBe("");
    expect(r.code).toBe(0);
    expect(server.hits.get("/sluice")).toBe(1);

    expect(readFileSync(join(root, "opt/bin/sluice"))).toEqual(FAKE_BINARY);
    expect(mode(join(root, "opt/bin/sluice"))).toBe(0o755);
    expect(readFileSync(join(root, "etc/sluice/config.yaml"), "utf8")).toBe(readFileSync(CONFIG, "utf8"));
    expect(mode(join(root, "etc/sluice/config.yaml"))).toBe(0o600);
    expect(readFileSync(join(root, "etc/sluice/kubeconfig"), "utf8")).toBe(readFileSync(KUBECONFIG, "utf8"));
    expect(mode(join(root, "etc/sluice/kubeconfig"))).toBe(0o600);
    expect(readFileSync(join(root, "etc/flatcar/update.conf"), "utf8")).toBe("GROUP=beta\nREBOOT_STRATEGY=off\n");
    expect(readFileSync(join(root, "etc/systemd/logind.conf.d/60-sluice-inhibit-delay.conf"), "utf8")).toContain("\nInhibitDelayMaxSec=90\n");
    expect(readFileSync(join(root, "etc/systemd/system/sluice.service"), "utf8")).toContain("ExecStart=/opt/bin/sluice run\n");
    expect(lstatSync(join(root, "etc/systemd/system/locksmithd.service")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(root, "etc/systemd/system/locksmithd.service"))).toBe("/dev/null");
    expect(readFileSync(join(root, "etc/systemd/system-preset/20-ignition.preset"), "utf8").split("\n")).toContain("enable sluice.service");

    const verify = await run(["systemd-analyze", "verify", `--root=${root}`, "sluice.service"]);
    expect(verify.stdout + verify.stderr).toBe("");
  });

  it("decompresses a gzip-served executable and checks the sha512 of what it unpacked; fetches a kubeconfig by URL", async () => {
    const dir = tempDir();
    const { root, bin } = scratchRoot(dir);
    const kube = readFileSync(KUBECONFIG);
    const file = await renderTo(dir, ["--kubeconfig-url", server.url("/kubeconfig"), "--kubeconfig-sha512", sha512(kube), "--binary-url", server.url("/sluice.gz"), "--binary-gzip", "--binary-sha512", sha512(FAKE_BINARY)]);
    const r = await applyIgnition(file, dir, root, bin);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(root, "opt/bin/sluice"))).toEqual(FAKE_BINARY);
    expect(readFileSync(join(root, "etc/sluice/kubeconfig"))).toEqual(kube);
    expect(mode(join(root, "etc/sluice/kubeconfig"))).toBe(0o600);
  });

  it("refuses an executable whose sha512 does not match: the boot fails, nothing is installed", async () => {
    const dir = tempDir();
    const { root, bin } = scratchRoot(dir);
    const file = await renderTo(dir, ["--kubeconfig", KUBECONFIG, "--binary-url", server.url("/sluice"), "--binary-sha512", sha512("something else")]);
    const r = await applyIgnition(file, dir, root, bin);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/hash|verif/i);
    expect(existsSync(join(root, "opt/bin/sluice"))).toBe(false);
  });

  it("installs the sysext variant: the image, the active link, the sysupdate transfer and timer", async () => {
    const dir = tempDir();
    const { root, bin } = scratchRoot(dir);
    const image = Buffer.from("not really squashfs, Ignition only copies it");
    await server.close();
    server = await serve({ "/sluice-1.2.3-x86-64.raw": image });
    const file = await renderTo(dir, ["--kubeconfig", KUBECONFIG, "--sysext", "--sysext-url", server.url("/sluice-1.2.3-x86-64.raw"), "--sysext-sha512", sha512(image), "--sysext-version", "1.2.3", "--sysext-update-url", server.url("/")]);
    const r = await applyIgnition(file, dir, root, bin);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(root, "opt/extensions/sluice/sluice-1.2.3-x86-64.raw"))).toEqual(image);
    expect(readlinkSync(join(root, "etc/extensions/sluice.raw"))).toBe("/opt/extensions/sluice/sluice-1.2.3-x86-64.raw");
    const transfer = readFileSync(join(root, "etc/sysupdate.sluice.d/sluice.conf"), "utf8");
    expect(transfer).toContain(`Path=${server.url("/")}\n`);
    expect(transfer).toContain("CurrentSymlink=/etc/extensions/sluice.raw\n");
    expect(readFileSync(join(root, "etc/systemd/system/systemd-sysupdate.service.d/sluice.conf"), "utf8")).toContain("systemd-sysupdate -C sluice update");
    const preset = readFileSync(join(root, "etc/systemd/system-preset/20-ignition.preset"), "utf8").split("\n");
    expect(preset).toContain("enable systemd-sysupdate.timer");
    // The unit comes from the image, not from Ignition.
    expect(existsSync(join(root, "etc/systemd/system/sluice.service"))).toBe(false);
    expect(existsSync(join(root, "opt/bin/sluice"))).toBe(false);
  });
});
