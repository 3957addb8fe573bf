/**
 * Discovery documents for exactly what the sim serves, so a client deciding between policy/v1 and
 * policy/v1beta1 (as kubectl does) sees the truth. Shapes as kube-apiserver writes them.
 */
import { type ResourceDef, groupVersion, resources } from "./resources";
import { type VersionProfile, isServed } from "./version";

type Obj = Record<string, any>;

const fullVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

function entries(def: ResourceDef, p: VersionProfile): Obj[] {
  const main: Obj = { name: def.plural, singularName: p.singularNames ? def.singular : "", namespaced: def.namespaced, kind: def.kind, verbs: def.kind === "Namespace" ? fullVerbs.filter((v) => v !== "deletecollection") : fullVerbs };
  if (def.shortNames) main.shortNames = def.shortNames;
  if (def.kind === "Pod") main.categories = ["all"];
  if (def.storageVersionHash) main.storageVersionHash = def.kind === "PodDisruptionBudget" ? p.pdbStorageHash : def.storageVersionHash;
  const out = [main];
  for (const sub of def.subresources) {
    if (sub === "status") out.push({ name: `${def.plural}/status`, singularName: "", namespaced: def.namespaced, kind: def.kind, verbs: ["get", "patch", "update"] });
    if (sub === "eviction") out.push({ name: "pods/eviction", singularName: "", namespaced: true, group: "policy", version: p.served.policy[0], kind: "Eviction", verbs: ["create"] });
    if (sub === "token") out.push({ name: "serviceaccounts/token", singularName: "", namespaced: true, group: "authentication.k8s.io", version: "v1", kind: "TokenRequest", verbs: ["create"] });
  }
  return out;
}

export function resourceList(p: VersionProfile, group: string, version: string): Obj | undefined {
  if (!isServed(p, group, version)) return undefined;
  const defs = resources.filter((r) => r.group === group && r.versions.includes(version));
  if (!defs.length) return undefined;
  const list: Obj = { kind: "APIResourceList", groupVersion: groupVersion(group, version), resources: defs.flatMap((d) => entries(d, p)).sort((a, b) => (a.name < b.name ? -1 : 1)) };
  // /api/v1 has no apiVersion in its resource list; the groups' lists do.
  if (group) return { kind: list.kind, apiVersion: "v1", groupVersion: list.groupVersion, resources: list.resources };
  return list;
}

function groupDoc(p: VersionProfile, group: string): Obj | undefined {
  const versions = [...new Set(resources.filter((r) => r.group === group).flatMap((r) => r.versions))].filter((v) => isServed(p, group, v));
  if (!group || !versions.length) return undefined;
  const order = (v: string) => (v === "v1" ? 0 : 1);
  versions.sort((a, b) => order(a) - order(b) || (a < b ? 1 : -1));
  const gv = (v: string) => ({ groupVersion: `${group}/${v}`, version: v });
  return { name: group, versions: versions.map(gv), preferredVersion: gv(versions[0]) };
}

export function apiGroup(p: VersionProfile, group: string): Obj | undefined {
  const g = groupDoc(p, group);
  return g && { kind: "APIGroup", apiVersion: "v1", ...g };
}

export function apiGroupList(p: VersionProfile): Obj {
  const groups = [...new Set(resources.map((r) => r.group).filter(Boolean))];
  return { kind: "APIGroupList", apiVersion: "v1", groups: groups.map((g) => groupDoc(p, g)).filter((g) => g !== undefined) };
}

export function apiVersions(serverAddress: string): Obj {
  return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }] };
}
