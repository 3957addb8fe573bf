/**
 * Evictions carry deleteOptions.preconditions.uid: the server refuses (409) to evict a pod that
 * took the name of the one the drain listed, and the drain counts the listed pod as gone.
 */
import { afterEach, describe, expect, it } from "vitest";
import { drainNode } from "../../agent/drain";
import { KubeError, type Kube } from "../../agent/kube";
import { addPod, drive, pod, startSim, type Harness } from "../drain/harness";

let h: Harness;
afterEach(async () => h?.stop());

describe("eviction UID precondition", () => {
  it("the port sends the uid; a mismatch is a conflict with the server's words, a match evicts", async () => {
    h = await startSim({ kubelets: false });
    addPod(h.server, { name: "web-0", grace: 1 });
    const uid = pod(h.server, "apps", "web-0")!.metadata.uid as string;
    const err = await h.kube.evictPod("apps", "web-0", { uid: "7c9e6679-7425-40de-944b-e07fc1f90ae7" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeError);
    expect((err as KubeError).code).toBe("conflict");
    expect((err as KubeError).message).toContain("the UID in the precondition (7c9e6679-7425-40de-944b-e07fc1f90ae7) does not match");
    expect(pod(h.server, "apps", "web-0")!.metadata.deletionTimestamp).toBeUndefined();
    await h.kube.evictPod("apps", "web-0", { uid });
    expect(pod(h.server, "apps", "web-0")!.metadata.deletionTimestamp).toBeDefined();
  });

  it("a pod replaced between the drain's list and its eviction is gone, and its successor is not evicted", async () => {
    h = await startSim();
    addPod(h.server, { name: "db-0", grace: 5 });
    let replacedUid = "";
    // The race the precondition closes: the name changes hands just before the eviction arrives.
    const racing: Kube = Object.create(h.kube, {
      evictPod: {
        value: async (ns: string, name: string, o: { uid?: string }) => {
          if (!replacedUid) {
            h.server.registry.deletePod(pod(h.server, ns, name)!, 0);
            replacedUid = addPod(h.server, { name, node: "node-b", grace: 5 }).metadata.uid as string;
          }
          return h.kube.evictPod(ns, name, o);
        },
      },
    });
    const r = await drive(h.clock, drainNode({ node: "node-a" }, { ...h.deps, kube: racing }));
    expect(r.outcome).toBe("drained");
    const now = pod(h.server, "apps", "db-0")!;
    expect(now.metadata.uid).toBe(replacedUid);
    expect(now.metadata.deletionTimestamp).toBeUndefined();
    expect(h.server.faults.counters()["create pods/eviction"]).toBe(1);
    expect(h.logs.text).toContain("409 on the UID precondition");
  });
});
