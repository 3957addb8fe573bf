/**
 * Exact replay from a seed. The server draws every random choice from its `random` option:
 * generateName suffixes and the timeout of a watch that sends none. A fleet rollout behind a
 * PodDisruptionBudget, run twice from one seed, then creates the same pods under the same names
 * and makes the same transitions at the same simulated times. (The names order the drain's
 * evictions and the PDB's refusals, so names from Math.random moved the whole run.)
 */
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../agent/ports/fake-clock";
import { SimServer } from "../../agent/sim";
import { Fleet, nodeNames, rollout } from "../../agent/sim/fleet";
import { seededRandom } from "../helpers/sim";

let fleet: Fleet | undefined;
let server: SimServer | undefined;
afterEach(async () => {
  await fleet?.stop();
  await server?.stop();
  fleet = undefined;
  server = undefined;
});

/** Real-time polling for the server's side of a request (bounded: fails rather than hangs). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(cond()).toBe(true);
}

describe("the server's random source", () => {
  const names = (random?: () => number, count = 20) => {
    const s = new SimServer({ namespaces: ["apps"], ...(random ? { random } : {}) });
    return Array.from({ length: count }, () => s.apply({ apiVersion: "v1", kind: "Pod", metadata: { generateName: "web-", namespace: "apps" }, spec: { containers: [{ name: "c", image: "i" }] } }).metadata.name as string);
  };

  it("names generateName objects: one seed, one sequence of names", () => {
    const a = names(seededRandom(7));
    expect(names(seededRandom(7))).toEqual(a);
    expect(names(seededRandom(8))).not.toEqual(a);
    for (const n of a) expect(n).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    // The first and last characters of the alphabet, even from a source that answers 1.
    expect(names(() => 0, 1)).toEqual(["web-bbbbb"]);
    expect(names(() => 1, 1)).toEqual(["web-99999"]);
    expect(names(() => Number.NaN, 1)).toEqual(["web-bbbbb"]);
    expect(names(() => -3, 1)).toEqual(["web-bbbbb"]);
    // Without one, Math.random: 20 names, all different (27^5 of them to draw from).
    expect(new Set(names()).size).toBe(20);
  });

  it("times out a watch that sends no timeoutSeconds at 30 min × (1 + draw)", async () => {
    const clock = new FakeClock();
    server = await new SimServer({ clock, random: () => 0.5 }).start();
    const res = await fetch(`${server.url}/api/v1/nodes?watch=true`, { headers: { Authorization: `Bearer ${server.adminToken}` } });
    expect(res.status).toBe(200);
    const text = res.text();
    // Its one sleeper (no bookmarks asked for): the timeout.
    await until(() => server!.openWatches === 1 && clock.pending === 1);
    await clock.advance(2700_000 - 1);
    expect(server.openWatches).toBe(1);
    await clock.advance(1);
    await until(() => server!.openWatches === 0);
    expect(await text).toBe("");
  });
});

async function run(seed: number): Promise<{ pods: string[]; transitions: Record<string, string[]> }> {
  fleet = await new Fleet({ nodes: nodeNames(5), podsPerNode: 2, pdb: { maxUnavailable: 1 }, keepLogs: false, settings: { concurrency: 2, inhibitPaths: [] }, rebootMs: 30_000, rebootJitter: 0.2, seed }).start();
  const f = fleet;
  const pods = f.server.store.list("/pods").map((p) => `start ${p.metadata.name} ${p.spec?.nodeName}`);
  const transitions: Record<string, string[]> = {};
  f.server.store.subscribe("/pods", (ev) => ev.type === "ADDED" && pods.push(`${f.clock.monotonic()} ${ev.obj.metadata.name} ${ev.obj.spec?.nodeName ?? "-"}`));
  f.onTransition = (node, from, to) => (transitions[node] ??= []).push(`${f.clock.monotonic()} ${from}→${to}`);
  f.startAll();
  await f.runUntil(() => [...f.hosts.values()].every((h) => h.agent?.started), "started");
  // Staged a second apart: agents that act at the same simulated instant reach the server in the
  // order their real I/O completes (as real ones race), which no seed decides. Per node, too:
  // at one instant the nodes' transitions interleave in that same order.
  const summary = await rollout(f, { staggerMs: 1000 });
  expect(summary.violations).toEqual([]);
  expect(summary.rebooted).toBe(5);
  await f.stop();
  fleet = undefined;
  return { pods, transitions };
}

describe("a seeded fleet run with a PDB", () => {
  it("replays: the same pod names and each node's transitions at the same simulated times", async () => {
    const a = await run(11);
    // 10 pods at the start and a replacement for each at least (every node was drained).
    expect(a.pods.length).toBeGreaterThanOrEqual(20);
    expect(Object.keys(a.transitions).sort()).toEqual(nodeNames(5));
    for (const seq of Object.values(a.transitions)) expect(seq.length).toBeGreaterThanOrEqual(6);
    const b = await run(11);
    expect(b.pods).toEqual(a.pods);
    expect(b.transitions).toEqual(a.transitions);
    // Another seed is another run (its names at least), so the equality above is not vacuous.
    const c = await run(12);
    expect(c.pods).not.toEqual(a.pods);
  }, 120_000);
});
