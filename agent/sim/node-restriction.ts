/**
 * The NodeRestriction admission plugin for what a kubelet identity (system:node:<n>) may write:
 * only its own Node, and on it neither taints nor labels outside the kubelet's own set; only its
 * own node Lease; evict, delete and update the status of pods bound to itself. Messages are the
 * plugin's (shared/k8s-golden/15 and v1.28/20).
 */
import { nodeNameOf, type UserInfo } from "./auth";
import { deepEqual } from "./equal";
import type { Registry, Target } from "./registry";
import { failure, forbidden } from "./status";
import type { KObj } from "./store";

type Obj = Record<string, any>;

/** kubeletapis.IsKubeletLabel: labels a kubelet sets on its own Node. */
const kubeletLabels = new Set([
  "kubernetes.io/hostname", "kubernetes.io/os", "kubernetes.io/arch", "beta.kubernetes.io/os", "beta.kubernetes.io/arch",
  "beta.kubernetes.io/instance-type", "node.kubernetes.io/instance-type", "topology.kubernetes.io/zone", "topology.kubernetes.io/region",
  "failure-domain.beta.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/region",
]);
const kubeletLabelNamespaces = ["kubelet.kubernetes.io", "node.kubernetes.io"];

const domainOf = (label: string) => (label.includes("/") ? label.split("/")[0] : "");
const inDomain = (domain: string, d: string) => domain === d || domain.endsWith(`.${d}`);

/** Is a kubelet refused this label (set, changed or removed)? */
export function forbiddenNodeLabel(label: string): boolean {
  const domain = domainOf(label);
  if (inDomain(domain, "node-restriction.kubernetes.io")) return true;
  const kubernetesLabel = inDomain(domain, "kubernetes.io") || inDomain(domain, "k8s.io");
  const kubeletLabel = kubeletLabels.has(label) || kubeletLabelNamespaces.some((ns) => inDomain(domain, ns));
  return kubernetesLabel && !kubeletLabel;
}

function modifiedLabels(next: Record<string, string> = {}, old: Record<string, string> = {}): string[] {
  const keys = new Set([...Object.keys(next), ...Object.keys(old)]);
  return [...keys].filter((k) => next[k] !== old[k]).sort();
}

const sameTaints = (a: unknown, b: unknown) => deepEqual(Array.isArray(a) && a.length ? a : [], Array.isArray(b) && b.length ? b : []);

/**
 * Checks the request's attributes before the registry runs; returns the admission hook for the
 * object about to be stored (Node labels and taints, names only known from the body), if any.
 */
export function nodeRestriction(user: UserInfo, t: Target, verb: string, reg: Registry): ((next: KObj, cur: KObj | undefined) => void) | undefined {
  const node = nodeNameOf(user);
  if (!node || ["get", "list", "watch"].includes(verb)) return undefined;
  const qr = { group: t.def.group, resource: t.def.plural };
  if (t.def.kind === "Node") {
    if (t.name && t.name !== node) throw forbidden(qr, t.name, `node "${node}" is not allowed to modify node "${t.name}"`);
    if (t.subresource) return undefined;
    return (next, cur) => {
      const name = next.metadata.name;
      if (name !== node) throw forbidden(qr, name, `node "${node}" is not allowed to modify node "${name}"`);
      if (!cur) {
        const bad = modifiedLabels(next.metadata.labels).filter(forbiddenNodeLabel);
        if (bad.length) throw forbidden(qr, name, `is not allowed to set the following labels: ${bad.join(", ")}`);
        return;
      }
      if (!sameTaints(next.spec?.taints, cur.spec?.taints)) throw forbidden(qr, name, `node "${node}" is not allowed to modify taints`);
      const bad = modifiedLabels(next.metadata.labels, cur.metadata.labels).filter(forbiddenNodeLabel);
      if (bad.length) throw forbidden(qr, name, `is not allowed to modify labels: ${bad.join(", ")}`);
    };
  }
  if (t.def.kind === "Lease" && t.namespace === "kube-node-lease") {
    const check = (name: string) => {
      if (name !== node) throw forbidden(qr, name, "can only access node lease with the same name as the requesting node");
    };
    if (t.name) check(t.name);
    return (next) => check(next.metadata.name);
  }
  if (t.def.kind === "Pod" && t.name && (verb === "delete" || t.subresource)) {
    const pod: Obj | undefined = reg.store.get("/pods", `${t.namespace}/${t.name}`);
    if (!pod) throw failure(404, "NotFound", `pod "${t.name}" not found`, { name: t.name, kind: "pod" });
    if (pod.spec?.nodeName === node) return undefined;
    if (t.subresource === "eviction") throw forbidden(qr, t.name, `node ${node} can only evict pods with spec.nodeName set to itself`);
    if (t.subresource === "status") throw forbidden(qr, t.name, `node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
    throw forbidden(qr, t.name, `node "${node}" can only delete pods with spec.nodeName set to itself`);
  }
  return undefined;
}
