/**
 * `sluice lock` through its commander command, a real kubeconfig file (mode 600) and the sim
 * server on loopback: list, release (refused mid-reboot unless --force), pause and resume.
 */
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { afterEach, describe, expect, it } from "vitest";
import { lockCommand } from "../../agent/cli/commands/lock";
import type { CliContext } from "../../agent/cli/context";
import { Logger } from "../../agent/log";
import { ExitError } from "../../agent/ports";
import type { SimServer } from "../../agent/sim";
import { Capture, tempDir } from "../helpers/tmp";
import { LEASES, SimClock, addNode, makeLock, startSim } from "./harness";

let server: SimServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function setup() {
  const sim = await startSim();
  server = sim.server;
  const dir = tempDir();
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(kubeconfig, sim.server.kubeconfigYaml());
  chmodSync(kubeconfig, 0o600);
  const config = join(dir, "config.yaml");
  writeFileSync(config, `configuration:\n  kubeconfig: ${kubeconfig}\n  concurrency: 2\n  namespace: sluice\n`);
  /** Runs `sluice lock ...args`; returns the exit code as main() would, and the output. */
  const sluice = async (...args: string[]) => {
    const stdout = new Capture();
    const stderr = new Capture();
    const ctx: CliContext = { env: {}, stdout, stderr, log: new Logger({ sink: stderr }), signal: new AbortController().signal };
    const program = new Command("sluice").exitOverride().addCommand(lockCommand(ctx).exitOverride());
    const [sub, ...rest] = args;
    let code = 0;
    try {
      await program.parseAsync(["lock", sub, "--config", config, ...rest], { from: "user" });
    } catch (err) {
      if (err instanceof ExitError) {
        code = err.exitCode;
        stderr.write(`${err.code}: ${err.message}\n`);
      } else throw err;
    }
    return { code, out: stdout.text, err: stderr.text };
  };
  return { ...sim, sluice };
}

describe("sluice lock", () => {
  it("lists slots, holders, phase, age and the queue; --json for machines", async () => {
    const env = await setup();
    const { server, sluice } = env;
    for (const n of ["a", "b", "c"]) addNode(server, n);
    // `sluice lock list` measures ages on the real clock: the holder's wall clock starts there too.
    const a = makeLock(env, "a", { concurrency: 2 }, { clock: new SimClock(Date.now()) });
    await a.start();
    await a.acquire({ needSince: Date.UTC(2026, 0, 5, 8), bootId: "x" });
    await a.setPhase("rebooting");
    // Two waiters recorded directly, as agents that are waiting for a slot leave them.
    for (const [node, h] of [["c", 7], ["b", 9]] as const) {
      server.apply({
        apiVersion: "coordination.k8s.io/v1", kind: "Lease",
        metadata: { name: `sluice-default-wait-${node}`, namespace: "sluice", labels: { "sluice.dev/group": "default", "sluice.dev/role": "waiter" } },
        spec: { holderIdentity: node, acquireTime: `2026-01-05T0${h}:00:00.000000Z` },
      });
    }
    const r = await sluice("list");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/group default in namespace sluice: 2 slots, not paused/);
    expect(r.out).toMatch(/sluice-default-0\s+a\s+rebooting\s+\d+s/);
    expect(r.out).toMatch(/sluice-default-1\s+-\s+free/);
    expect(r.out).toMatch(/queue \(2 waiting, next first\):\n\s+1\. c .*\n\s+2\. b /);
    const j = JSON.parse((await sluice("list", "--json")).out);
    expect(j.slots.map((s: { holder: string }) => s.holder)).toEqual(["a", ""]);
    expect(j.queue.map((w: { node: string }) => w.node)).toEqual(["c", "b"]);
    await a.stop();
  });

  it("refuses to release a slot mid-reboot without --force, releases with it", async () => {
    const env = await setup();
    const { server, sluice } = env;
    addNode(server, "a");
    const a = makeLock(env, "a", { concurrency: 2 });
    await a.start();
    await a.acquire({ needSince: 1, bootId: "x" });
    await a.setPhase("rebooting");
    await a.stop();
    const refused = await sluice("release", "0");
    expect(refused.code).toBe(69);
    expect(refused.err).toMatch(/lock-slot-busy: a holds sluice-default-0 and is rebooting/);
    expect(server.store.get(LEASES, "sluice/sluice-default-0")!.spec.holderIdentity).toBe("a");
    const forced = await sluice("release", "sluice-default-0", "--force");
    expect(forced.code).toBe(0);
    expect(forced.out).toBe("released sluice-default-0 (was held by a, rebooting)\n");
    expect(server.store.get(LEASES, "sluice/sluice-default-0")!.spec.holderIdentity).toBeUndefined();
    expect((await sluice("release", "1")).out).toBe("sluice-default-1 was already free\n");
    expect((await sluice("release", "other-0")).code).toBe(64);
  });

  it("pauses and resumes the group", async () => {
    const { sluice } = await setup();
    expect((await sluice("pause")).out).toBe("group default paused\n");
    expect((await sluice("pause")).out).toBe("group default was already paused\n");
    expect((await sluice("list")).out).toMatch(/PAUSED by \S+@\S+ since/);
    expect((await sluice("resume")).out).toBe("group default resumed\n");
    expect((await sluice("resume")).out).toBe("group default was not paused\n");
  });

  it("answers 69 when the API server is unreachable", async () => {
    const { sluice } = await setup();
    await server!.stop();
    server = undefined;
    const r = await sluice("list");
    expect(r.code).toBe(69);
    expect(r.err).toMatch(/kube-unavailable/);
  });
});
