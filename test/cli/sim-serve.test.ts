import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CliContext } from "../../agent/cli/context";
import { main } from "../../agent/cli/main";
import { Logger } from "../../agent/log";
import { Capture, tempDir } from "../helpers/tmp";

function context() {
  const stderr = new Capture();
  const controller = new AbortController();
  const ctx: CliContext = { env: {}, stdout: new Capture(), stderr, log: new Logger({ sink: stderr, journald: true }), signal: controller.signal };
  return { ctx, stderr, controller };
}

describe("sluice sim serve", () => {
  it("serves Nodes and workload pods on loopback, with a 0600 kubeconfig that client-node uses, until stopped", async () => {
    const dir = tempDir();
    const kubeconfig = join(dir, "kubeconfig");
    const { ctx, stderr, controller } = context();
    const done = main(["sim", "serve", "--nodes", "a,b", "--pods-per-node", "3", "--kubeconfig-out", kubeconfig], ctx);
    await expect.poll(() => existsSync(kubeconfig) && stderr.text.includes("sim API server ready"), { timeout: 10_000 }).toBe(true);
    expect(statSync(kubeconfig).mode & 0o777).toBe(0o600);
    const kc = new KubeConfig();
    kc.loadFromString(readFileSync(kubeconfig, "utf8"));
    expect(kc.getCurrentCluster()?.server).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const core = kc.makeApiClient(CoreV1Api);
    const nodes = await core.listNode();
    expect(nodes.items.map((n) => n.metadata?.name).sort()).toEqual(["a", "b"]);
    const pods = await core.listNamespacedPod({ namespace: "apps" });
    expect(pods.items).toHaveLength(6);
    expect(new Set(pods.items.map((p) => p.spec?.nodeName))).toEqual(new Set(["a", "b"]));
    controller.abort("SIGTERM");
    expect(await done).toBe(0);
    await expect(core.listNode()).rejects.toThrow();
  });

  it("rejects bad arguments with 64", async () => {
    for (const args of [["--nodes", "Bad_Name"], ["--port", "70000"], ["--pods-per-node", "-1"]]) {
      const { ctx, stderr } = context();
      expect(await main(["sim", "serve", ...args], ctx)).toBe(64);
      expect(stderr.text).toMatch(/expected/);
    }
  });
});
