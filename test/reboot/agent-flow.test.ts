/**
 * The whole flow, agent by agent, against the in-memory API server on a fake clock: the need is
 * noticed, the window and the queue respected, the node drained, rebooted (the fake host drops
 * the agent and starts a new one with a new boot id), recovered and released.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Fleet } from "../helpers/agent-harness";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});

describe("the agent", () => {
  it("reboots one node once: drained, inside its window, back to idle with its slot released", async () => {
    fleet = await new Fleet({ nodes: ["node-a", "node-b"], settings: { lockReleaseDelay: 30_000 } }).start();
    const a = fleet.host("node-a");
    a.start();
    fleet.host("node-b").start();
    await fleet.until(() => a.agent?.started === true, "node-a started");
    a.signals.set(true, "4459.2.1");
    a.version = "4459.2.1";
    await fleet.until(() => fleet!.reboots.length === 1, "the reboot");
    expect(fleet!.node("node-a").spec?.unschedulable).toBe(true);
    // No pod of the workload is left on the node that went down.
    expect(fleet.server.store.list("/pods").filter((p) => p.spec?.nodeName === "node-a" && !p.metadata.deletionTimestamp)).toEqual([]);
    await fleet.until(() => a.starts === 2 && a.agent?.started === true && a.agent.current().phase === "idle", "node-a back to idle");
    expect(a.rebootCalls).toBe(1);
    expect(fleet.reboots.map((r) => r.node)).toEqual(["node-a"]);
    expect(fleet!.node("node-a").spec?.unschedulable).toBeUndefined();
    expect(fleet.slotHolders()).toEqual([]);
    expect(fleet!.node("node-a").metadata.labels?.["sluice.dev/reboot-needed"]).toBeUndefined();
    const reasons = fleet.events.filter((e) => e.node === "node-a").map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["RebootRequired", "RebootSlotTaken", "Cordoned", "Drained", "Rebooting", "NodeRebooted", "RebootCompleted", "RebootSlotReleased"]));
    expect(reasons.indexOf("RebootSlotTaken")).toBeLessThan(reasons.indexOf("Rebooting"));
    expect(fleet.violations).toEqual([]);
  });
});
