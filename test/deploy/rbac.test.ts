/**
 * deploy/ RBAC, loaded as it is into the in-memory API server (RBAC authorizer, Node authorizer,
 * NodeRestriction, audit log on). The flows the agent runs — lock acquire and release, the node
 * watch, blockers, marks, the pending taint, cordon, drain, Events — run with each mode's
 * credentials; the audit log then shows every request: none may be refused, and every
 * (resource, verb) a rule grants must have been used by one of them.
 */
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { cordon, drainNode, markAfterReboot, markBeforeReboot, setPendingTaint } from "../../agent/drain";
import { KubeEventRecorder } from "../../agent/events";
import { checkBlockers } from "../../agent/gates";
import { type Kube, KubeError, type V1Node } from "../../agent/kube";
import { simKube } from "../helpers/kube";
import { RebootLock, pauseGroup, readLockState, resumeGroup } from "../../agent/lock";
import { Logger, nullLogger } from "../../agent/log";
import { FakeClock } from "../../agent/ports";
import { type AuditEvent, type PolicyRule, SimCluster, SimServer, parseAuthYaml } from "../../agent/sim";
import { drive } from "../drain/harness";
import { Capture } from "../helpers/tmp";

const read = (f: string) => readFileSync(new URL(`../../deploy/${f}`, import.meta.url), "utf8");
const SA = "system:serviceaccount:sluice:sluice-agent";
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

async function start(rbac: string, clock = new FakeClock()) {
  server = await new SimServer({ clock, authYaml: `${rbac}\n---\n${USERS}`, namespaces: ["apps"], audit: true }).start();
  cluster = new SimCluster(server, { podReadyDelayMs: 1000 });
  for (const n of ["node-a", "node-b"]) cluster.addNode(n);
  cluster.addWorkload("apps", "web", 4, ["node-a", "node-b"]);
  return { clock, server };
}

const code = (p: Promise<unknown>) => p.then(() => "ok", (e: unknown) => (e instanceof KubeError ? e.code : String(e)));

/** Every (apiGroup, resource, verb, namespace) the rules bound to the ServiceAccount grant. */
function grantsOf(rbac: string): Array<{ group: string; resource: string; verb: string; namespace: string }> {
  const objs = parseAuthYaml(rbac).objects;
  const roles = new Map(objs.filter((o) => o.kind === "Role" || o.kind === "ClusterRole").map((o) => [`${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`, o]));
  const out: Array<{ group: string; resource: string; verb: string; namespace: string }> = [];
  for (const b of objs.filter((o) => o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding")) {
    if (!(b.subjects ?? []).some((s: any) => s.kind === "ServiceAccount" && s.name === "sluice-agent" && s.namespace === "sluice")) continue;
    const ns = b.kind === "RoleBinding" ? b.metadata.namespace : "";
    const role = roles.get(`${b.roleRef.kind}/${b.roleRef.kind === "Role" ? ns : ""}/${b.roleRef.name}`);
    expect(role, `${b.metadata.name} binds a role that exists`).toBeDefined();
    for (const r of (role!.rules ?? []) as PolicyRule[]) {
      for (const group of r.apiGroups ?? []) for (const resource of r.resources ?? []) for (const verb of r.verbs) out.push({ group, resource, verb, namespace: ns });
    }
  }
  return out;
}

/** Requests refused, and grants no request of the ServiceAccount used. */
function audit(log: AuditEvent[], rbac: string) {
  const mine = log.filter((e) => e.user === SA);
  const refused = log.filter((e) => e.code === 403).map((e) => `${e.user} ${e.verb} ${e.resource}${e.subresource ? "/" + e.subresource : ""} ns=${e.namespace} ${e.name}`);
  const unused = grantsOf(rbac)
    .filter((g) => !mine.some((e) => e.code < 400 && e.verb === g.verb && e.group === g.group && (e.subresource ? `${e.resource}/${e.subresource}` : e.resource) === g.resource && (!g.namespace || e.namespace === g.namespace)))
    .map((g) => `${g.verb} ${g.resource}${g.namespace ? ` in ${g.namespace}` : ""}`);
  return { refused, unused };
}

const lockOptions = (nodeName: string) => ({ namespace: "sluice", group: "default", concurrency: 1, nodeName, lockTtlMs: 60_000 });

/**
 * node-a takes the one slot while node-b holds it: it waits in the queue, looks up the holder's
 * Node (a deleted holder frees its slot), and gets the slot when node-b releases.
 */
async function acquireContended(deps: ConstructorParameters<typeof RebootLock>[1], clock: FakeClock): Promise<RebootLock> {
  const b = new RebootLock(lockOptions("node-b"), deps);
  await b.start();
  await b.acquire({ needSince: clock.now() - 60_000, bootId: "b0" });
  const a = new RebootLock(lockOptions("node-a"), deps);
  await a.start();
  const taking = a.acquire({ needSince: clock.now(), bootId: "b1" });
  await drive(clock, new Promise((r) => setTimeout(r, 50)));
  await b.release();
  await b.stop();
  await drive(clock, taking);
  return a;
}

/** The agent's node watch: list its own Node's object, then watch from there by field selector. */
async function watchOwnNode(kube: Kube, clock: FakeClock, node: string, change: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const listed = await kube.listNodes();
  expect(listed.items.map((n) => n.metadata?.name)).toContain(node);
  const w = await kube.watchNode(node, { resourceVersion: listed.resourceVersion }, (type, n: V1Node) => seen.push(`${type} ${n.metadata?.name}`));
  await change();
  await drive(clock, (async () => { for (let i = 0; i < 200 && !seen.length; i++) await new Promise((r) => setTimeout(r, 5)); })());
  w.stop();
  await w.done.catch(() => {});
  return seen;
}

describe("deploy/rbac.yaml (one credential)", () => {
  const rbac = read("rbac.yaml");

  it("lets the ServiceAccount run every flow, is refused nothing, and grants nothing unused", async () => {
    const { clock, server } = await start(rbac);
    const kube = simKube(server, "agent-token");
    const logs = new Capture();
    const log = new Logger({ sink: logs, level: "warning" });
    const events = new KubeEventRecorder({ kube, clock, log }, { host: "node-a" });
    const deps = { kube, clock, log, events };

    expect(await checkBlockers({ node: "node-a", podSelectors: ["app=backup"], prometheusUrl: "", alerts: {} }, { kube, fetch: globalThis.fetch, log: nullLogger })).toMatchObject({ blocked: false });
    const lock = await acquireContended(deps, clock);
    await setPendingTaint(deps, "node-a", "sluice.dev/pending", true);
    await markBeforeReboot(deps, "node-a", { preRebootNodeLabels: ["sluice.dev/phase=rebooting"], annotateNodes: true });
    const c = await cordon(deps, "node-a", async (r) => void (await lock.setPhase("draining", { wasUnschedulable: r.wasUnschedulable })));
    const drained = await drive(clock, drainNode({ node: "node-a", timeoutMs: 600_000 }, deps));
    expect(drained).toMatchObject({ outcome: "drained", evicted: 2 });
    // The pod the drain retries is read again first (same-pod check) — the drain's own path on a 429.
    expect(await code(kube.getPod("apps", server.store.list("/pods", "apps")[0]!.metadata.name))).toBe("ok");
    // After the boot: Ready seen through the node watch, then uncordon and the marks.
    expect(await watchOwnNode(kube, clock, "node-a", async () => cluster!.reboot("node-a", 1000))).toContain("MODIFIED node-a");
    await markAfterReboot(deps, "node-a", { postRebootNodeLabels: ["sluice.dev/phase=done"], annotateNodes: true }, c.wasUnschedulable);
    await setPendingTaint(deps, "node-a", "sluice.dev/pending", false);
    // Events: a repeat is folded into the first by a patch; the Event is found by listing and replaced.
    const e = { node: "node-a", type: "Warning" as const, reason: "EvictionRefused", message: "webhook said no" };
    await events.record(e);
    await events.record(e);
    const listed = await kube.listEvents("default", "involvedObject.name=node-a");
    const refused = listed.items.find((x) => x.reason === "EvictionRefused")!;
    expect(refused.count).toBe(2);
    await kube.replaceEvent("default", { ...refused, message: "webhook said no (again)" });
    await lock.release();
    await lock.stop();
    // The lock's own reads after a conflict, and the operator commands that share the Role.
    expect(await code(kube.getLease("sluice", "sluice-default-0"))).toBe("ok");
    await pauseGroup(kube, { namespace: "sluice", group: "default" }, "ops", clock.now());
    expect((await readLockState(kube, { namespace: "sluice", group: "default", concurrency: 1 })).paused).toBeTruthy();
    await resumeGroup(kube, { namespace: "sluice", group: "default" });

    const node = server.store.get("/nodes", "node-a")!;
    expect(node.spec.unschedulable).toBeFalsy();
    expect(node.metadata.labels["sluice.dev/phase"]).toBe("done");
    expect(logs.text).not.toMatch(/forbidden|cannot/i);
    expect(server.store.list("events", "default").map((x) => x.reason)).toEqual(expect.arrayContaining(["Cordoned", "Uncordoned"]));
    expect(audit(server.auditLog, rbac)).toEqual({ refused: [], unused: [] });
  }, 60_000);

  it("gives the ServiceAccount nothing else that was tried", async () => {
    const { server } = await start(rbac);
    const kube = simKube(server, "agent-token");
    const pod = server.store.list("/pods", "apps")[0]!;
    const refused: Array<[string, () => Promise<unknown>]> = [
      ["delete a pod", () => kube.deletePod("apps", pod.metadata.name, 0)],
      ["Leases outside its namespace", () => kube.listLeases("kube-system")],
      ["create a Lease outside its namespace", () => kube.createLease("apps", { metadata: { name: "x" }, spec: {} })],
      ["Events outside default", () => kube.listEvents("apps")],
    ];
    for (const [what, call] of refused) expect({ what, code: await code(call()) }).toEqual({ what, code: "forbidden" });
    const raw = async (method: string, path: string) =>
      (await fetch(`${server.url}${path}`, { method, headers: { Authorization: "Bearer agent-token", "Content-Type": "application/json" }, body: method === "GET" ? undefined : "{}" })).status;
    expect(await raw("GET", "/api/v1/namespaces/sluice/secrets")).toBe(403);
    expect(await raw("DELETE", "/api/v1/nodes/node-a")).toBe(403);
    expect(await raw("PUT", "/api/v1/nodes/node-a")).toBe(403);
    expect(await raw("POST", "/api/v1/namespaces/apps/pods")).toBe(403);
    expect(await raw("POST", "/apis/events.k8s.io/v1/namespaces/default/events")).toBe(403);
  });
});

describe("deploy/node-identity (two credentials, under NodeRestriction)", () => {
  const base = read("node-identity/rbac.yaml");
  const taint = read("node-identity-taint/rbac.yaml");

  async function flows(rbac: string, withTaint: boolean) {
    const { clock, server } = await start(rbac);
    const sa = simKube(server, "agent-token");
    const kubelet = simKube(server, "node-a-token");
    const logs = new Capture();
    const log = new Logger({ sink: logs, level: "warning" });
    const events = new KubeEventRecorder({ kube: kubelet, clock, log }, { host: "node-a" });
    const saDeps = { kube: sa, clock, log, events };
    const nodeDeps = { kube: kubelet, clock, log, events };
    // The semaphore and reading Nodes: the ServiceAccount.
    const lock = await acquireContended(saDeps, clock);
    expect(await code(sa.getLease("sluice", "sluice-default-0"))).toBe("ok");
    // The node's own work: the kubelet's credential.
    expect(await checkBlockers({ node: "node-a", podSelectors: ["app=backup"], prometheusUrl: "", alerts: {} }, { kube: kubelet, fetch: globalThis.fetch, log: nullLogger })).toMatchObject({ blocked: false });
    if (withTaint) await setPendingTaint(saDeps, "node-a", "sluice.dev/pending", true);
    await markBeforeReboot(nodeDeps, "node-a", { preRebootNodeLabels: ["sluice.dev/phase=rebooting"], annotateNodes: true });
    const c = await cordon(nodeDeps, "node-a", async (r) => void (await lock.setPhase("draining", { wasUnschedulable: r.wasUnschedulable })));
    expect(await drive(clock, drainNode({ node: "node-a", timeoutMs: 600_000 }, nodeDeps))).toMatchObject({ outcome: "drained", evicted: 2 });
    expect(await watchOwnNode(sa, clock, "node-a", async () => cluster!.reboot("node-a", 1000))).toContain("MODIFIED node-a");
    await markAfterReboot(nodeDeps, "node-a", { postRebootNodeLabels: ["sluice.dev/phase=done"], annotateNodes: true }, c.wasUnschedulable);
    if (withTaint) await setPendingTaint(saDeps, "node-a", "sluice.dev/pending", false);
    await lock.release();
    await lock.stop();
    expect(logs.text).not.toMatch(/forbidden|cannot/i);
    expect(server.store.get("/nodes", "node-a")!.metadata.labels["sluice.dev/phase"]).toBe("done");
    return { server, clock, sa, kubelet, saDeps, nodeDeps };
  }

  it("runs the flows with the ServiceAccount on Leases and Node reads only, refused nothing, granting nothing unused", async () => {
    const { server, sa, kubelet } = await flows(base, false);
    expect(audit(server.auditLog, base)).toEqual({ refused: [], unused: [] });
    // What the shared token can no longer do, and what the kubelet may not do for it.
    expect(await code(sa.patchNode("node-a", { unschedulable: true }))).toBe("forbidden");
    expect(await code(sa.evictPod("apps", server.store.list("/pods", "apps")[0]!.metadata.name))).toBe("forbidden");
    expect(await code(sa.listPodsOnNode("node-a"))).toBe("forbidden");
    expect(await code(kubelet.listLeases("sluice"))).toBe("forbidden");
    expect(await code(kubelet.patchNode("node-b", { unschedulable: true }))).toBe("forbidden");
    const other = server.store.list("/pods", "apps").find((p) => p.spec.nodeName === "node-b")!;
    expect(await code(kubelet.evictPod("apps", other.metadata.name))).toBe("forbidden");
    // A kubelet may not list Events: folding repeats by listing needs another way in this mode.
    expect(await code(kubelet.listEvents("default"))).toBe("forbidden");
  }, 60_000);

  it("with node-identity-taint: the ServiceAccount sets the pending taint the kubelet is refused", async () => {
    const rbac = `${base}\n---\n${taint}`;
    const { server, nodeDeps } = await flows(rbac, true);
    expect(audit(server.auditLog, rbac)).toEqual({ refused: [], unused: [] });
    await expect(setPendingTaint(nodeDeps, "node-a", "sluice.dev/pending", true)).rejects.toMatchObject({ code: "forbidden" });
    expect(server.auditLog.at(-1)).toMatchObject({ user: "system:node:node-a", verb: "patch", resource: "nodes", code: 403 });
  }, 60_000);
});
