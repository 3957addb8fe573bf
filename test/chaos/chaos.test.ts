/**
 * A small seeded chaos run in the fleet simulator (the bench runs 100 hosts): every kind of fault
 * injected, the invariants checked throughout by the observer and at the end, and everything the
 * run wrote — logs, Events, status files — scanned for the credentials it was seeded with.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNotifier } from "../../agent/notify";
import { type ChaosResult, chaosRun, FAULT_KINDS } from "../../agent/sim/fleet";

const TOKEN = "chaos-token-3f9a1c7e5b2d4";
const HOOK_SECRET = "hook-secret-8e6d2a0b4c1f";
let r: ChaosResult;
const scanned: Record<string, string> = {};

beforeAll(async () => {
  r = await chaosRun({
    hosts: 12, seed: 1, token: TOKEN, keepLogs: true,
    // A webhook nobody answers: every notification fails, and the failures are logged.
    notifier: (_node, log, clock) => createNotifier(`generic+http://sluice:${HOOK_SECRET}@127.0.0.1:9/hook?token=${HOOK_SECRET}`, { log, clock, retries: 1, timeoutMs: 200 }),
  });
  for (const h of r.fleet.hosts.values()) {
    scanned[`${h.name} log`] = h.logs.text;
    for (const f of readdirSync(h.stateDir)) if (f.endsWith(".json")) scanned[`${h.name} ${f}`] = readFileSync(join(h.stateDir, f), "utf8");
  }
  for (const res of ["/events", "events.k8s.io/events"]) scanned[`Events ${res}`] = JSON.stringify(r.fleet.server.store.list(res));
}, 240_000);

afterAll(async () => {
  await r?.fleet.stop();
});

describe("a chaos run (12 hosts, 3 slots, seed 1)", () => {
  it("injects every kind of fault", () => {
    for (const k of [...FAULT_KINDS, "agent-killed", "reboot-failed", "reboot-not-carried-out", "node-deleted", "lease-cleared", "node-broken"] as const) expect(r.injected[k], k).toBeGreaterThan(0);
  });

  it("breaks no invariant: at most 3 holders, no eviction or reboot without a slot, each host rebooted once, none left cordoned", () => {
    expect(r.summary.violations).toEqual([]);
    expect(r.summary.maxHolders).toBeLessThanOrEqual(3);
    expect(r.summary.rebooted).toBe(12);
  });

  it("the broken node is reported and halts its slot (lockTtl 0)", async () => {
    expect(r.broken?.reported).toBe(true);
    expect(r.broken?.holdsSlot).toBe(true);
    const host = r.fleet.host(r.broken!.node);
    // Its agent waits for the Node without spinning: a few sleeps a minute, not one a millisecond.
    const before = host.sleeps;
    const t0 = r.fleet.clock.monotonic();
    await r.fleet.runUntil(() => r.fleet.clock.monotonic() - t0 >= 10 * 60_000, "ten quiet minutes");
    expect(host.sleeps - before).toBeGreaterThan(0);
    expect(host.sleeps - before).toBeLessThan(200);
  });

  it("writes no credential into logs, Events or status files", () => {
    expect(Object.keys(scanned).length).toBeGreaterThan(24);
    // The scan can see what it looks for: the notifier failed and said so.
    expect(Object.values(scanned).join("\n")).toMatch(/notification not delivered/);
    for (const [where, text] of Object.entries(scanned)) {
      expect(text.includes(TOKEN), `${where} holds the API token`).toBe(false);
      expect(text.includes(HOOK_SECRET), `${where} holds the webhook secret`).toBe(false);
    }
  });
});
