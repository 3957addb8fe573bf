/**
 * Regressions found in review, proven against the sim before they were fixed.
 */
import { afterEach, describe, expect, it } from "vitest";
import { cordon, drainNode } from "../../agent/drain";
import { type Harness, addPod, drive, startSim, statefulSet } from "../drain/harness";

let h: Harness;
afterEach(async () => h?.stop());

describe("drain regressions", () => {
  it("does not report drained while an evictable pod that keeps coming back is still running on the node", async () => {
    h = await startSim();
    // A StatefulSet whose pod tolerates node.kubernetes.io/unschedulable (or is pinned by a local
    // volume): every deletion puts a new incarnation of db-0 back on the same node.
    const off = statefulSet(h.server, "db", "node-a");
    addPod(h.server, { name: "db-0", grace: 1, labels: { app: "db" }, owner: { kind: "StatefulSet", name: "db" } });
    await cordon(h.deps, "node-a");
    const r = await drive(h.clock, drainNode({ node: "node-a", timeoutMs: 120_000 }, h.deps));
    off();
    const left = h.server.store.list("/pods", "apps").filter((p) => p.spec.nodeName === "node-a" && !p.metadata.deletionTimestamp);
    expect(left.map((p) => p.metadata.name)).toEqual(["db-0"]);
    // An evictable pod is Running on the node: the drain must not say "drained".
    expect(r.outcome).toBe("failed");
    expect(r.error?.code).toBe("drain-pods-return");
    expect(r.held.map((p) => `${p.namespace}/${p.name}`)).toEqual(["apps/db-0"]);
  });
});
