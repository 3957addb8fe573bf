import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KUBE_VERSIONS as CLI_VERSIONS } from "../../agent/cli/commands/sim";
import { main } from "../../agent/cli/main";
import { KUBE_VERSIONS } from "../../agent/sim";
import { tempDir } from "../helpers/tmp";
import { cliContext } from "../helpers/cli";

const context = () => cliContext();

/** Starts `sim serve` through main(); resolves with its kubeconfig once it is ready. */
async function serve(args: string[]) {
  const kubeconfig = join(tempDir(), "kubeconfig");
  const { ctx, stderr, controller } = context();
  const done = main(["sim", "serve", "--kubeconfig-out", kubeconfig, ...args], ctx);
  await expect.poll(() => stderr.text.includes("sim API server ready") || stderr.text.includes("<3>"), { timeout: 10_000 }).toBe(true);
  const kc = new KubeConfig();
  kc.loadFromString(readFileSync(kubeconfig, "utf8"));
  const url = kc.getCurrentCluster()!.server;
  const token = kc.getCurrentUser()!.token!;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, { method, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };
  return { kubeconfig, kc, call, stderr, stop: async () => (controller.abort("SIGTERM"), await done) };
}

describe("sluice sim serve", () => {
  it("serves Nodes and workload pods on loopback, with a 0600 kubeconfig that client-node uses, until stopped", async () => {
    const s = await serve(["--nodes", "a,b", "--pods-per-node", "3"]);
    expect(statSync(s.kubeconfig).mode & 0o777).toBe(0o600);
    expect(s.kc.getCurrentCluster()?.server).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const core = s.kc.makeApiClient(CoreV1Api);
    const nodes = await core.listNode();
    expect(nodes.items.map((n) => n.metadata?.name).sort()).toEqual(["a", "b"]);
    const pods = await core.listNamespacedPod({ namespace: "apps" });
    expect(pods.items).toHaveLength(6);
    expect(new Set(pods.items.map((p) => p.spec?.nodeName))).toEqual(new Set(["a", "b"]));
    expect(await s.stop()).toBe(0);
    await expect(core.listNode()).rejects.toThrow();
  });

  it("answers as v1.28 by default and as v1.20 with --kube-version 1.20", async () => {
    const v128 = await serve(["--nodes", "a", "--pods-per-node", "0"]);
    expect((await v128.call("GET", "/version")).body.minor).toBe("28");
    expect((await v128.call("GET", "/apis/policy")).body.versions).toEqual([{ groupVersion: "policy/v1", version: "v1" }]);
    expect(await v128.stop()).toBe(0);
    const v120 = await serve(["--nodes", "a", "--pods-per-node", "0", "--kube-version", "1.20"]);
    expect((await v120.call("GET", "/apis/policy")).body.versions).toEqual([{ groupVersion: "policy/v1beta1", version: "v1beta1" }]);
    expect((await v120.call("GET", "/apis/policy/v1")).status).toBe(404);
    expect(await v120.stop()).toBe(0);
    expect([...CLI_VERSIONS]).toEqual([...KUBE_VERSIONS]);
  });

  it("refuses the Lease durations a real server refuses", async () => {
    const s = await serve(["--nodes", "a", "--pods-per-node", "0"]);
    const lease = (name: string, spec: Record<string, unknown>) => ({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name }, spec: { holderIdentity: "a", ...spec } });
    const post = (name: string, spec: Record<string, unknown>) => s.call("POST", "/apis/coordination.k8s.io/v1/namespaces/sluice/leases", lease(name, spec));
    expect((await post("zero", { leaseDurationSeconds: 0 })).body).toMatchObject({ code: 422, reason: "Invalid", details: { causes: [{ field: "spec.leaseDurationSeconds" }] } });
    expect((await post("neg", { leaseDurationSeconds: -5 })).status).toBe(422);
    expect((await post("big", { leaseDurationSeconds: 2 ** 31 })).body).toMatchObject({ code: 400, message: expect.stringContaining("of type int32") });
    expect((await post("frac", { leaseDurationSeconds: 1.5 })).status).toBe(400);
    expect((await post("str", { leaseDurationSeconds: "15" })).status).toBe(400);
    expect((await post("trans", { leaseDurationSeconds: 15, leaseTransitions: -1 })).status).toBe(422);
    expect((await post("max", { leaseDurationSeconds: 2 ** 31 - 1 })).status).toBe(201);
    expect(await s.stop()).toBe(0);
  });

  it("rejects bad arguments with 64, naming what is wrong", async () => {
    for (const [args, words] of [
      [["--nodes", "Bad_Name"], /"Bad_Name" is not one/],
      [["--nodes", "a,b,a"], /"a" is given twice/],
      [["--port", "70000"], /expected a port/],
      [["--pods-per-node", "-1"], /expected a whole number/],
      [["--kube-version", "1.24"], /expected one of 1\.28, 1\.20/],
      [["--kubeconfig-out", ""], /needs a file name/],
      [["--auth", join(tempDir(), "absent.yaml")], /cannot read the auth file .*ENOENT/],
    ] as const) {
      const { ctx, stderr } = context();
      expect({ args, code: await main(["sim", "serve", ...args], ctx) }).toEqual({ args, code: 64 });
      expect(stderr.text).toMatch(words);
      expect(stderr.text).not.toMatch(/\n\s+at /);
    }
  });

  it("fails with 78 on an auth file the server refuses, 69 on an unwritable kubeconfig or a port in use", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "auth.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: Not_A_Name}\n");
    writeFileSync(join(dir, "bad.yaml"), "users: [{token: ''}]\n");
    mkdirSync(join(dir, "ro"), { mode: 0o500 });
    const busy = createServer().listen(0, "127.0.0.1");
    await new Promise((r) => busy.once("listening", r));
    const busyPort = String((busy.address() as { port: number }).port);
    try {
      for (const [args, code, words] of [
        [["--auth", join(dir, "auth.yaml")], 78, /auth file: .*metadata\.name/],
        [["--auth", join(dir, "bad.yaml")], 78, /auth file:/],
        [["--kubeconfig-out", join(dir, "missing", "kubeconfig")], 69, /cannot write the kubeconfig .*ENOENT/],
        [["--kubeconfig-out", dir], 69, /cannot write the kubeconfig .*EISDIR/],
        [["--port", busyPort], 69, /the port is in use/],
      ] as const) {
        const { ctx, stderr } = context();
        expect({ args, code: await main(["sim", "serve", "--pods-per-node", "0", ...args], ctx) }).toEqual({ args, code });
        expect(stderr.text).toMatch(words);
        expect(stderr.text).not.toMatch(/\n\s+at /);
      }
    } finally {
      busy.close();
    }
  });

  // The process as an operator runs it: a failed start exits on its own; a good one stops on SIGTERM.
  const cli = (args: string[]) => {
    const child = spawn(process.execPath, ["--import", "tsx", "agent/cli/main.ts", "sim", "serve", "--pods-per-node", "0", ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    return { child, exited, stderr: () => err };
  };

  it("as a process: exits 69 without a stack trace when the kubeconfig cannot be written", async () => {
    const p = cli(["--kubeconfig-out", join(tempDir(), "no", "such", "dir", "kubeconfig")]);
    expect(await p.exited).toBe(69);
    expect(p.stderr()).toMatch(/cannot write the kubeconfig/);
    expect(p.stderr()).not.toMatch(/\n\s+at /);
  }, 30_000);

  it("as a process: stops with 0 on SIGTERM once ready", async () => {
    const kubeconfig = join(tempDir(), "kubeconfig");
    const p = cli(["--kubeconfig-out", kubeconfig]);
    await expect.poll(() => existsSync(kubeconfig) && p.stderr().includes("sim API server ready"), { timeout: 20_000 }).toBe(true);
    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  }, 30_000);
});
