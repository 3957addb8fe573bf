/**
 * Crash safety (issue 10, DESIGN.md): the agent is killed without any cleanup — like SIGKILL —
 * right after each of its persisted writes and each of its Kubernetes writes in one whole reboot
 * cycle, and systemd starts it again. Whatever the point: one reboot for the one need, no node
 * left cordoned by sluice, no idle node holding a slot, no slot released while its node drains or
 * reboots.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Fleet } from "../helpers/agent-harness";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});

async function cycle(crashAfter?: { kind: "save" | "write"; n: number }) {
  fleet = await new Fleet({ nodes: ["node-a", "node-b"], podsPerNode: 1, settings: { lockReleaseDelay: 20_000 } }).start();
  const a = fleet.host("node-a");
  a.crashAfter = crashAfter;
  a.start();
  await fleet.until(() => a.agent?.started === true, "started");
  a.signals.set(true, "4459.2.1");
  a.version = "4459.2.1";
  await fleet.until(() => fleet!.reboots.length >= 1 && a.agent?.started === true && a.agent.current().phase === "idle" && fleet!.slotHolders().length === 0, "the cycle to end", { maxMs: 3600_000 });
  // Let anything a crash left behind show itself.
  await fleet.pass(5 * 60_000);
  return { a, fleet };
}

describe("crash at every point of a reboot cycle", () => {
  it("counts the writes of a clean cycle", async () => {
    const { a, fleet: f } = await cycle();
    expect(f.reboots).toHaveLength(1);
    expect(a.saves).toBeGreaterThanOrEqual(7);
    expect(a.writes).toBeGreaterThanOrEqual(8);
    clean = { saves: a.saves, writes: a.writes };
  });

  let clean = { saves: 0, writes: 0 };
  it("survives a kill after every persisted write and every Kubernetes write", async () => {
    expect(clean.saves).toBeGreaterThan(0);
    const failures: string[] = [];
    for (const kind of ["save", "write"] as const) {
      for (let n = 1; n <= (kind === "save" ? clean.saves : clean.writes); n++) {
        const { a, fleet: f } = await cycle({ kind, n });
        const where = `crash after ${kind} ${n}`;
        if (a.crashes < 1) failures.push(`${where}: no crash happened`);
        if (f.reboots.length !== 1) failures.push(`${where}: ${f.reboots.length} reboots`);
        if (f.node("node-a").spec?.unschedulable) failures.push(`${where}: node left cordoned`);
        if (f.slotHolders().length) failures.push(`${where}: slot still held by ${f.slotHolders().join(",")}`);
        if (f.waiters().length) failures.push(`${where}: waiting Lease left by ${f.waiters().join(",")}`);
        failures.push(...f.violations.map((v) => `${where}: ${v}`));
        await f.stop();
        fleet = undefined;
      }
    }
    expect(failures).toEqual([]);
  }, 300_000);
});
