/**
 * The guest's disk for one run: the cached base (build-image.sh) copied, then the project's own
 * rendered Ignition config applied to it by the real Ignition binary — the executable downloaded
 * over loopback and checked against its sha512 — so the unit, config and kubeconfig in the VM are
 * exactly what a Flatcar host gets; then `mkfs.ext4 -d` makes the disk without a loop mount.
 */
import { execFile } from "node:child_process";
import { chmodSync, cpSync, createReadStream, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { TOOL_ENV } from "./preflight";

export const IGNITION = "/usr/lib/dracut/modules.d/30ignition/ignition";

export interface Run {
  code: number | null;
  stdout: string;
  /** stdout and stderr, for messages. */
  out: string;
}

export function run(argv: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { env: opts.env ?? TOOL_ENV, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 << 20, encoding: "utf8" }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : null) : 0;
      resolve({ code, stdout, out: stdout + stderr });
    });
  });
}

/** The command's stdout; its whole output in the error if it fails. */
async function must(argv: string[], what: string, opts?: Parameters<typeof run>[1]): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0) throw new Error(`${what} failed (${r.code ?? "timed out"}): ${r.out.slice(-3000)}`);
  return r.stdout;
}

/** The cached base: rootfs/, vmlinuz, initrd.img. Builds it on a clean machine. */
export async function baseImage(repo: string): Promise<string> {
  const out = await must(["bash", join(repo, "scripts/e2e-vm/build-image.sh")], "building the guest image", { timeoutMs: 15 * 60_000 });
  return out.trim().split("\n").pop()!;
}

export interface GuestSetup {
  exe: string;
  /** The sluice configuration every host gets. */
  configYaml: string;
  kubeconfigYaml: string;
}

export async function prepareDisk(base: string, dir: string, g: GuestSetup): Promise<{ disk: string; ignition: string }> {
  writeFileSync(join(dir, "config.yaml"), g.configYaml);
  writeFileSync(join(dir, "kubeconfig"), g.kubeconfigYaml, { mode: 0o600 });
  const sha512 = readFileSync(`${g.exe}.sha512`, "utf8").split(/\s/)[0]!;
  const server = createServer((req, res) => {
    if (req.url !== "/sluice-linux-amd64") return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/octet-stream" });
    createReadStream(g.exe).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sluice-linux-amd64`;
    const ignition = join(dir, "sluice.ign");
    const rendered = await must([g.exe, "render", "ignition", "--config", join(dir, "config.yaml"), "--kubeconfig", join(dir, "kubeconfig"), "--binary-url", url, "--binary-sha512", sha512], "sluice render ignition");
    writeFileSync(ignition, rendered);
    await must(["ignition-validate", ignition], "ignition-validate");

    const root = join(dir, "root");
    rmSync(root, { recursive: true, force: true });
    cpSync(join(base, "rootfs"), root, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    // Ignition's files stage calls setfiles (SELinux relabelling); the guest has no SELinux.
    const bin = join(dir, "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "setfiles"), "#!/bin/sh\ncat >/dev/null\nexit 0\n");
    chmodSync(join(bin, "setfiles"), 0o755);
    const env = { ...TOOL_ENV, PATH: `${bin}:${TOOL_ENV.PATH}`, IGNITION_CONFIG_FILE: ignition };
    for (const stage of ["fetch-offline", "files"]) {
      const argv = [IGNITION, "-platform", "file", "-stage", stage, "-root", root, "-config-cache", join(dir, "ignition-cache.json"), "-state-file", join(dir, "ignition-state.json"), "-neednet", join(dir, "ignition-neednet"), "-log-to-stdout"];
      // Ignition retries an unreachable source forever: the timeout turns that into a failure.
      const r = await run(argv, { env, timeoutMs: 120_000 });
      writeFileSync(join(dir, `ignition-${stage}.log`), r.out);
      if (r.code !== 0) throw new Error(`ignition stage ${stage} failed (${r.code ?? "timed out"}): ${r.out.split("\n").filter((l) => /CRITICAL|ERROR/.test(l)).join("\n").slice(-3000)}`);
    }
    const disk = join(dir, "disk.raw");
    rmSync(disk, { force: true });
    await must(["mkfs.ext4", "-q", "-F", "-L", "root", "-d", root, disk, "2G"], "mkfs.ext4 -d");
    rmSync(root, { recursive: true, force: true });
    return { disk, ignition };
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}
