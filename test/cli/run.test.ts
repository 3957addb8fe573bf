/**
 * `sluice run` in-process, against the in-memory API server: it starts, reconciles, says it is
 * ready, reboots through its rebootCommand when the sentinel appears, and stops with 0 on SIGTERM
 * (keeping what it holds). The built executable is tested the same way in test/build.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CliContext } from "../../agent/cli/context";
import { main } from "../../agent/cli/main";
import { Logger } from "../../agent/log";
import { SimCluster, SimServer } from "../../agent/sim";
import { Capture, tempDir } from "../helpers/tmp";

function context(env: Record<string, string> = {}) {
  const stdout = new Capture();
  const stderr = new Capture();
  const controller = new AbortController();
  const ctx: CliContext = { env, stdout, stderr, log: new Logger({ sink: stderr, journald: true }), signal: controller.signal };
  return { ctx, stdout, stderr, controller };
}

let server: SimServer | undefined;
let cluster: SimCluster | undefined;
afterEach(async () => {
  cluster?.stop();
  await server?.stop();
  server = cluster = undefined;
});

describe("sluice run", () => {
  it("starts against the API server, reboots with its rebootCommand when the sentinel appears, and stops with 0 on SIGTERM", async () => {
    server = await new SimServer({ namespaces: ["sluice"] }).start();
    cluster = new SimCluster(server);
    cluster.addNode("node-a");
    const dir = tempDir();
    writeFileSync(join(dir, "kubeconfig"), server.kubeconfigYaml(), { mode: 0o600 });
    const calls = join(dir, "reboot-calls");
    const sentinel = join(dir, "reboot-required");
    writeFileSync(
      join(dir, "c.yaml"),
      [`kubeconfig: ${dir}/kubeconfig`, `stateDir: ${dir}`, `rebootSentinel: ${sentinel}`, "updateEngine: off", "metricsPort: 0", `rebootCommand: ["sh", "-c", "echo called >> ${calls}"]`, `inhibitPaths: ["${dir}/inhibit"]`].join("\n"),
    );
    const { ctx, stdout, controller } = context({ JOURNAL_STREAM: "1:2" });
    const done = main(["run", "-c", join(dir, "c.yaml"), "--node-name", "node-a"], ctx);
    await expect.poll(() => stdout.text, { timeout: 10_000 }).toContain("sluice ready");
    await expect.poll(() => stdout.text, { timeout: 10_000 }).toContain("sluice started");
    writeFileSync(sentinel, "");
    await expect.poll(() => existsSync(calls), { timeout: 15_000 }).toBe(true);
    expect(readFileSync(calls, "utf8")).toBe("called\n");
    expect(server.store.get("/nodes", "node-a")?.spec?.unschedulable).toBe(true);
    controller.abort("SIGTERM");
    expect(await done).toBe(0);
    expect(stdout.text).toMatch(/<5>idle → pending: reboot required/);
    expect(stdout.text).toMatch(/<5>draining → rebooting: drained/);
    expect(stdout.lines.at(-1)).toMatch(/^<5>sluice stopped phase=rebooting keeps=sluice-default-0/);
    // The slot stays held through a stop mid-reboot.
    const lease = server.store.get("coordination.k8s.io/leases", "sluice/sluice-default-0");
    expect(lease?.spec?.holderIdentity).toBe("node-a");
    expect(JSON.parse(readFileSync(join(dir, "state.json"), "utf8")).state.phase).toBe("rebooting");
  });

  it("exits 78 when the kubeconfig does not exist", async () => {
    const dir = tempDir();
    const { ctx, stderr } = context();
    expect(await main(["run", "--config-dir", dir, "--kubeconfig", join(dir, "absent"), "--node-name", "n"], ctx)).toBe(78);
    expect(stderr.text).toContain(`kubeconfig: ${dir}/absent does not exist`);
  });
});
