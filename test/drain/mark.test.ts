/**
 * Cordon, uncordon and node marking against the sim, with the real Event recorder, so what is
 * asserted is what `kubectl get node -o yaml` and `kubectl describe node` would show.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cordon, markAfterReboot, markBeforeReboot, setPendingTaint, type DrainDeps, type MarkOptions } from "../../agent/drain";
import { KubeEventRecorder } from "../../agent/events";
import { simKube } from "../helpers/kube";
import { nullLogger } from "../../agent/log";
import { FakeClock } from "../../agent/ports";
import { SimServer } from "../../agent/sim";

let server: SimServer;
let deps: DrainDeps;

beforeEach(async () => {
  const clock = new FakeClock();
  server = await new SimServer({ clock }).start();
  server.apply({ apiVersion: "v1", kind: "Node", metadata: { name: "node-a", labels: { zone: "a" } } });
  const kube = simKube(server);
  deps = { kube, clock, log: nullLogger, events: new KubeEventRecorder({ kube, clock, log: nullLogger }, { host: "node-a" }) };
});
afterEach(async () => server.stop());

const node = () => server.store.get("/nodes", "node-a")!;
const reasons = () => server.store.list("events", "default").map((e) => `${e.reason}`);
const mark: MarkOptions = { preRebootNodeLabels: ["sluice.dev/rebooting=true"], postRebootNodeLabels: ["sluice.dev/rebooting=false", "sluice.dev/rebooted=yes"], annotateNodes: true };

describe("cordon and marking", () => {
  it("pre-reboot labels before the cordon; after the boot, uncordon then post-reboot labels; annotations come and go", async () => {
    const seen: string[] = [];
    const off = server.store.subscribe("/nodes", (ev) => seen.push(`${ev.obj.metadata.labels?.["sluice.dev/rebooting"] ?? "-"}/${ev.obj.spec?.unschedulable ? "cordoned" : "open"}`));
    await markBeforeReboot(deps, "node-a", mark);
    let persisted: boolean | undefined;
    const c = await cordon(deps, "node-a", async (r) => {
      persisted = r.wasUnschedulable;
    });
    expect(c.wasUnschedulable).toBe(false);
    expect(persisted).toBe(false);
    const at = new Date(deps.clock.now()).toISOString().replace(/\.\d{3}Z$/, "Z");
    expect(node().metadata.annotations).toEqual({ "sluice.dev/reboot-in-progress": at, "sluice.dev/most-recent-reboot-needed": at });
    await markAfterReboot(deps, "node-a", mark, c.wasUnschedulable);
    off();
    expect(seen).toEqual(["true/open", "true/cordoned", "true/open", "false/open"]);
    expect(node().metadata.labels).toEqual({ zone: "a", "sluice.dev/rebooting": "false", "sluice.dev/rebooted": "yes" });
    expect(node().metadata.annotations).toEqual({ "sluice.dev/most-recent-reboot-needed": at });
    expect(node().spec.unschedulable).toBeUndefined();
    expect(reasons()).toEqual(["MarkedForReboot", "Cordoned", "Uncordoned", "MarkedRebooted"]);
  });

  it("an administrator's cordon survives the reboot, and the post-reboot labels are set all the same (kured skips them)", async () => {
    await deps.kube.patchNode("node-a", { unschedulable: true });
    const c = await cordon(deps, "node-a");
    expect(c.wasUnschedulable).toBe(true);
    await markAfterReboot(deps, "node-a", mark, c.wasUnschedulable);
    expect(node().spec.unschedulable).toBe(true);
    expect(node().metadata.labels["sluice.dev/rebooted"]).toBe("yes");
    expect(reasons()).toEqual(["AlreadyCordoned", "MarkedRebooted"]);
  });

  it("kured's weave.works annotations on request; an in-progress mark from before a restart is kept", async () => {
    await markBeforeReboot(deps, "node-a", { annotateNodes: true, kuredAnnotations: true });
    const first = { ...node().metadata.annotations };
    expect(Object.keys(first).sort()).toEqual([
      "sluice.dev/most-recent-reboot-needed", "sluice.dev/reboot-in-progress", "weave.works/kured-most-recent-reboot-needed", "weave.works/kured-reboot-in-progress",
    ]);
    await (deps.clock as FakeClock).advance(60_000);
    await markBeforeReboot(deps, "node-a", { annotateNodes: true, kuredAnnotations: true });
    expect(node().metadata.annotations).toEqual(first);
    await markAfterReboot(deps, "node-a", { annotateNodes: true, kuredAnnotations: true }, false);
    expect(Object.keys(node().metadata.annotations).sort()).toEqual(["sluice.dev/most-recent-reboot-needed", "weave.works/kured-most-recent-reboot-needed"]);
  });

  it("the PreferNoSchedule taint while a reboot is pending keeps other taints", async () => {
    await deps.kube.patchNode("node-a", { taints: [{ key: "dedicated", value: "db", effect: "NoSchedule" }] });
    await setPendingTaint(deps, "node-a", "sluice.dev/reboot-pending", true);
    await setPendingTaint(deps, "node-a", "sluice.dev/reboot-pending", true);
    expect(node().spec.taints).toEqual([{ key: "dedicated", value: "db", effect: "NoSchedule" }, { key: "sluice.dev/reboot-pending", effect: "PreferNoSchedule" }]);
    await setPendingTaint(deps, "node-a", "sluice.dev/reboot-pending", false);
    expect(node().spec.taints).toEqual([{ key: "dedicated", value: "db", effect: "NoSchedule" }]);
  });

  it("nothing to mark, nothing written", async () => {
    const rv = node().metadata.resourceVersion;
    await markBeforeReboot(deps, "node-a", {});
    await setPendingTaint(deps, "node-a", "", true);
    expect(node().metadata.resourceVersion).toBe(rv);
  });
});
