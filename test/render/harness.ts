/**
 * Shared by the render suites: render through the real CLI entry, a loopback HTTP server that
 * counts requests, async process runs with a timeout (the HTTP server lives in this process, so
 * nothing may block it), and a scratch root Ignition can write to.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, cpSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { CliContext } from "../../agent/cli/context";
import { main } from "../../agent/cli/main";
import { Logger } from "../../agent/log";
import { Capture } from "../helpers/tmp";

export const ROOT = new URL("../../", import.meta.url).pathname;
export const IGNITION = "/usr/lib/dracut/modules.d/30ignition/ignition";

export async function render(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const ctx: CliContext = { env: {}, stdout, stderr, log: new Logger({ sink: stderr, journald: true }), signal: new AbortController().signal };
  const code = await main(["render", ...args], ctx);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

export function sha512(data: Buffer | string): string {
  return createHash("sha512").update(data).digest("hex");
}

export interface Served {
  url(name: string): string;
  /** Requests per path. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

/** Serves `files` (path → bytes) on 127.0.0.1; any other path is 404. */
export async function serve(files: Record<string, Buffer | string>): Promise<Served> {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? "/";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const body = files[path];
    if (body === undefined) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return { url: (name) => `http://127.0.0.1:${port}${name}`, hits, close: () => new Promise((r) => server.close(() => r())) };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(argv: string[], opts: { env?: Record<string, string | undefined>; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 60_000, cwd: opts.cwd, maxBuffer: 64 << 20, encoding: "utf8" }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A stand-in for the executable: small, runnable, and recognisable once installed. */
export const FAKE_BINARY = Buffer.from("#!/bin/sh\necho 'sluice stand-in'\n");
export const FAKE_BINARY_GZ = gzipSync(FAKE_BINARY);

/**
 * A scratch root as Ignition's files stage needs it (an SELinux config it reads, a setfiles on
 * PATH it calls), plus the systemd units of this machine, so that `systemd-analyze verify
 * --root` finds sysinit.target and network-online.target as on a real host.
 */
export function scratchRoot(dir: string): { root: string; bin: string } {
  const root = join(dir, "root");
  const bin = join(dir, "bin");
  mkdirSync(join(root, "etc/selinux"), { recursive: true });
  writeFileSync(join(root, "etc/selinux/config"), "SELINUX=disabled\nSELINUXTYPE=targeted\n");
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "setfiles"), "#!/bin/sh\ncat >/dev/null\nexit 0\n");
  chmodSync(join(bin, "setfiles"), 0o755);
  mkdirSync(join(root, "usr/lib/systemd"), { recursive: true });
  cpSync("/usr/lib/systemd/system", join(root, "usr/lib/systemd/system"), { recursive: true, verbatimSymlinks: true });
  return { root, bin };
}

/** Ignition's two stages against a scratch root, as the initramfs runs them. */
export async function applyIgnition(configFile: string, dir: string, root: string, bin: string): Promise<RunResult> {
  const env = { PATH: `${bin}:${process.env.PATH}`, IGNITION_CONFIG_FILE: configFile };
  let last: RunResult = { code: 0, stdout: "", stderr: "" };
  for (const stage of ["fetch-offline", "files"]) {
    const argv = [IGNITION, "-platform", "file", "-stage", stage, "-root", root, "-config-cache", join(dir, "cache.json"), "-state-file", join(dir, "state.json"), "-neednet", join(dir, "neednet"), "-log-to-stdout"];
    // Ignition retries an unreachable source forever: the timeout turns that into a failure.
    last = await run(argv, { env, timeoutMs: 30_000 });
    if (last.code !== 0) return { ...last, stderr: `${stage}: ${last.stderr}${last.stdout.split("\n").filter((l) => /CRITICAL|ERROR/.test(l)).join("\n")}` };
  }
  return last;
}
