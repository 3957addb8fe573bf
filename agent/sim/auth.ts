/**
 * Authentication (static bearer tokens) and authorization (system:masters, the Node authorizer,
 * and RBAC over the Role/ClusterRole/…Binding objects in the store plus per-token inline rules).
 * Users and RBAC objects load from YAML so `deploy/` manifests can be checked for least privilege.
 */
import { parseAllDocuments } from "yaml";
import { z } from "zod";
import type { KObj } from "./store";

export interface UserInfo {
  name: string;
  groups: string[];
}

const ruleSchema = z.object({
  apiGroups: z.array(z.string()).optional(),
  resources: z.array(z.string()).optional(),
  verbs: z.array(z.string()),
  resourceNames: z.array(z.string()).optional(),
  nonResourceURLs: z.array(z.string()).optional(),
});
export type PolicyRule = z.infer<typeof ruleSchema>;

const userSchema = z.object({
  token: z.string().min(1),
  name: z.string().optional(),
  groups: z.array(z.string()).optional(),
  /** Shorthand for a ServiceAccount identity: "namespace/name". */
  serviceAccount: z.string().regex(/^[^/]+\/[^/]+$/).optional(),
  /** Shorthand for a kubelet identity: user system:node:<node>, group system:nodes. */
  node: z.string().optional(),
  rules: z.array(ruleSchema).optional(),
  namespaceRules: z.record(z.string(), z.array(ruleSchema)).optional(),
});
export type SimUserSpec = z.infer<typeof userSchema>;

export interface SimUser extends UserInfo {
  token: string;
  rules: PolicyRule[];
  namespaceRules: Record<string, PolicyRule[]>;
}

export function toSimUser(spec: SimUserSpec): SimUser {
  const u = userSchema.parse(spec);
  let name = u.name;
  let groups = u.groups ?? [];
  if (u.serviceAccount) {
    const [ns, sa] = u.serviceAccount.split("/");
    name ??= `system:serviceaccount:${ns}:${sa}`;
    groups = [...groups, "system:serviceaccounts", `system:serviceaccounts:${ns}`];
  }
  if (u.node) {
    name ??= `system:node:${u.node}`;
    groups = [...groups, "system:nodes"];
  }
  if (!name) throw new Error(`user with token …${u.token.slice(-4)} needs name, serviceAccount or node`);
  if (!groups.includes("system:authenticated")) groups = [...groups, "system:authenticated"];
  return { token: u.token, name, groups, rules: u.rules ?? [], namespaceRules: u.namespaceRules ?? {} };
}

const usersDocSchema = z.object({ users: z.array(userSchema) });
const rbacKinds = new Set(["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ServiceAccount", "Namespace"]);

/**
 * A multi-document YAML file: documents with `users:` define tokens; the others must be RBAC
 * objects (or Namespaces/ServiceAccounts), created in the server as if applied with kubectl.
 */
export function parseAuthYaml(text: string): { users: SimUser[]; objects: KObj[] } {
  const users: SimUser[] = [];
  const objects: KObj[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(`auth YAML: ${doc.errors[0].message}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    if (typeof value === "object" && "users" in (value as object)) {
      for (const u of usersDocSchema.parse(value).users) users.push(toSimUser(u));
      continue;
    }
    const obj = value as KObj;
    if (!rbacKinds.has(obj.kind) || !obj.metadata?.name) throw new Error(`auth YAML: unsupported document kind ${String(obj.kind)}`);
    objects.push(obj);
  }
  return { users, objects };
}

export interface Attributes {
  user: UserInfo;
  verb: string;
  group: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  /** Set for non-resource requests (discovery, /version). */
  path?: string;
}

export type Decision = { allowed: true } | { allowed: false; reason?: string };

export interface RbacSource {
  list(storage: string): KObj[];
  inlineRules(user: UserInfo): { cluster: PolicyRule[]; namespaced: Record<string, PolicyRule[]> };
}

export function authorize(a: Attributes, src: RbacSource): Decision {
  const { user } = a;
  if (user.groups.includes("system:masters")) return { allowed: true };
  if (a.path !== undefined) {
    // system:discovery and system:public-info-viewer: every authenticated user may read discovery.
    return user.groups.includes("system:authenticated") ? { allowed: true } : { allowed: false };
  }
  if (user.groups.includes("system:nodes") && user.name.startsWith("system:node:")) {
    const d = nodeAuthorizer(a);
    if (d) return d;
  }
  const inline = src.inlineRules(user);
  if (inline.cluster.some((r) => ruleAllows(r, a))) return { allowed: true };
  if (a.namespace && (inline.namespaced[a.namespace] ?? []).some((r) => ruleAllows(r, a))) return { allowed: true };
  const roles = (storage: string, ns?: string) => src.list(storage).filter((o) => !ns || o.metadata.namespace === ns);
  const roleRules = (ref: { kind: string; name: string }, ns: string): PolicyRule[] => {
    const found =
      ref.kind === "ClusterRole"
        ? roles("rbac.authorization.k8s.io/clusterroles").find((r) => r.metadata.name === ref.name)
        : roles("rbac.authorization.k8s.io/roles", ns).find((r) => r.metadata.name === ref.name);
    return (found?.rules ?? []) as PolicyRule[];
  };
  for (const b of roles("rbac.authorization.k8s.io/clusterrolebindings")) {
    if (subjectsMatch(b.subjects, user, "") && roleRules(b.roleRef ?? {}, "").some((r) => ruleAllows(r, a))) return { allowed: true };
  }
  if (a.namespace) {
    for (const b of roles("rbac.authorization.k8s.io/rolebindings", a.namespace)) {
      if (subjectsMatch(b.subjects, user, a.namespace) && roleRules(b.roleRef ?? {}, a.namespace).some((r) => ruleAllows(r, a))) return { allowed: true };
    }
  }
  return { allowed: false };
}

function subjectsMatch(subjects: any[] | undefined, user: UserInfo, bindingNs: string): boolean {
  return (subjects ?? []).some((s) => {
    if (s.kind === "User") return s.name === user.name;
    if (s.kind === "Group") return user.groups.includes(s.name);
    if (s.kind === "ServiceAccount") return user.name === `system:serviceaccount:${s.namespace || bindingNs}:${s.name}`;
    return false;
  });
}

export function ruleAllows(r: PolicyRule, a: Attributes): boolean {
  const has = (list: string[] | undefined, v: string) => (list ?? []).some((x) => x === "*" || x === v);
  if (!has(r.verbs, a.verb)) return false;
  if (!has(r.apiGroups, a.group)) return false;
  const full = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resOk = (r.resources ?? []).some((x) => x === "*" || x === full || (a.subresource && x === `${a.resource}/*`) || (a.subresource && x === `*/${a.subresource}`));
  if (!resOk) return false;
  if (r.resourceNames?.length && !r.resourceNames.includes(a.name)) return false;
  return true;
}

/**
 * The Node authorizer, for what sluice touches: a kubelet may use Leases only in kube-node-lease,
 * and otherwise has the system:node ClusterRole's rights (which NodeRestriction then narrows).
 */
const systemNodeRules: PolicyRule[] = [
  { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch", "create", "update", "patch", "delete"] },
  { apiGroups: [""], resources: ["nodes/status"], verbs: ["get", "patch", "update"] },
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "create", "delete"] },
  { apiGroups: [""], resources: ["pods/status"], verbs: ["get", "patch", "update"] },
  { apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"] },
  // Only core Events: a kubelet's events.k8s.io Event is 403 (shared/k8s-golden/v1.28/20 step 20).
  { apiGroups: [""], resources: ["events"], verbs: ["create", "update", "patch"] },
];

function nodeAuthorizer(a: Attributes): Decision | undefined {
  if (a.group === "coordination.k8s.io" && a.resource === "leases") {
    // authorizeLease's order: the verb, then the namespace, then the name (unknown on create).
    if (!["get", "create", "update", "patch", "delete"].includes(a.verb)) return { allowed: false, reason: "can only get, create, update, patch, or delete a node lease" };
    if (a.namespace !== "kube-node-lease") return { allowed: false, reason: `can only access leases in the "kube-node-lease" system namespace` };
    if (a.verb !== "create" && a.name !== nodeNameOf(a.user)) return { allowed: false, reason: "can only access node lease with the same name as the requesting node" };
    return { allowed: true };
  }
  if (systemNodeRules.some((r) => ruleAllows(r, a))) return { allowed: true };
  return undefined;
}

export function nodeNameOf(user: UserInfo): string | undefined {
  return user.groups.includes("system:nodes") && user.name.startsWith("system:node:") ? user.name.slice("system:node:".length) : undefined;
}

/** `User "x" cannot list resource "pods" in API group "" in the namespace "apps"`. */
export function forbiddenReason(a: Attributes, extra?: string): string {
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : "at the cluster scope";
  const base = `User "${a.user.name}" cannot ${a.verb} resource "${res}" in API group "${a.group}" ${scope}`;
  return extra ? `${base}: ${extra}` : base;
}
