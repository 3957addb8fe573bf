/**
 * What the sim refuses as a real kube-apiserver does, for inputs the golden transcripts do not
 * record: malformed bodies, hostile names, labels, annotations and taints, field validation and
 * dry-run options, and a kubelet identity writing what is not its own. One row per request.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimServer } from "../../agent/sim";

let s: SimServer;
let node: string;
beforeAll(async () => {
  s = await new SimServer({ namespaces: ["sluice"], adminToken: "adm" }).start();
  node = s.nodeToken("node-a");
  s.apply({ apiVersion: "v1", kind: "Node", metadata: { name: "node-a" } });
});
afterAll(async () => {
  await s?.stop();
});

async function call(who: "admin" | "node", method: string, path: string, body?: unknown, contentType = "application/json") {
  const res = await fetch(s.url + path, {
    method,
    headers: { Authorization: `Bearer ${who === "admin" ? "adm" : node}`, "Content-Type": contentType },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, warning: res.headers.get("warning") ?? "", body: (await res.json()) as { message?: string; reason?: string } };
}

const L = "/apis/coordination.k8s.io/v1/namespaces/sluice/leases";
const merge = "application/merge-patch+json";
const smp = "application/strategic-merge-patch+json";

describe("the sim refuses what a real server refuses", () => {
  it.each([
    ["a JSON null body", "POST", L, "null", 400, /must be of type Lease/],
    ["a list for an object", "POST", L, "[]", 400, /must be of type Lease/],
    ["metadata that is a string", "POST", L, { metadata: "x" }, 400, /cannot unmarshal string into Go struct field Lease\.metadata/],
    ["a label value that is a number", "POST", L, { metadata: { name: "n", labels: { a: 1 } } }, 400, /cannot unmarshal number into Go struct field ObjectMeta\.metadata\.labels of type string/],
    ["a name past 253 characters", "POST", L, { metadata: { name: "x".repeat(300) } }, 422, /metadata\.name: Invalid value/],
    ["no name", "POST", L, { metadata: {} }, 422, /^Lease\.coordination\.k8s\.io "" is invalid: metadata\.name: Required value: name or generateName is required$/],
    ["an upper-case name", "POST", L, { metadata: { name: "Caps" } }, 422, /RFC 1123 subdomain/],
    ["a spec that is a string", "POST", L, { metadata: { name: "s1" }, spec: "x" }, 400, /cannot unmarshal string into Go struct field Lease\.spec/],
    ["leaseDurationSeconds past float64 (1e309)", "POST", L, '{"metadata":{"name":"inf"},"spec":{"leaseDurationSeconds":1e309}}', 400, /of type int32/],
    ["a label key whose name part is 64 characters", "POST", L, { metadata: { name: "lbl", labels: { ["k".repeat(64)]: "v" } } }, 422, /name part must be no more than 63 characters/],
    ["a label value with ':' (a time)", "POST", L, { metadata: { name: "t", labels: { at: "2026-11-25T03:40:06Z" } } }, 422, /a valid label must be an empty string/],
    ["annotations past 256 KiB", "POST", L, { metadata: { name: "ann", annotations: { a: "x".repeat(300_000) } } }, 422, /Too long: must have at most 262144 bytes/],
    ["an unknown fieldValidation", "POST", `${L}?fieldValidation=Bogus`, { metadata: { name: "fv" } }, 400, /fieldValidation: Unsupported value: "Bogus"/],
    ["an unknown dryRun", "POST", `${L}?dryRun=Bogus`, { metadata: { name: "dr" } }, 400, /dryRun: Unsupported value: "Bogus"/],
    ["unknown fields under Strict, each named", "POST", `${L}?fieldValidation=Strict`, { metadata: { name: "st", bogus: 1 }, bogusTop: 2, spec: { x: 1 } }, 400, /strict decoding error: unknown field "metadata\.bogus", unknown field "bogusTop", unknown field "spec\.x"$/],
    ["a Namespace name with a dot", "POST", "/api/v1/namespaces", { metadata: { name: "bad.ns" } }, 422, /RFC 1123 label/],
    ["a PUT to a missing Node (no create on update)", "PUT", "/api/v1/nodes/missing", { metadata: { name: "missing" } }, 404, /nodes "missing" not found/],
    ["taints with an unknown effect and a duplicate", "PATCH", "/api/v1/nodes/node-a", { spec: { taints: [{ key: "a", effect: "Bogus" }, { key: "a", effect: "NoSchedule" }, { key: "a", effect: "NoSchedule" }] } }, 422, /Unsupported value: "Bogus".*Duplicate value: "a"/],
    ["an Eviction whose deleteOptions is a string", "POST", "/api/v1/namespaces/sluice/pods/none/eviction", { deleteOptions: "x" }, 400, /Eviction\.deleteOptions/],
  ] as const)("%s → %i", async (_what, method, path, body, status, words) => {
    const r = await call("admin", method, path, body, method === "PATCH" ? merge : "application/json");
    expect({ status: r.status, message: r.body.message }).toEqual({ status, message: expect.stringMatching(words) });
  });

  it("drops unknown fields with one Warning each by default, and stores nothing under dryRun=All", async () => {
    const warned = await call("admin", "POST", L, { metadata: { name: "warn", bogus: 1 }, bogusTop: 2, spec: { x: 1, holderIdentity: "h" } });
    expect(warned.status).toBe(201);
    expect(warned.warning).toBe('299 - "unknown field \\"metadata.bogus\\"", 299 - "unknown field \\"bogusTop\\"", 299 - "unknown field \\"spec.x\\""');
    expect((await call("admin", "POST", `${L}?fieldValidation=Ignore`, { metadata: { name: "quiet" }, bogusTop: 2 })).warning).toBe("");
    expect((await call("admin", "POST", `${L}?dryRun=All`, { metadata: { name: "dry" } })).status).toBe(201);
    expect((await call("admin", "GET", `${L}/dry`)).status).toBe(404);
    expect((await call("admin", "PATCH", `${L}/warn?dryRun=All`, { spec: { holderIdentity: "other" } }, merge)).status).toBe(200);
    expect(s.store.get("coordination.k8s.io/leases", "sluice/warn")!.spec.holderIdentity).toBe("h");
    expect((await call("admin", "PATCH", `${L}/warn`, { spec: { leaseDurationSeconds: 0 } }, merge)).status).toBe(422);
  });

  it("lets a kubelet create, label and keep only its own Node, never its taints or restricted labels", async () => {
    expect((await call("node", "POST", "/api/v1/nodes", { metadata: { name: "node-b" } })).body.message).toMatch(/node "node-a" is not allowed to modify node "node-b"/);
    expect((await call("node", "POST", "/api/v1/nodes", { metadata: { name: "node-a" } })).body.reason).toBe("AlreadyExists");
    expect((await call("node", "POST", "/api/v1/nodes", { metadata: { name: "node-a", labels: { "node-restriction.kubernetes.io/x": "y" } } })).body.message).toMatch(
      /is not allowed to set the following labels: node-restriction\.kubernetes\.io\/x/,
    );
    expect((await call("node", "PATCH", "/api/v1/nodes/node-a", { metadata: { labels: { "topology.kubernetes.io/zone": "z", "sluice.dev/reboot": "pending" } } }, merge)).status).toBe(200);
    const removeTaint = await call("node", "PATCH", "/api/v1/nodes/node-a", { spec: { taints: null } }, merge);
    expect(removeTaint.body.message).toMatch(/not allowed to modify taints/);
    const sameTaints = await call("node", "PATCH", "/api/v1/nodes/node-a", { spec: { taints: [{ key: "node.kubernetes.io/not-ready", effect: "NoSchedule" }] } }, smp);
    expect(sameTaints.status).toBe(200);
    expect((await call("node", "PATCH", "/api/v1/nodes/node-a", { metadata: { labels: { "kubernetes.io/hostname": null } } }, merge)).body.message).toBeUndefined();
    expect((await call("node", "PATCH", "/api/v1/nodes/node-a", { metadata: { labels: { "example.k8s.io/role": "x" } } }, merge)).body.message).toMatch(/not allowed to modify labels: example\.k8s\.io\/role/);
    const otherLease = await call("node", "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", { metadata: { name: "node-b" } });
    expect(otherLease.body.message).toMatch(/can only access node lease with the same name as the requesting node/);
  });
});
