/**
 * `sluice run` in-process, against the in-memory API server: it starts, reconciles, says it is
 * ready, reboots through its rebootCommand when the sentinel appears, and stops with 0 on SIGTERM
 * (keeping what it holds). The built executable is tested the same way in test/build.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../agent/cli/main";
import { SimCluster, SimServer } from "../../agent/sim";
import { tempDir } from "../helpers/tmp";
import { cliContext } from "../helpers/cli";

const context = cliContext;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
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
    const port = await freePort();
    const received: string[] = [];
    const receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => (received.push(body), res.end()));
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    const hook = `generic+http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const { ctx, stdout, controller } = context({ JOURNAL_STREAM: "1:2" });
    const done = main(["run", "-c", join(dir, "c.yaml"), "--node-name", "node-a", "--metrics-port", String(port), "--notify-url", hook], ctx);
    await expect.poll(() => stdout.text, { timeout: 10_000 }).toContain("sluice ready");
    await expect.poll(() => stdout.text, { timeout: 10_000 }).toContain("sluice started");
    writeFileSync(sentinel, "");
    await expect.poll(() => existsSync(calls), { timeout: 15_000 }).toBe(true);
    expect(readFileSync(calls, "utf8")).toBe("called\n");
    expect(server.store.get("/nodes", "node-a")?.spec?.unschedulable).toBe(true);
    const scrape = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(scrape).toMatch(/^sluice_state\{state="rebooting"\} 1$/m);
    expect(scrape).toMatch(/^sluice_lock_held 1$/m);
    expect(scrape).toMatch(/^sluice_info\{version="[^"]+",node="node-a",group="default"\} 1$/m);
    await expect.poll(() => received.join("\n"), { timeout: 5000 }).toContain("Rebooting node node-a");
    expect(received.join("\n")).toContain("Draining node node-a");
    receiver.close();
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

  it("a SIGTERM while it waits for its Node to be registered is a clean stop (0)", async () => {
    server = await new SimServer({ namespaces: ["sluice"] }).start();
    const dir = tempDir();
    writeFileSync(join(dir, "kubeconfig"), server.kubeconfigYaml(), { mode: 0o600 });
    const { ctx, stdout, stderr, controller } = context({ JOURNAL_STREAM: "1:2" });
    const done = main(["run", "--config-dir", dir, "--kubeconfig", join(dir, "kubeconfig"), "--node-name", "not-yet", "--state-dir", dir, "--update-engine", "off", "--metrics-port", "0", "--reboot-sentinel", join(dir, "rr")], ctx);
    await expect.poll(() => stdout.text, { timeout: 10_000 }).toContain("waiting for this host's Node to be registered");
    controller.abort("SIGTERM");
    expect(await done).toBe(0);
    expect(stderr.text).not.toContain("internal error");
  });

  it("exits 69 when the metrics port is taken", async () => {
    server = await new SimServer({ namespaces: ["sluice"] }).start();
    const dir = tempDir();
    writeFileSync(join(dir, "kubeconfig"), server.kubeconfigYaml(), { mode: 0o600 });
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    const port = (taken.address() as AddressInfo).port;
    const { ctx, stderr } = context();
    try {
      expect(await main(["run", "--config-dir", dir, "--kubeconfig", join(dir, "kubeconfig"), "--node-name", "n", "--state-dir", dir, "--update-engine", "off", "--metrics-port", String(port)], ctx)).toBe(69);
      expect(stderr.text).toContain(`metrics: cannot listen on 127.0.0.1:${port}`);
    } finally {
      taken.close();
    }
  });

  it("exits 78 when the kubeconfig does not exist", async () => {
    const dir = tempDir();
    const { ctx, stderr } = context();
    expect(await main(["run", "--config-dir", dir, "--kubeconfig", join(dir, "absent"), "--node-name", "n"], ctx)).toBe(78);
    expect(stderr.text).toContain(`kubeconfig: ${dir}/absent does not exist`);
  });
});
