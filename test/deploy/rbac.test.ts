/**
 * deploy/rbac.yaml, loaded as it is into the in-memory API server (its RBAC authorizer and
 * NodeRestriction): the ServiceAccount can do everything the lock, the drain, the marking, the
 * Events and the blockers ask of it, and nothing else that was tried; the kubelet identity of the
 * two-credential mode can do the node-scoped work for its own node only.
 */
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { cordon, drainNode, markAfterReboot, markBeforeReboot } from "../../agent/drain";
import { KubeEventRecorder } from "../../agent/events";
import { checkBlockers } from "../../agent/gates";
import { KubeError } from "../../agent/kube";
import { simKube } from "../helpers/kube";
import { RebootLock, pauseGroup, readLockState, resumeGroup } from "../../agent/lock";
import { Logger, nullLogger } from "../../agent/log";
import { FakeClock } from "../../agent/ports";
import { SimCluster, SimServer } from "../../agent/sim";
import { drive } from "../drain/harness";
import { Capture } from "../helpers/tmp";

const RBAC = readFileSync(new URL("../../deploy/rbac.yaml", import.meta.url), "utf8");
const USERS = `
users:
  - token: agent-token
    serviceAccount: sluice/sluice-agent
  - token: node-a-token
    node: node-a
`;

let server: SimServer | undefined;
let cluster: SimCluster | undefined;
afterEach(async () => {
  cluster?.stop();
  await server?.stop();
  server = cluster = undefined;
});

async function start(clock = new FakeClock()) {
  server = await new SimServer({ clock, authYaml: `${RBAC}\n---\n${USERS}`, namespaces: ["apps"] }).start();
  cluster = new SimCluster(server, { podReadyDelayMs: 1000 });
  for (const n of ["node-a", "node-b"]) cluster.addNode(n);
  cluster.addWorkload("apps", "web", 4, ["node-a", "node-b"]);
  return { clock, server };
}

const code = (p: Promise<unknown>) => p.then(() => "ok", (e: unknown) => (e instanceof KubeError ? e.code : String(e)));

describe("deploy/rbac.yaml", () => {
  it("lets the ServiceAccount run the lock, the blockers, the marking, the drain and the Events (one credential)", async () => {
    const { clock, server } = await start();
    const kube = simKube(server, "agent-token");
    const logs = new Capture();
    const log = new Logger({ sink: logs, level: "warning" });
    const events = new KubeEventRecorder({ kube, clock, log }, { host: "node-a" });
    const deps = { kube, clock, log, events };

    const lock = new RebootLock({ namespace: "sluice", group: "default", concurrency: 1, nodeName: "node-a", lockTtlMs: 60_000, lockReleaseDelayMs: 0 }, deps);
    await lock.start();
    const blockers = await checkBlockers({ node: "node-a", podSelectors: ["app=backup"], prometheusUrl: "", alerts: {} }, { kube, fetch: globalThis.fetch, log: nullLogger });
    expect(blockers).toMatchObject({ blocked: false });
    await lock.acquire({ needSince: clock.now(), bootId: "b1" });
    await markBeforeReboot(deps, "node-a", { preRebootNodeLabels: ["sluice.dev/phase=rebooting"], annotateNodes: true, preferNoScheduleTaint: "sluice.dev/pending" });
    const c = await cordon(deps, "node-a", async (r) => void (await lock.setPhase("draining", { wasUnschedulable: r.wasUnschedulable })));
    const drained = await drive(clock, drainNode({ node: "node-a", timeoutMs: 600_000 }, deps));
    expect(drained.outcome).toBe("drained");
    expect(drained.evicted).toBe(2);
    await markAfterReboot(deps, "node-a", { postRebootNodeLabels: ["sluice.dev/phase=done"], annotateNodes: true }, c.wasUnschedulable);
    await lock.release();
    await lock.stop();
    await pauseGroup(kube, { namespace: "sluice", group: "default" }, "ops", clock.now());
    expect((await readLockState(kube, { namespace: "sluice", group: "default", concurrency: 1 })).paused).toBeTruthy();
    await resumeGroup(kube, { namespace: "sluice", group: "default" });

    const node = server.store.get("/nodes", "node-a")!;
    expect(node.spec.unschedulable).toBeFalsy();
    expect(node.metadata.labels["sluice.dev/phase"]).toBe("done");
    // Nothing was refused along the way (the recorder and the drain only log what fails).
    expect(logs.text).not.toMatch(/forbidden|cannot/i);
    const reasons = server.store.list("events", "default").map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["Cordoned", "Drained", "Uncordoned"]));
  }, 60_000);

  it("lets the kubelet identity do the node-scoped work for its own node only (two credentials)", async () => {
    const { clock, server } = await start();
    const kubelet = simKube(server, "node-a-token");
    const events = new KubeEventRecorder({ kube: kubelet, clock, log: nullLogger }, { host: "node-a" });
    const deps = { kube: kubelet, clock, log: nullLogger, events };
    await cordon(deps, "node-a");
    const drained = await drive(clock, drainNode({ node: "node-a", timeoutMs: 600_000 }, deps));
    expect(drained.outcome).toBe("drained");
    expect(await code(kubelet.patchNode("node-b", { unschedulable: true }))).toBe("forbidden");
    const other = server.store.list("/pods", "apps").find((p) => p.spec.nodeName === "node-b")!;
    expect(await code(kubelet.evictPod("apps", other.metadata.name))).toBe("forbidden");
    expect(await code(kubelet.listLeases("sluice"))).toBe("forbidden");
  }, 60_000);

  it("allows the calls the code makes only off the happy path (after a 409, before an eviction retry, for a repeated Event)", async () => {
    const { clock, server } = await start();
    const kube = simKube(server, "agent-token");
    await kube.createLease("sluice", { metadata: { name: "sluice-default-0" }, spec: {} });
    expect(await code(kube.getLease("sluice", "sluice-default-0"))).toBe("ok"); // the lock's re-read after a conflict
    const pod = server.store.list("/pods", "apps")[0]!;
    expect(await code(kube.getPod("apps", pod.metadata.name))).toBe("ok"); // the drain's same-pod check before a retry
    const logs = new Capture();
    const events = new KubeEventRecorder({ kube, clock, log: new Logger({ sink: logs, level: "warning" }) }, { host: "node-a" });
    const e = { node: "node-a", type: "Warning" as const, reason: "EvictionRefused", message: "webhook said no" };
    await events.record(e);
    await events.record(e); // folded into the first: a patch of count
    expect(logs.text).toBe("");
    expect(server.store.list("events", "default").map((x) => x.count)).toEqual([2]);
  });

  it("gives the ServiceAccount nothing else that was tried", async () => {
    const { server } = await start();
    const kube = simKube(server, "agent-token");
    const pod = server.store.list("/pods", "apps")[0]!;
    const refused: Array<[string, () => Promise<unknown>]> = [
      ["delete a pod", () => kube.deletePod("apps", pod.metadata.name, 0)],
      ["Leases outside its namespace", () => kube.listLeases("kube-system")],
      ["create a Lease outside its namespace", () => kube.createLease("apps", { metadata: { name: "x" }, spec: {} })],
      ["Events outside default", () => kube.listEvents("apps")],
      ["list Events", () => kube.listEvents("default")],
      ["list Nodes", () => kube.listNodes()],
    ];
    for (const [what, call] of refused) expect({ what, code: await code(call()) }).toEqual({ what, code: "forbidden" });
    const raw = async (method: string, path: string) =>
      (await fetch(`${server.url}${path}`, { method, headers: { Authorization: "Bearer agent-token", "Content-Type": "application/json" }, body: method === "GET" ? undefined : "{}" })).status;
    expect(await raw("GET", "/api/v1/namespaces/sluice/secrets")).toBe(403);
    expect(await raw("DELETE", "/api/v1/nodes/node-a")).toBe(403);
    expect(await raw("PUT", "/api/v1/nodes/node-a")).toBe(403);
    expect(await raw("POST", "/api/v1/namespaces/apps/pods")).toBe(403);
  });
});
