/**
 * Users and RBAC loaded from `authYaml`, the way `deploy/` manifests are checked for least
 * privilege: token users (plain, ServiceAccount, kubelet, inline rules), Role/RoleBinding and
 * ClusterRole/ClusterRoleBinding rules, and refusals answered byte for byte as kube-apiserver's
 * 403 bodies in shared/k8s-golden/14-rbac-serviceaccount.json.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimServer, parseAuthYaml } from "../../agent/sim";
import { GOLDEN_DIR } from "./golden/replay";

const AUTH = `
users:
  - token: agent-token
    serviceAccount: sluice/agent
  - token: dev-token
    name: dev
    groups: [devs]
  - token: reader-token
    name: reader
    groups: [readers]
  - token: ops-token
    name: ops
    rules: [{apiGroups: [""], resources: [nodes], verbs: [get, list]}]
    namespaceRules: {apps: [{apiGroups: [""], resources: [pods], verbs: [list]}]}
  - token: node-a-token
    node: node-a
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: sluice-agent, namespace: sluice}
rules:
  - apiGroups: [coordination.k8s.io]
    resources: [leases]
    verbs: [get, list, watch, create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: sluice-agent, namespace: sluice}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: sluice-agent}
subjects: [{kind: ServiceAccount, name: agent, namespace: sluice}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-reader}
rules:
  - apiGroups: [""]
    resources: [nodes]
    verbs: [get, list, watch]
  - apiGroups: [""]
    resources: [pods/eviction]
    verbs: [create]
    resourceNames: [web-1]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: readers}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-reader}
subjects: [{kind: Group, name: readers}]
`;

interface GoldenStep {
  request: { method: string; path: string; identity: string };
  response: { status: number; body: unknown };
}
const golden = JSON.parse(readFileSync(join(GOLDEN_DIR, "14-rbac-serviceaccount.json"), "utf8")) as { steps: GoldenStep[] };

let server: SimServer;

async function call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  server = await new SimServer({ namespaces: ["sluice", "apps"], authYaml: AUTH }).start();
  server.apply({ apiVersion: "v1", kind: "Node", metadata: { name: "node-a" } });
  for (const name of ["web-0", "web-1"]) {
    server.apply({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "apps" }, spec: { nodeName: "node-a", containers: [{ name: "app", image: "pause" }] } });
  }
});

afterAll(async () => {
  await server.stop();
});

describe("authYaml", () => {
  it("creates the RBAC objects of the YAML in the store", () => {
    expect(server.store.get("rbac.authorization.k8s.io/roles", "sluice/sluice-agent")?.rules).toHaveLength(1);
    expect(server.store.get("rbac.authorization.k8s.io/clusterrolebindings", "readers")?.subjects).toEqual([{ kind: "Group", name: "readers" }]);
  });

  it("answers each refusal of golden file 14 with the recorded 403 body", async () => {
    const tokens: Record<string, string> = { "sa:sluice/agent": "agent-token", dev: "dev-token" };
    const refused = golden.steps.filter((s) => s.response.status === 403);
    expect(refused.length).toBeGreaterThanOrEqual(4);
    for (const step of refused) {
      const body = step.request.method === "POST" ? { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "web-0", namespace: "apps" } } : undefined;
      const got = await call(tokens[step.request.identity]!, step.request.method, step.request.path, body);
      expect({ status: got.status, body: got.body }, `${step.request.method} ${step.request.path}`).toEqual({ status: 403, body: step.response.body });
    }
  });

  it("allows what a RoleBinding grants to a ServiceAccount, in its namespace only", async () => {
    expect((await call("agent-token", "GET", "/apis/coordination.k8s.io/v1/namespaces/sluice/leases")).status).toBe(200);
    const created = await call("agent-token", "POST", "/apis/coordination.k8s.io/v1/namespaces/sluice/leases", { metadata: { name: "l" }, spec: {} });
    expect(created.status).toBe(201);
    const elsewhere = await call("agent-token", "GET", "/apis/coordination.k8s.io/v1/namespaces/apps/leases");
    expect(elsewhere).toEqual({
      status: 403,
      body: {
        kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", reason: "Forbidden", code: 403,
        message: 'leases.coordination.k8s.io is forbidden: User "system:serviceaccount:sluice:agent" cannot list resource "leases" in API group "coordination.k8s.io" in the namespace "apps"',
        details: { group: "coordination.k8s.io", kind: "leases" },
      },
    });
  });

  it("allows what a ClusterRoleBinding grants to a group, with resourceNames and subresources", async () => {
    expect((await call("reader-token", "GET", "/api/v1/nodes")).status).toBe(200);
    expect((await call("reader-token", "GET", "/api/v1/nodes/node-a")).status).toBe(200);
    const evictOther = await call("reader-token", "POST", "/api/v1/namespaces/apps/pods/web-0/eviction", { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "web-0" } });
    expect(evictOther.status).toBe(403);
    expect(evictOther.body.message).toBe('pods "web-0" is forbidden: User "reader" cannot create resource "pods/eviction" in API group "" in the namespace "apps"');
    const evictNamed = await call("reader-token", "POST", "/api/v1/namespaces/apps/pods/web-1/eviction", { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "web-1" } });
    expect(evictNamed.status).toBe(201);
    const del = await call("reader-token", "DELETE", "/api/v1/nodes/node-a");
    expect(del.status).toBe(403);
    expect(del.body.details).toEqual({ name: "node-a", kind: "nodes" });
  });

  it("applies a user's inline rules, cluster-wide and per namespace", async () => {
    expect((await call("ops-token", "GET", "/api/v1/nodes")).status).toBe(200);
    expect((await call("ops-token", "GET", "/api/v1/namespaces/apps/pods")).status).toBe(200);
    const other = await call("ops-token", "GET", "/api/v1/namespaces/sluice/pods");
    expect(other.status).toBe(403);
    expect(other.body.message).toBe('pods is forbidden: User "ops" cannot list resource "pods" in API group "" in the namespace "sluice"');
  });

  it("gives a node: user the Node authorizer's rights and NodeRestriction's limits", async () => {
    expect((await call("node-a-token", "GET", "/api/v1/nodes/node-a")).status).toBe(200);
    const lease = await call("node-a-token", "GET", "/apis/coordination.k8s.io/v1/namespaces/sluice/leases/x");
    expect(lease.status).toBe(403);
    expect(lease.body.message).toContain('can only access leases in the "kube-node-lease" system namespace');
  });

  it("answers 401 to an unknown token", async () => {
    const got = await call("nobody", "GET", "/api/v1/nodes");
    expect(got).toEqual({ status: 401, body: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 } });
  });

  it("rejects documents that are neither users nor RBAC objects, and users without an identity", () => {
    expect(() => parseAuthYaml("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n")).toThrow(/unsupported document kind Pod/);
    expect(() => parseAuthYaml("users:\n  - token: t\n")).toThrow(/needs name, serviceAccount or node/);
    expect(() => parseAuthYaml("users: [\n")).toThrow(/auth YAML/);
  });
});
