/**
 * The whole flow, agent by agent, against the in-memory API server on a fake clock: the need is
 * noticed, the window and the queue respected, the node drained, rebooted (the fake host drops
 * the agent and starts a new one with a new boot id), recovered and released.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Fleet } from "../helpers/agent-harness";
import { readLockState } from "../../agent/lock";
import { formatStatus } from "../../agent/cli/commands/status";

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
    const reasons = fleet!.events.filter((e) => e.node === "node-a").map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["RebootRequired", "RebootSlotTaken", "Cordoned", "Rebooting", "NodeRebooted", "RebootCompleted", "RebootSlotReleased"]));
    expect(reasons.indexOf("RebootSlotTaken")).toBeLessThan(reasons.indexOf("Rebooting"));
    expect(fleet.violations).toEqual([]);
  });
});

describe("an idle agent", () => {
  it("keeps no watch on its group's Leases; it watches them while it waits and holds, and stops again", async () => {
    fleet = await new Fleet({ nodes: ["node-a", "node-b"], settings: { lockReleaseDelay: 30_000 } }).start();
    const [a, b] = [fleet.host("node-a"), fleet.host("node-b")];
    a.start();
    b.start();
    await fleet.until(() => Boolean(a.agent?.started && b.agent?.started), "started");
    // Each agent watches its own Node; neither watches the Leases.
    await fleet.until(() => fleet!.server.openWatches === 2, "two Node watches, no Lease watch");
    fleet.server.faults.resetCounters();
    await fleet.runUntil(() => false, "three idle hours", { maxMs: 3 * 3600_000 }).catch(() => {});
    expect(Object.keys(fleet.server.faults.counters()).filter((k) => k.endsWith(" leases"))).toEqual([]);
    b.signals.set(true);
    await fleet.until(() => fleet!.slotHolders().includes("node-b"), "node-b holds");
    // Its two Lease watches (the queue and the slots) beside the two Node watches.
    expect(fleet.server.openWatches).toBe(4);
    await fleet.until(() => b.starts === 2 && b.agent?.current().phase === "idle", "node-b rebooted and idle");
    await fleet.until(() => fleet!.server.openWatches === 2, "the Lease watches closed again");
    expect(fleet.slotHolders()).toEqual([]);
  });
});

describe("the agents of a group", () => {
  it("reboot three nodes on one slot one after another, in order of need", async () => {
    const nodes = ["node-a", "node-b", "node-c"];
    fleet = await new Fleet({ nodes }).start();
    for (const n of nodes) fleet.host(n).start();
    await fleet.until(() => nodes.every((n) => fleet!.host(n).agent?.started), "agents started");
    // c takes the slot; then b queues, then a, whose need is older than b's (update_engine staged
    // it earlier): a must go before b, whatever order they arrived in.
    const t0 = fleet.clock.now();
    fleet.host("node-c").signals.set(true);
    await fleet.until(() => fleet!.slotHolders().includes("node-c"), "node-c holds the slot");
    fleet.host("node-b").signals.set(true, undefined, t0 + 10_000);
    await fleet.until(() => fleet!.waiters().includes("node-b"), "node-b queued");
    fleet.host("node-a").signals.set(true, undefined, t0 + 5_000);
    await fleet.until(() => fleet!.waiters().includes("node-a"), "node-a queued");
    await fleet.until(() => nodes.every((n) => fleet!.host(n).starts === 2 && fleet!.host(n).agent?.current().phase === "idle" && fleet!.host(n).agent?.started), "all three rebooted");
    expect(fleet.reboots.map((r) => r.node)).toEqual(["node-c", "node-a", "node-b"]);
    expect(fleet.maxHolders).toBe(1);
    expect(fleet.violations).toEqual([]);
    expect(fleet.slotHolders()).toEqual([]);
    for (const n of nodes) expect(fleet.node(n).spec?.unschedulable).toBeUndefined();
  });

  it("a node outside its window waits for the opening computed on the fake clock, then goes", async () => {
    // The clock starts Monday 2026-01-05 09:00 UTC; the window is Monday 22:00-23:00 Europe/Berlin (21:00 UTC).
    fleet = await new Fleet({ nodes: ["node-a"], windows: [{ days: [1], startSec: 22 * 3600, endSec: 23 * 3600, timeZone: "Europe/Berlin" }], settings: { windowMargin: 15 * 60_000 } }).start();
    const a = fleet.host("node-a");
    a.start();
    await fleet.until(() => a.agent?.started === true, "started");
    a.signals.set(true);
    await fleet.until(() => a.agent?.current().phase === "pending", "pending");
    await fleet.until(() => fleet!.reboots.length === 1, "the reboot", { stepMs: 60_000, maxMs: 24 * 3600_000 });
    const at = fleet.reboots[0].at;
    expect(at).toBeGreaterThanOrEqual(Date.UTC(2026, 0, 5, 21, 0, 0));
    expect(at).toBeLessThan(Date.UTC(2026, 0, 5, 21, 45, 0));
    const told = a.logs.lines.filter((l) => l.includes("waiting for the maintenance window"));
    expect(told.length).toBe(1);
    expect(told[0]).toContain("2026-01-05T21:00:00Z");
  });

  it("an inhibitor holds a node back until it is removed, told once", async () => {
    fleet = await new Fleet({ nodes: ["node-a"] }).start();
    const a = fleet.host("node-a");
    a.start();
    await fleet.until(() => a.agent?.started === true, "started");
    fleet.editNode("node-a", (n) => ((n.metadata.annotations = { ...n.metadata.annotations, "sluice.dev/inhibit": "database migration" }), n));
    // The agent must have seen the annotation (its Node watch) before the need arrives: under load
    // the watch event could otherwise land after the node already queued, and the test would race.
    await fleet.until(() => a.agent?.nodeWatch.current()?.metadata?.annotations?.["sluice.dev/inhibit"] !== undefined, "the annotation seen");
    a.signals.set(true);
    await fleet.until(() => a.agent?.current().phase === "pending", "pending");
    await fleet.pass(50 * 60_000);
    expect(fleet.reboots).toEqual([]);
    expect(fleet.slotHolders()).toEqual([]);
    expect(fleet.events.filter((e) => e.reason === "RebootInhibited").map((e) => e.message)).toEqual(["Reboot inhibited: Node annotation sluice.dev/inhibit: database migration"]);
    fleet.editNode("node-a", (n) => (delete n.metadata.annotations["sluice.dev/inhibit"], n));
    await fleet.until(() => fleet!.reboots.length === 1, "the reboot");
    expect(fleet.events.some((e) => e.reason === "RebootNoLongerInhibited")).toBe(true);
  });

  it("a holder whose Lease an admin clears mid-drain stops draining, uncordons what it cordoned, and queues again", async () => {
    fleet = await new Fleet({ nodes: ["node-a", "node-b"], settings: { drainTimeout: 0 } }).start();
    // A PDB that allows nothing: the drain cannot finish by itself.
    fleet.server.apply({ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "web", namespace: "apps" }, spec: { maxUnavailable: 0, selector: { matchLabels: { app: "web" } } } });
    const a = fleet.host("node-a");
    a.start();
    await fleet.until(() => a.agent?.started === true, "started");
    a.signals.set(true);
    await fleet.until(() => a.agent?.current().phase === "draining" && fleet!.node("node-a").spec?.unschedulable === true, "draining");
    await fleet.pass(10_000);
    const lease = fleet.lease("sluice-default-0");
    fleet.server.registry.writeInternal("coordination.k8s.io/leases", { ...lease, spec: { ...lease.spec, holderIdentity: undefined } });
    await fleet.until(() => a.agent?.current().phase === "pending", "queued again");
    expect(fleet!.node("node-a").spec?.unschedulable).toBeUndefined();
    expect(fleet.reboots).toEqual([]);
    const reasons = fleet!.events.map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["RebootAborted", "Uncordoned", "RebootRequeued"]));
    expect(a.logs.text).toMatch(/lost reboot slot sluice-default-0/);
  });
});

describe("reboot and recovery", () => {
  it("gives the reboot command once more after rebootTimeout, then reports and keeps the slot", async () => {
    fleet = await new Fleet({ nodes: ["node-a", "node-b"], podsPerNode: 0, settings: { rebootTimeout: 5 * 60_000 } }).start();
    const a = fleet.host("node-a");
    a.behaviour = "stays-up";
    a.start();
    await fleet.until(() => a.agent?.started === true, "started");
    a.signals.set(true);
    await fleet.until(() => a.rebootCalls === 1, "the first reboot command");
    await fleet.pass(4 * 60_000);
    expect(a.rebootCalls).toBe(1);
    await fleet.until(() => a.rebootCalls === 2, "the retry");
    await fleet.until(() => fleet!.events.some((e) => e.reason === "RebootNotHappening"), "the report", { stepMs: 10_000 });
    await fleet.pass(30 * 60_000);
    expect(a.rebootCalls).toBe(2);
    expect(fleet.events.filter((e) => e.reason === "RebootNotHappening")).toHaveLength(1);
    expect(fleet.events.filter((e) => e.reason === "RebootRetried")).toHaveLength(1);
    expect(fleet.slotHolders()).toEqual(["node-a"]);
    expect(a.agent?.current()).toMatchObject({ phase: "rebooting", attempts: 2 });
  });

  it("reports a rollback when the host boots the old version, and still finishes the cycle", async () => {
    fleet = await new Fleet({ nodes: ["node-a", "node-b"], podsPerNode: 0 }).start();
    const a = fleet.host("node-a");
    a.start();
    await fleet.until(() => a.agent?.started === true, "started");
    a.signals.set(true, "4459.2.1");
    // a.version stays 4459.2.0: the new version did not boot.
    await fleet.until(() => a.starts === 2 && a.agent?.started === true && a.agent.current().phase === "idle", "back");
    const ev = fleet.events.filter((e) => e.reason === "UpdateRolledBack");
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ type: "Warning", message: expect.stringContaining("running 4459.2.0, update_engine had staged 4459.2.1") });
  });

  it("sets the autoscaler and load-balancer marks while held, and removes only what it set", async () => {
    fleet = await new Fleet({ nodes: ["node-a", "node-b"], podsPerNode: 0, settings: { excludeFromLoadBalancers: true, lockReleaseDelay: 60_000, preferNoScheduleTaint: "sluice.dev/reboot-pending" } }).start();
    // An operator excluded node-a from load balancers already: that label is theirs.
    fleet.editNode("node-a", (n) => ((n.metadata.labels = { ...n.metadata.labels, "node.kubernetes.io/exclude-from-external-load-balancers": "ops" }), n));
    const a = fleet.host("node-a");
    a.start();
    await fleet.until(() => a.agent?.started === true, "started");
    a.signals.set(true);
    await fleet.until(() => fleet!.node("node-a").metadata.labels?.["sluice.dev/reboot-needed"] === "true", "the backlog label");
    expect(fleet.node("node-a").metadata.annotations?.["sluice.dev/reboot-needed-since"]).toMatch(/^2026-01-05T09:\d\d:\d\dZ$/);
    await fleet.until(() => (fleet!.node("node-a").spec?.taints ?? []).some((t: { key: string }) => t.key === "sluice.dev/reboot-pending"), "the PreferNoSchedule taint");
    await fleet.until(() => fleet!.reboots.length === 1, "the reboot");
    expect(fleet.node("node-a").metadata.annotations?.["cluster-autoscaler.kubernetes.io/scale-down-disabled"]).toBe("true");
    await fleet.until(() => a.agent?.started === true && a.agent.current().phase === "idle" && a.starts === 2, "back");
    const n = fleet.node("node-a");
    expect(n.metadata.annotations?.["cluster-autoscaler.kubernetes.io/scale-down-disabled"]).toBeUndefined();
    expect(n.metadata.annotations?.["sluice.dev/added-marks"]).toBeUndefined();
    expect(n.metadata.labels?.["node.kubernetes.io/exclude-from-external-load-balancers"]).toBe("ops");
    expect(n.metadata.labels?.["sluice.dev/reboot-needed"]).toBeUndefined();
    expect(n.metadata.annotations?.["sluice.dev/reboot-needed-since"]).toBeUndefined();
    await fleet.until(() => !(fleet!.node("node-a").spec?.taints ?? []).some((t: { key: string }) => t.key === "sluice.dev/reboot-pending"), "the taint removed");
  });

  it("leaves an administrator's cordon in place after the reboot", async () => {
    fleet = await new Fleet({ nodes: ["node-a", "node-b"], podsPerNode: 0 }).start();
    fleet.editNode("node-a", (n) => ((n.spec = { ...n.spec, unschedulable: true }), n));
    const a = fleet.host("node-a");
    a.start();
    await fleet.until(() => a.agent?.started === true, "started");
    a.signals.set(true);
    await fleet.until(() => a.starts === 2 && a.agent?.started === true && a.agent.current().phase === "idle", "back");
    expect(fleet.node("node-a").spec?.unschedulable).toBe(true);
  });

  it("stops a drain when the window closes, uncordons, and finishes at the next opening", async () => {
    // A window 09:00-10:00 UTC every day; a PDB that allows nothing holds the drain until the
    // window closes at 10:00: the node gives way, and goes the next morning.
    fleet = await new Fleet({ nodes: ["node-a", "node-b"], windows: [{ days: [0, 1, 2, 3, 4, 5, 6], startSec: 9 * 3600, endSec: 10 * 3600, timeZone: "UTC" }], settings: { windowMargin: 15 * 60_000 } }).start();
    fleet.server.apply({ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "web", namespace: "apps" }, spec: { maxUnavailable: 0, selector: { matchLabels: { app: "web" } } } });
    const a = fleet.host("node-a");
    a.start();
    await fleet.until(() => a.agent?.started === true, "started");
    a.signals.set(true);
    await fleet.until(() => a.agent?.current().phase === "draining", "draining");
    await fleet.until(() => a.agent?.current().phase === "pending", "given up at the window's end", { stepMs: 60_000 });
    expect(fleet.clock.now()).toBeGreaterThanOrEqual(Date.UTC(2026, 0, 5, 10, 0, 0));
    expect(fleet.node("node-a").spec?.unschedulable).toBeUndefined();
    expect(fleet.slotHolders()).toEqual([]);
    expect(fleet.events.some((e) => e.reason === "RebootAborted" && /window closed/.test(e.message))).toBe(true);
    // The next day the PDB is gone: the node goes.
    fleet.server.store.write("policy/poddisruptionbudgets", "DELETED", fleet.server.store.get("policy/poddisruptionbudgets", "apps/web")!);
    await fleet.until(() => fleet!.reboots.length === 1, "the reboot the next morning", { stepMs: 60_000, maxMs: 30 * 3600_000 });
    expect(fleet.reboots[0].at).toBeGreaterThanOrEqual(Date.UTC(2026, 0, 6, 9, 0, 0));
  });

  it("keeps its slot through SIGTERM mid-drain and resumes the drain when started again", async () => {
    fleet = await new Fleet({ nodes: ["node-a", "node-b"] }).start();
    fleet.server.apply({ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "web", namespace: "apps" }, spec: { maxUnavailable: 0, selector: { matchLabels: { app: "web" } } } });
    const a = fleet.host("node-a");
    a.start();
    await fleet.until(() => a.agent?.started === true, "started");
    a.signals.set(true);
    await fleet.until(() => a.agent?.current().phase === "draining" && fleet!.node("node-a").spec?.unschedulable === true, "draining");
    await a.terminate();
    expect(fleet.slotHolders()).toEqual(["node-a"]);
    expect(a.storedPhase()).toBe("draining");
    expect(fleet.node("node-a").spec?.unschedulable).toBe(true);
    fleet.server.store.write("policy/poddisruptionbudgets", "DELETED", fleet.server.store.get("policy/poddisruptionbudgets", "apps/web")!);
    a.start();
    await fleet.until(() => fleet!.reboots.length === 1, "the reboot");
    expect(fleet.violations).toEqual([]);
  });
});

describe("start-up", () => {
  it("on first boot waits for its Node to be registered, then works", async () => {
    fleet = await new Fleet({ nodes: ["node-a", "node-b"], podsPerNode: 0 }).start();
    fleet.server.store.write("/nodes", "DELETED", fleet.node("node-a"));
    const a = fleet.host("node-a");
    a.start();
    await fleet.pass(10_000, 1000);
    expect(a.agent?.started).toBe(false);
    expect(a.logs.lines.filter((l) => l.includes("waiting for this host's Node to be registered"))).toHaveLength(1);
    fleet.cluster.addNode("node-a");
    fleet.nodeUp("node-a", a.bootIdValue);
    await fleet.until(() => a.agent?.started === true, "started once the Node exists");
    a.signals.set(true);
    await fleet.until(() => fleet!.reboots.length === 1, "the reboot");
  });

  it.each([
    ["empty", ""],
    ["truncated", '{"version":2,"node":"node-a","state":{"phase":"drai'],
    ["of a future version", '{"version":9,"node":"node-a","state":{"phase":"idle","since":1}}'],
    ["of another node", '{"version":2,"node":"node-z","state":{"phase":"draining","since":1,"slot":"sluice-default-0","wasUnschedulable":false,"needSince":1}}'],
  ])("reports a state.json that is %s, starts from the truth and keeps working", async (_name, text) => {
    fleet = await new Fleet({ nodes: ["node-a", "node-b"], podsPerNode: 0 }).start();
    const a = fleet.host("node-a");
    writeFileSync(join(a.stateDir, "state.json"), text);
    a.start();
    await fleet.until(() => a.agent?.started === true, "started");
    expect(a.agent?.current().phase).toBe("idle");
    expect(a.logs.text).toMatch(/WARNING (cannot use the stored state|the stored state belongs to another node)/);
    a.signals.set(true);
    await fleet.until(() => fleet!.reboots.length === 1, "the reboot");
    expect(a.crashes).toBe(1); // the reboot, nothing else
  });

  it("says in status.json what a queued node waits for", async () => {
    fleet = await new Fleet({ nodes: ["node-a", "node-b", "node-c"] }).start();
    fleet.server.apply({ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "web", namespace: "apps" }, spec: { maxUnavailable: 0, selector: { matchLabels: { app: "web" } } } });
    for (const n of ["node-a", "node-b"]) fleet.host(n).start();
    await fleet.until(() => ["node-a", "node-b"].every((n) => fleet!.host(n).agent?.started), "started");
    fleet.host("node-a").signals.set(true);
    await fleet.until(() => fleet!.slotHolders().includes("node-a"), "node-a holds");
    fleet.host("node-b").signals.set(true);
    const status = () => JSON.parse(readFileSync(join(fleet!.host("node-b").stateDir, "status.json"), "utf8"));
    await fleet.until(() => existsSync(join(fleet!.host("node-b").stateDir, "status.json")) && /queued/.test(status().waiting), "node-b queued");
    expect(status()).toMatchObject({ phase: "pending", waiting: "queued for a reboot slot" });
    // The file does not follow the queue; the position is read from the Leases when asked.
    await fleet.until(() => fleet!.waiters().includes("node-b"), "node-b's waiting Lease");
    const report = { node: "node-b", agent: JSON.parse(readFileSync(join(fleet!.host("node-b").stateDir, "state.json"), "utf8")), waiting: status(), window: { open: true, windows: [], zone: "UTC" } };
    const lock = await readLockState(fleet.kubeFor("node-b"), { namespace: "sluice", group: "default", concurrency: 1 });
    expect(formatStatus({ ...report, lock }, Date.now()).split("\n")[0]).toMatch(/: queued for a reboot slot at position 1 of 1 \(held by node-a\)$/);
  });
});
