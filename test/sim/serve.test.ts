/**
 * `serveSim` as `sluice sim serve` runs it (a free port, a kubeconfig written with mode 0600, the
 * simulated cluster) driven through that kubeconfig by client-node, then stopped by its signal;
 * and `scaledClock`, the demo's sped-up real clock.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { Logger, nullLogger } from "../../agent/log";
import { FakeClock } from "../../agent/ports/fake-clock";
import { scaledClock, serveSim } from "../../agent/sim";
import { Capture, tempDir } from "../helpers/tmp";

describe("serveSim", () => {
  it("serves the cluster through the kubeconfig it writes, and stops when aborted", async () => {
    const file = join(tempDir(), "kubeconfig");
    const abort = new AbortController();
    const out = new Capture();
    const log = new Logger({ format: "json", sink: out });
    const served = serveSim({ port: 0, nodes: ["node-a", "node-b"], podsPerNode: 2, kubeconfigOut: file }, { signal: abort.signal, log });
    // The ready notice comes after the kubeconfig is written and its mode set.
    for (let i = 0; i < 500 && !out.text.includes("sim API server ready"); i++) await new Promise((r) => setTimeout(r, 5));
    expect(out.lines.map((l) => JSON.parse(l)).find((l) => l.msg === "sim API server ready")).toMatchObject({ nodes: "node-a,node-b", kubeconfig: file });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const kc = new KubeConfig();
    kc.loadFromString(readFileSync(file, "utf8"));
    const url = kc.getCurrentCluster()!.server;
    expect(out.text).toContain(url.replace("http://", ""));
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Number(new URL(url).port)).toBeGreaterThan(0);
    const core = kc.makeApiClient(CoreV1Api);
    expect((await core.listNode()).items.map((n) => n.metadata?.name)).toEqual(["node-a", "node-b"]);
    const pods = await core.listNamespacedPod({ namespace: "apps" });
    expect(pods.items).toHaveLength(4);
    expect(new Set(pods.items.map((p) => p.spec?.nodeName))).toEqual(new Set(["node-a", "node-b"]));

    abort.abort();
    await served;
    await expect(fetch(`${url}/version`)).rejects.toThrow();
  });

  it("returns at once, leaving nothing listening, when the signal is already aborted", async () => {
    const abort = new AbortController();
    abort.abort();
    await expect(serveSim({ port: 0, nodes: ["n"], podsPerNode: 0 }, { signal: abort.signal, log: nullLogger })).resolves.toBeUndefined();
  });
});

describe("scaledClock", () => {
  it("runs wall and monotonic time factor times faster than its base, from the moment it is made", async () => {
    const base = new FakeClock(Date.UTC(2026, 0, 5, 9, 0, 0));
    await base.advance(500);
    const clock = scaledClock(10, base);
    const wall0 = base.now();
    expect(clock.now()).toBe(wall0);
    expect(clock.monotonic()).toBe(0);
    await base.advance(1500);
    expect(clock.now()).toBe(wall0 + 15_000);
    expect(clock.monotonic()).toBe(15_000);
  });

  it("sleeps a tenth of the time on a factor-10 clock, and honours the abort signal", async () => {
    const base = new FakeClock();
    const clock = scaledClock(10, base);
    let woke = false;
    const sleeping = clock.sleep(30_000).then(() => (woke = true));
    await base.advance(2999);
    expect(woke).toBe(false);
    await base.advance(1);
    await sleeping;
    expect(woke).toBe(true);
    const abort = new AbortController();
    const cut = clock.sleep(60_000, abort.signal);
    abort.abort(new Error("stop"));
    await expect(cut).rejects.toThrow("stop");
  });

  it("passes real time through to the system clock by default", async () => {
    const clock = scaledClock(50);
    const t0 = clock.monotonic();
    const w0 = clock.now();
    await clock.sleep(1000);
    expect(clock.monotonic() - t0).toBeGreaterThanOrEqual(900);
    expect(clock.now() - w0).toBeGreaterThanOrEqual(900);
  });
});
