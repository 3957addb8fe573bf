/**
 * client-node's own generated APIs against the sim, for every verb issue 3 lists that the narrow
 * Kube port does not use itself: what kubectl or a person pointing client-node at
 * `sluice sim serve` would do. Each call goes over loopback HTTP through an ordinary KubeConfig.
 */
import { ApiException, CoordinationV1Api, CoreV1Api, PatchStrategy, PolicyV1Api, type V1Pod, Watch, setHeaderOptions } from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../agent/ports";
import { SimCluster, SimServer } from "../../agent/sim";

let server: SimServer;
let cluster: SimCluster;
let core: CoreV1Api;
const clock = new FakeClock();

beforeEach(async () => {
  server = await new SimServer({ clock, namespaces: ["apps", "sluice"] }).start();
  cluster = new SimCluster(server, { podReadyDelayMs: 0 });
  core = server.kubeConfig().makeApiClient(CoreV1Api);
});
afterEach(async () => {
  cluster.stop();
  await server.stop();
});

const status = (p: Promise<unknown>) => p.then(() => 200, (e: unknown) => (e instanceof ApiException ? e.code : -1));
const pod = (name: string, node: string, labels: Record<string, string> = { app: "web" }): V1Pod => ({
  metadata: { name, namespace: "apps", labels },
  spec: { nodeName: node, containers: [{ name: "c", image: "busybox" }], terminationGracePeriodSeconds: 30 },
});

describe("client-node's generated APIs against the sim", () => {
  it("nodes: create, get, list, update (PUT), merge, strategic-merge and JSON patch, status, delete", async () => {
    const created = await core.createNode({ body: { metadata: { name: "n1", labels: { a: "1" } } } });
    expect(created.spec?.taints).toEqual([{ key: "node.kubernetes.io/not-ready", effect: "NoSchedule" }]);
    expect((await core.listNode()).items.map((n) => n.metadata?.name)).toEqual(["n1"]);
    const put = await core.replaceNode({ name: "n1", body: { ...created, metadata: { ...created.metadata, labels: { a: "2" } } } });
    expect(put.metadata?.labels).toEqual({ a: "2" });
    expect(await status(core.replaceNode({ name: "n1", body: created }))).toBe(409); // stale resourceVersion
    await core.patchNode({ name: "n1", body: { spec: { unschedulable: true } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    const smp = await core.patchNode(
      { name: "n1", body: { spec: { taints: [{ key: "sluice.dev/pending", effect: "PreferNoSchedule" }] } } },
      setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
    );
    // spec.taints has no patchMergeKey: strategic merge replaces the list, as a merge patch does.
    expect(smp.spec?.taints?.map((t) => t.key)).toEqual(["sluice.dev/pending"]);
    const jp = await core.patchNode({ name: "n1", body: [{ op: "replace", path: "/metadata/labels/a", value: "3" }] }, setHeaderOptions("Content-Type", PatchStrategy.JsonPatch));
    expect(jp.metadata?.labels?.a).toBe("3");
    expect(jp.spec?.unschedulable).toBe(true);
    const st = await core.readNodeStatus({ name: "n1" });
    const ready = await core.replaceNodeStatus({ name: "n1", body: { ...st, status: { conditions: [{ type: "Ready", status: "True" }] } } });
    expect(ready.status?.conditions?.[0]).toMatchObject({ type: "Ready", status: "True" });
    expect(ready.metadata?.labels?.a).toBe("3"); // the status subresource leaves metadata alone
    await core.deleteNode({ name: "n1" });
    expect(await status(core.readNode({ name: "n1" }))).toBe(404);
  });

  it("pods: create, list by field and label selector, status, delete with a grace period", async () => {
    cluster.addNode("node-a");
    cluster.addNode("node-b");
    await core.createNamespacedPod({ namespace: "apps", body: pod("w1", "node-a") });
    await core.createNamespacedPod({ namespace: "apps", body: pod("w2", "node-b") });
    await core.createNamespacedPod({ namespace: "apps", body: pod("db", "node-a", { app: "db" }) });
    expect(await status(core.createNamespacedPod({ namespace: "apps", body: pod("w1", "node-a") }))).toBe(409);
    const onA = await core.listPodForAllNamespaces({ fieldSelector: "spec.nodeName=node-a", labelSelector: "app=web" });
    expect(onA.items.map((p) => p.metadata?.name)).toEqual(["w1"]);
    const patched = await core.patchNamespacedPodStatus({ name: "w1", namespace: "apps", body: { status: { phase: "Running" } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    expect(patched.status?.phase).toBe("Running");
    const deleted = await core.deleteNamespacedPod({ name: "w1", namespace: "apps", gracePeriodSeconds: 10 });
    expect(deleted.metadata?.deletionTimestamp).toBeDefined();
    expect((await core.readNamespacedPod({ name: "w1", namespace: "apps" })).metadata?.deletionGracePeriodSeconds).toBe(10);
    await clock.advance(10_000);
    await expect.poll(() => status(core.readNamespacedPod({ name: "w1", namespace: "apps" }))).toBe(404);
  });

  it("pods: watch with a field selector sees only that node's pods", async () => {
    cluster.addNode("node-a");
    const list = await core.listPodForAllNamespaces({ fieldSelector: "spec.nodeName=node-a" });
    const seen: string[] = [];
    const req = await new Watch(server.kubeConfig()).watch(
      "/api/v1/pods",
      { fieldSelector: "spec.nodeName=node-a", resourceVersion: list.metadata?.resourceVersion },
      (type, obj: V1Pod) => seen.push(`${type} ${obj.metadata?.name}`),
      () => {},
    );
    await core.createNamespacedPod({ namespace: "apps", body: pod("elsewhere", "node-b") });
    await core.createNamespacedPod({ namespace: "apps", body: pod("here", "node-a") });
    await expect.poll(() => seen).toEqual(["ADDED here"]);
    req.abort();
  });

  it("PodDisruptionBudgets (policy/v1 only, as 1.25+): the server computes disruptionsAllowed", async () => {
    cluster.addNode("node-a");
    cluster.addWorkload("apps", "web", 3, ["node-a"]);
    const policy = server.kubeConfig().makeApiClient(PolicyV1Api);
    await policy.createNamespacedPodDisruptionBudget({ namespace: "apps", body: { metadata: { name: "web" }, spec: { minAvailable: "50%", selector: { matchLabels: { app: "web" } } } } });
    await expect.poll(async () => (await policy.readNamespacedPodDisruptionBudget({ name: "web", namespace: "apps" })).status).toMatchObject({ currentHealthy: 3, desiredHealthy: 2, disruptionsAllowed: 1, expectedPods: 3 });
    // policy/v1beta1 is gone since 1.25: the generic 404 (golden v1.28/11 step 9).
    const beta = await fetch(`${server.url}/apis/policy/v1beta1/namespaces/apps/poddisruptionbudgets`, { headers: { Authorization: `Bearer ${server.adminToken}` } });
    expect(beta.status).toBe(404);
  });

  it("leases: full CRUD and list by label; events: create and list; discovery", async () => {
    const coord = server.kubeConfig().makeApiClient(CoordinationV1Api);
    const body = { metadata: { name: "l1", labels: { "sluice.dev/group": "g" } }, spec: { holderIdentity: "a" } };
    const l = await coord.createNamespacedLease({ namespace: "sluice", body });
    await coord.createNamespacedLease({ namespace: "sluice", body: { metadata: { name: "l2" }, spec: {} } });
    expect((await coord.listNamespacedLease({ namespace: "sluice", labelSelector: "sluice.dev/group=g" })).items.map((x) => x.metadata?.name)).toEqual(["l1"]);
    await coord.replaceNamespacedLease({ name: "l1", namespace: "sluice", body: { ...l, spec: { holderIdentity: "b" } } });
    expect(await status(coord.replaceNamespacedLease({ name: "l1", namespace: "sluice", body: l }))).toBe(409);
    await coord.deleteNamespacedLease({ name: "l1", namespace: "sluice" });
    expect(await status(coord.readNamespacedLease({ name: "l1", namespace: "sluice" }))).toBe(404);

    cluster.addNode("node-a");
    const node = await core.readNode({ name: "node-a" });
    await core.createNamespacedEvent({
      namespace: "default",
      body: { metadata: { name: "node-a.1" }, involvedObject: { kind: "Node", name: "node-a", uid: node.metadata?.uid }, reason: "Test", message: "m", type: "Normal", source: { component: "sluice" } },
    });
    expect((await core.listNamespacedEvent({ namespace: "default" })).items.map((e) => e.reason)).toEqual(["Test"]);
    expect(await status(core.createNamespacedEvent({ namespace: "sluice", body: { metadata: { name: "x" }, involvedObject: { kind: "Node", name: "node-a" }, reason: "T", message: "m" } }))).toBe(422);

    const coreResources = (await core.getAPIResources()).resources.map((r) => r.name);
    expect(coreResources).toEqual(expect.arrayContaining(["nodes", "nodes/status", "pods", "pods/eviction", "pods/status", "events"]));
    expect((await coord.getAPIResources()).resources.map((r) => r.name)).toContain("leases");
    expect((await server.kubeConfig().makeApiClient(PolicyV1Api).getAPIResources()).resources.map((r) => r.name)).toContain("poddisruptionbudgets");
  });
});
