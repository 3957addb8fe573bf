/**
 * Discovery documents for exactly what the sim serves, so a client deciding between policy/v1 and
 * policy/v1beta1 (as kubectl does) sees the truth. Shapes as kube-apiserver writes them.
 */
import { type ResourceDef, groupVersion, resources } from "./resources";

type Obj = Record<string, any>;

export const SERVER_VERSION = { major: "1", minor: "24", gitVersion: "v1.24.0-sluice-sim", gitCommit: "", gitTreeState: "clean", buildDate: "", goVersion: "", compiler: "gc", platform: "linux/amd64" };

const fullVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

function entries(def: ResourceDef): Obj[] {
  const main: Obj = { name: def.plural, singularName: "", namespaced: def.namespaced, kind: def.kind, verbs: def.kind === "Namespace" ? fullVerbs.filter((v) => v !== "deletecollection") : fullVerbs };
  if (def.shortNames) main.shortNames = def.shortNames;
  if (def.kind === "Pod") main.categories = ["all"];
  if (def.storageVersionHash) main.storageVersionHash = def.storageVersionHash;
  const out = [main];
  for (const sub of def.subresources) {
    if (sub === "status") out.push({ name: `${def.plural}/status`, singularName: "", namespaced: def.namespaced, kind: def.kind, verbs: ["get", "patch", "update"] });
    if (sub === "eviction") out.push({ name: "pods/eviction", singularName: "", namespaced: true, group: "policy", version: "v1", kind: "Eviction", verbs: ["create"] });
    if (sub === "token") out.push({ name: "serviceaccounts/token", singularName: "", namespaced: true, group: "authentication.k8s.io", version: "v1", kind: "TokenRequest", verbs: ["create"] });
  }
  return out;
}

export function resourceList(group: string, version: string): Obj | undefined {
  const defs = resources.filter((r) => r.group === group && r.versions.includes(version));
  if (!defs.length) return undefined;
  const list: Obj = { kind: "APIResourceList", groupVersion: groupVersion(group, version), resources: defs.flatMap(entries).sort((a, b) => (a.name < b.name ? -1 : 1)) };
  // /api/v1 has no apiVersion in its resource list; the groups' lists do.
  if (group) return { kind: list.kind, apiVersion: "v1", groupVersion: list.groupVersion, resources: list.resources };
  return list;
}

function groupDoc(group: string): Obj | undefined {
  const versions = [...new Set(resources.filter((r) => r.group === group).flatMap((r) => r.versions))];
  if (!group || !versions.length) return undefined;
  const order = (v: string) => (v === "v1" ? 0 : 1);
  versions.sort((a, b) => order(a) - order(b) || (a < b ? 1 : -1));
  const gv = (v: string) => ({ groupVersion: `${group}/${v}`, version: v });
  return { name: group, versions: versions.map(gv), preferredVersion: gv(versions[0]) };
}

export function apiGroup(group: string): Obj | undefined {
  const g = groupDoc(group);
  return g && { kind: "APIGroup", apiVersion: "v1", ...g };
}

export function apiGroupList(): Obj {
  const groups = [...new Set(resources.map((r) => r.group).filter(Boolean))];
  return { kind: "APIGroupList", apiVersion: "v1", groups: groups.map((g) => groupDoc(g)!) };
}

export function apiVersions(serverAddress: string): Obj {
  return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }] };
}
