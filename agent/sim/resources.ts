/**
 * The resources the sim serves, with what the generic registry needs to know about each: scope,
 * subresources, whether an update must carry a resourceVersion, and the known top-level fields
 * (unknown ones are dropped silently, as 1.20–1.24 servers do without field validation).
 */
export interface ResourceDef {
  group: string;
  /** Served versions, preferred first. */
  versions: string[];
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  subresources: string[];
  /** Nodes, pods, PDBs allow PUT without metadata.resourceVersion; leases do not (422). */
  allowUnconditionalUpdate: boolean;
  /** A PUT to a missing object creates it (Leases, Events, RBAC objects). */
  allowCreateOnUpdate: boolean;
  /** metadata.generation is kept and bumped on spec changes (PDBs). */
  hasGeneration: boolean;
  /** Pods answer DELETE with the object; everything else with a Success Status. */
  returnDeletedObject: boolean;
  /** Top-level fields besides apiVersion/kind/metadata; anything else is dropped on decode. */
  fields: string[];
  /** Storage key: resources served under two groups (events) share one store. */
  storage: string;
  /** 1.20's storageVersionHash, kept so discovery matches the recording. */
  storageVersionHash?: string;
}

const def = (d: Omit<ResourceDef, "storage" | "subresources" | "allowUnconditionalUpdate" | "allowCreateOnUpdate" | "hasGeneration" | "returnDeletedObject"> & Partial<ResourceDef>): ResourceDef => ({
  subresources: [],
  allowUnconditionalUpdate: true,
  allowCreateOnUpdate: ["Lease", "Event", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"].includes(d.kind),
  hasGeneration: false,
  returnDeletedObject: false,
  storage: `${d.group}/${d.plural}`,
  ...d,
});

export const resources: ResourceDef[] = [
  def({ group: "", versions: ["v1"], plural: "namespaces", singular: "namespace", kind: "Namespace", namespaced: false, shortNames: ["ns"], subresources: ["status"], fields: ["spec", "status"], storageVersionHash: "Q3oi5N2YM8M=" }),
  def({ group: "", versions: ["v1"], plural: "nodes", singular: "node", kind: "Node", namespaced: false, shortNames: ["no"], subresources: ["status"], fields: ["spec", "status"], storageVersionHash: "XwShjMxG9Fs=" }),
  def({ group: "", versions: ["v1"], plural: "pods", singular: "pod", kind: "Pod", namespaced: true, shortNames: ["po"], subresources: ["status", "eviction"], returnDeletedObject: true, fields: ["spec", "status"], storageVersionHash: "xPOwRZ+Yhw8=" }),
  def({ group: "", versions: ["v1"], plural: "events", singular: "event", kind: "Event", namespaced: true, shortNames: ["ev"], fields: ["involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count", "type", "eventTime", "series", "action", "related", "reportingComponent", "reportingInstance"], storage: "events", storageVersionHash: "r2yiGXH7wu8=" }),
  def({ group: "", versions: ["v1"], plural: "serviceaccounts", singular: "serviceaccount", kind: "ServiceAccount", namespaced: true, shortNames: ["sa"], subresources: ["token"], fields: ["secrets", "imagePullSecrets", "automountServiceAccountToken"], storageVersionHash: "pbx9ZvyFpBE=" }),
  def({ group: "", versions: ["v1"], plural: "secrets", singular: "secret", kind: "Secret", namespaced: true, fields: ["immutable", "data", "stringData", "type"], storageVersionHash: "S6u1pOWzb84=" }),
  def({ group: "coordination.k8s.io", versions: ["v1"], plural: "leases", singular: "lease", kind: "Lease", namespaced: true, allowUnconditionalUpdate: false, fields: ["spec"], storageVersionHash: "gqkMMb/YqFM=" }),
  def({ group: "policy", versions: ["v1", "v1beta1"], plural: "poddisruptionbudgets", singular: "poddisruptionbudget", kind: "PodDisruptionBudget", namespaced: true, shortNames: ["pdb"], subresources: ["status"], hasGeneration: true, fields: ["spec", "status"], storageVersionHash: "6BGBu0kpHtk=" }),
  def({ group: "events.k8s.io", versions: ["v1", "v1beta1"], plural: "events", singular: "event", kind: "Event", namespaced: true, shortNames: ["ev"], fields: ["eventTime", "series", "reportingController", "reportingInstance", "action", "reason", "regarding", "related", "note", "type", "deprecatedSource", "deprecatedFirstTimestamp", "deprecatedLastTimestamp", "deprecatedCount"], storage: "events", storageVersionHash: "r2yiGXH7wu8=" }),
  def({ group: "rbac.authorization.k8s.io", versions: ["v1"], plural: "roles", singular: "role", kind: "Role", namespaced: true, fields: ["rules"], storageVersionHash: "7FuwZcIIItM=" }),
  def({ group: "rbac.authorization.k8s.io", versions: ["v1"], plural: "rolebindings", singular: "rolebinding", kind: "RoleBinding", namespaced: true, fields: ["subjects", "roleRef"], storageVersionHash: "+hgHb2Vm4Ko=" }),
  def({ group: "rbac.authorization.k8s.io", versions: ["v1"], plural: "clusterroles", singular: "clusterrole", kind: "ClusterRole", namespaced: false, fields: ["rules", "aggregationRule"], storageVersionHash: "bYE5ZWDrJ44=" }),
  def({ group: "rbac.authorization.k8s.io", versions: ["v1"], plural: "clusterrolebindings", singular: "clusterrolebinding", kind: "ClusterRoleBinding", namespaced: false, fields: ["subjects", "roleRef"], storageVersionHash: "48tpQ8gZHFc=" }),
];

export function findResource(group: string, version: string, plural: string): ResourceDef | undefined {
  return resources.find((r) => r.group === group && r.plural === plural && r.versions.includes(version));
}

export function byStorage(storage: string): ResourceDef {
  return resources.find((r) => r.storage === storage)!;
}

export const groupVersion = (group: string, version: string) => (group ? `${group}/${version}` : version);

/** ObjectMeta in the order Go marshals it, unknown keys dropped, managedFields never kept. */
const metaOrder = [
  "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp",
  "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers",
];

export function cleanMeta(meta: Record<string, any> | undefined): Record<string, any> {
  const out: Record<string, any> = {};
  for (const k of metaOrder) if (meta && meta[k] !== undefined && meta[k] !== null) out[k] = meta[k];
  // omitempty: Go drops empty maps and lists, so a patch that removes the last label leaves no `labels`.
  for (const k of ["labels", "annotations", "ownerReferences", "finalizers"]) {
    if (out[k] !== undefined && Object.keys(out[k]).length === 0) delete out[k];
  }
  return out;
}

/** Keeps only known fields, in the order the definition lists them. */
export function pruneTopLevel(def: ResourceDef, body: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = { metadata: cleanMeta(body.metadata) };
  for (const f of def.fields) if (body[f] !== undefined) out[f] = body[f];
  return out;
}
