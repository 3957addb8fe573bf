/**
 * Every golden step the sim does not answer byte-for-byte like the recorded 1.20 server, with the
 * reason. "current-differs": current Kubernetes answers differently and the sim serves current
 * Kubernetes. "not-modelled": the sim does not serve it. "loosened": named fields compared loosely.
 */
import { ANY, type Loosen } from "./compare";

export interface Recorded {
  status: number;
  body: any;
}

export interface StepException {
  kind: "current-differs" | "not-modelled" | "loosened";
  reason: string;
  /** What the sim must answer instead, derived from the recording (everything else still compared). */
  expect?: (rec: Recorded, golden: (file: string, step: number) => Recorded) => Recorded;
  loosen?: Loosen;
}

/** Go's json-iterator quotes request bytes in decode errors; newer servers word them differently. */
const decodeMessage: Loosen = (path, e, a) => {
  if (path !== "message") return undefined;
  const quoted = /parsing time (".*?")/.exec(String(e))?.[1];
  const ok = typeof a === "string" && a.startsWith('Lease in version "v1" cannot be handled as a Lease: ') && Boolean(quoted) && a.includes(quoted!);
  return ok ? "ok" : `message ${JSON.stringify(a)} does not name the bad value ${quoted}`;
};

const podDisruptionBudgetV1 = {
  kind: "APIResourceList",
  apiVersion: "v1",
  groupVersion: "policy/v1",
  resources: [
    { name: "poddisruptionbudgets", singularName: "", namespaced: true, kind: "PodDisruptionBudget", verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"], shortNames: ["pdb"], storageVersionHash: "6BGBu0kpHtk=" },
    { name: "poddisruptionbudgets/status", singularName: "", namespaced: true, kind: "PodDisruptionBudget", verbs: ["get", "patch", "update"] },
  ],
};

/** What the sim serves in core/v1; the recording lists every core resource of a full server. */
const servedCore = new Set([
  "events", "namespaces", "namespaces/status", "nodes", "nodes/status", "pods", "pods/eviction", "pods/status",
  "secrets", "serviceaccounts", "serviceaccounts/token",
]);

export const exceptions: Record<string, StepException> = {
  "02#1": { kind: "loosened", reason: "400 decode-error message: json-iterator's byte snippets differ between versions (README: match code/reason); the bad value must still be quoted", loosen: decodeMessage },
  "02#2": { kind: "loosened", reason: "400 decode-error message, loosened as in 02#1", loosen: decodeMessage },
  "02#3": { kind: "loosened", reason: "400 decode-error message, loosened as in 02#1", loosen: decodeMessage },
  "13#4": {
    kind: "loosened",
    reason: "metadata.name of a generateName object is random (volatile in the file): generateName plus 5 characters",
    loosen: (path, e, a) => (path === "metadata.name" ? (typeof a === "string" && /^node-a\.[a-z0-9]{5}$/.test(a) ? "ok" : `bad generated name ${String(a)} for ${String(e)}`) : undefined),
  },
  "11#2": {
    kind: "current-differs",
    reason: "policy/v1 Eviction exists since 1.22: the v1 body is accepted (201) instead of 400",
    expect: () => ({ status: 201, body: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 } }),
  },
  "11#4": {
    kind: "current-differs",
    reason: "/apis/policy lists policy/v1 (preferred, 1.21+) besides v1beta1",
    expect: (r) => ({
      status: 200,
      body: { ...r.body, versions: [{ groupVersion: "policy/v1", version: "v1" }, ...r.body.versions], preferredVersion: { groupVersion: "policy/v1", version: "v1" } },
    }),
  },
  "11#5": { kind: "current-differs", reason: "/apis/policy/v1 is served (PodDisruptionBudget 1.21+)", expect: () => ({ status: 200, body: podDisruptionBudgetV1 }) },
  "11#6": {
    kind: "not-modelled",
    reason: "PodSecurityPolicy is not served (removed in 1.25); the PDB entries are compared",
    expect: (r) => ({ status: 200, body: { ...r.body, resources: r.body.resources.filter((x: any) => !x.name.startsWith("podsecuritypolicies")) } }),
  },
  "11#7": {
    kind: "current-differs",
    reason: "pods/eviction is listed as policy/v1 (1.22+); and only the core resources the sim serves are listed (not-modelled: the rest)",
    expect: (r) => ({
      status: 200,
      body: {
        ...r.body,
        resources: r.body.resources
          .filter((x: any) => servedCore.has(x.name))
          .map((x: any) => (x.name === "pods/eviction" ? { ...x, version: "v1" } : x)),
      },
    }),
  },
  "11#8": {
    kind: "current-differs",
    reason: "policy/v1 PodDisruptionBudgets are served: the list of the three PDBs created in 10, as policy/v1",
    expect: (_r, golden) => ({
      status: 200,
      body: {
        kind: "PodDisruptionBudgetList",
        apiVersion: "policy/v1",
        metadata: { resourceVersion: ANY },
        items: [golden("10", 20), golden("10", 21), golden("10", 13)].map((g) => {
          const { kind: _k, apiVersion: _a, ...item } = g.body;
          return { ...item, metadata: { ...item.metadata, uid: ANY, resourceVersion: ANY } };
        }),
      },
    }),
  },
  "13#6": {
    kind: "current-differs",
    reason: "events.k8s.io Events about cluster-scoped objects are accepted in `default` since 1.22 (kubernetes/kubernetes#100125)",
    expect: (_r, golden) => {
      const b = golden("13", 7).body;
      return { status: 201, body: { ...b, metadata: { ...b.metadata, namespace: "default", uid: ANY, resourceVersion: ANY } } };
    },
  },
};
