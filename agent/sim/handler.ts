/**
 * One request, as kube-apiserver's filter chain handles it: route, authenticate, authorize,
 * (fault injection), admission (NodeRestriction), then the registry. Every failure is a Status.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Clock } from "../ports/clock";
import { type Attributes, type SimUser, type UserInfo, authorize, forbiddenReason, nodeNameOf } from "./auth";
import { apiGroup, apiGroupList, apiVersions, resourceList, SERVER_VERSION } from "./discovery";
import { evict } from "./eviction";
import type { Faults } from "./faults";
import { render } from "./kinds";
import type { Registry, Target } from "./registry";
import { type ResourceDef, findResource, resources } from "./resources";
import { fieldSelector, labelSelector } from "./selectors";
import { ApiError, badRequest, failure, forbidden, internalError, methodNotAllowed, notFound, resourceNotFound, unauthorized, unsupportedMediaType } from "./status";
import { formatTime } from "./times";
import { serveWatch } from "./watch";
import type { WatchHub } from "./watch-hub";

type Obj = Record<string, any>;

export interface HandlerDeps {
  registry: Registry;
  clock: Clock;
  faults: Faults;
  users: Map<string, SimUser>;
  bookmarkIntervalMs: number;
  serverAddress(): string;
  /** Registers a token minted by the TokenRequest API. */
  addUser(user: SimUser): void;
  watchers: { open: number };
  hub: WatchHub;
  /** Answer as a server older than 1.22: no policy/v1 (Eviction or PDB), discovery says v1beta1. */
  legacyPolicy: boolean;
}

interface Route {
  def: ResourceDef;
  version: string;
  namespace: string;
  name: string;
  subresource: string;
}

function parseRoute(segments: string[]): Route | "not-found" | { discovery: Obj | undefined } {
  let group = "";
  let version: string;
  let rest: string[];
  if (segments[0] === "api") {
    if (segments.length === 1) return { discovery: undefined };
    version = segments[1];
    rest = segments.slice(2);
  } else {
    if (segments.length === 1) return { discovery: apiGroupList() };
    group = segments[1];
    if (segments.length === 2) return { discovery: apiGroup(group) };
    version = segments[2];
    rest = segments.slice(3);
  }
  if (rest.length === 0) return { discovery: resourceList(group, version) };
  let namespace = "";
  if (rest[0] === "namespaces" && rest.length >= 3 && !(group === "" && ["status", "finalize"].includes(rest[2]) && rest.length === 3)) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name = "", subresource = "", ...extra] = rest;
  const def = findResource(group, version, plural);
  if (!def || extra.length || (namespace && !def.namespaced)) return "not-found";
  if (subresource && !def.subresources.includes(subresource)) return "not-found";
  return { def, version, namespace, name, subresource };
}

export async function handle(req: IncomingMessage, res: ServerResponse, deps: HandlerDeps): Promise<void> {
  let verb = "";
  let resourceLabel = "";
  try {
    const url = new URL(req.url ?? "/", "http://sim");
    const q = url.searchParams;
    const segments = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const user = authenticate(req, deps.users);
    if (!user) throw unauthorized();
    if (segments[0] === "version" || segments[0] === "healthz" || segments[0] === "readyz" || segments[0] === "livez") {
      return send(res, 200, segments[0] === "version" ? SERVER_VERSION : "ok");
    }
    if (segments[0] !== "api" && segments[0] !== "apis") throw resourceNotFound();
    if (deps.legacyPolicy && segments[0] === "apis" && segments[1] === "policy" && segments[2] === "v1") throw resourceNotFound();
    const route = parseRoute(segments);
    if (route === "not-found") throw resourceNotFound();
    if ("discovery" in route) {
      const doc = segments.length === 1 && segments[0] === "api" ? apiVersions(deps.serverAddress()) : route.discovery;
      if (!doc) throw resourceNotFound();
      return send(res, 200, deps.legacyPolicy ? legacyDiscovery(doc) : doc);
    }
    verb = verbOf(req.method ?? "GET", route, q);
    resourceLabel = route.subresource ? `${route.def.plural}/${route.subresource}` : route.def.plural;
    deps.faults.count(verb, resourceLabel);
    const attrs: Attributes = { user, verb, group: route.def.group, resource: route.def.plural, subresource: route.subresource, namespace: route.namespace, name: route.name };
    const decision = authorize(attrs, {
      list: (storage) => deps.registry.store.list(storage),
      inlineRules: (u) => {
        const su = [...deps.users.values()].find((x) => x.name === u.name);
        return { cluster: su?.rules ?? [], namespaced: su?.namespaceRules ?? {} };
      },
    });
    const qr = { group: route.def.group, resource: route.def.plural };
    if (!decision.allowed) throw forbidden(qr, route.name || undefined, forbiddenReason(attrs, decision.reason));
    const latency = deps.faults.latencyMs(verb, resourceLabel);
    if (latency > 0) await deps.clock.sleep(latency);
    const injected = deps.faults.injectedError(verb, resourceLabel, route.name);
    if (injected) throw injected;
    const body = await readBody(req, verb);
    nodeRestriction(user, route, verb, deps.registry);
    const t: Target = route;
    const reg = deps.registry;
    const contentType = (req.headers["content-type"] ?? "").split(";")[0].trim();
    if (["create", "update"].includes(verb) && contentType && contentType !== "application/json") throw unsupportedMediaType();
    switch (verb) {
      case "watch":
        return serveWatch(reg, t, q, res, {
          clock: deps.clock,
          bookmarkIntervalMs: deps.bookmarkIntervalMs,
          closeAfterMs: deps.faults.closeWatchAfterMs(resourceLabel),
          onOpen: () => deps.watchers.open++,
          onClose: () => deps.watchers.open--,
          hub: deps.hub,
        });
      case "get":
        return send(res, 200, reg.get(t));
      case "list":
        return send(res, 200, reg.list(t, q));
      case "create":
        if (t.subresource === "eviction") return send(res, 201, evict(reg, t, body, deps.legacyPolicy ? ["policy/v1beta1"] : undefined));
        if (t.subresource === "token") return send(res, 201, tokenRequest(t, body, deps));
        return send(res, 201, reg.create(t, body));
      case "update":
        return send(res, 200, reg.update(t, body));
      case "patch":
        return send(res, 200, reg.patch(t, body, contentType));
      case "delete": {
        const r = reg.delete(t, q, body);
        return send(res, r.code, r.body);
      }
      case "deletecollection":
        return send(res, 200, deleteCollection(reg, t, q));
      default:
        throw methodNotAllowed();
    }
  } catch (err) {
    const e = err instanceof ApiError ? err : internalError(`Internal error occurred: ${err instanceof Error ? err.message : String(err)}`);
    if (res.headersSent) return void res.end();
    send(res, e.code, e.body, e.headers);
  }
}

/** Discovery as 1.20 wrote it for the policy group and pods/eviction. */
function legacyDiscovery(doc: Obj): Obj {
  if (doc.kind === "APIGroup" && doc.name === "policy") {
    const v1beta1 = { groupVersion: "policy/v1beta1", version: "v1beta1" };
    return { ...doc, versions: [v1beta1], preferredVersion: v1beta1 };
  }
  if (doc.kind === "APIGroupList") return { ...doc, groups: doc.groups.map((g: Obj) => (g.name === "policy" ? legacyDiscovery({ kind: "APIGroup", ...g }) : g)).map(({ kind: _k, apiVersion: _a, ...g }: Obj) => g) };
  if (doc.kind === "APIResourceList" && doc.groupVersion === "v1") {
    return { ...doc, resources: doc.resources.map((r: Obj) => (r.name === "pods/eviction" ? { ...r, version: "v1beta1" } : r)) };
  }
  return doc;
}

function verbOf(method: string, r: Route, q: URLSearchParams): string {
  switch (method) {
    case "GET":
      if (q.get("watch") === "true" || q.get("watch") === "1") return "watch";
      return r.name ? "get" : "list";
    case "POST":
      if (r.name && !r.subresource) throw methodNotAllowed();
      return "create";
    case "PUT":
      if (!r.name) throw methodNotAllowed();
      return "update";
    case "PATCH":
      if (!r.name) throw methodNotAllowed();
      return "patch";
    case "DELETE":
      return r.name ? "delete" : "deletecollection";
    default:
      throw methodNotAllowed();
  }
}

function authenticate(req: IncomingMessage, users: Map<string, SimUser>): UserInfo | undefined {
  const h = req.headers.authorization;
  if (!h) return { name: "system:anonymous", groups: ["system:unauthenticated"] };
  const m = /^Bearer\s+(.+)$/i.exec(h);
  return m ? users.get(m[1].trim()) : undefined;
}

async function readBody(req: IncomingMessage, verb: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  if (!chunks.length) return undefined;
  const text = Buffer.concat(chunks).toString("utf8");
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`the object provided is unrecognized: ${verb}: ${err instanceof Error ? err.message : "invalid JSON"}`);
  }
}

export function send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body) + "\n";
  res.writeHead(code, { "Content-Type": "application/json", "Cache-Control": "no-cache, private", "Content-Length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** NodeRestriction admission: a kubelet identity may touch only its own Node, pods and node Lease. */
function nodeRestriction(user: UserInfo, r: Route, verb: string, reg: Registry): void {
  const node = nodeNameOf(user);
  if (!node || ["get", "list", "watch"].includes(verb)) return;
  const qr = { group: r.def.group, resource: r.def.plural };
  if (r.def.kind === "Node" && r.name && r.name !== node) throw forbidden(qr, r.name, `node "${node}" is not allowed to modify node "${r.name}"`);
  if (r.def.kind === "Lease" && r.namespace === "kube-node-lease" && r.name && r.name !== node) {
    throw forbidden(qr, r.name, "can only access node lease with the same name as the requesting node");
  }
  if (r.def.kind === "Pod" && r.name && (verb === "delete" || r.subresource)) {
    const pod = reg.store.get("/pods", `${r.namespace}/${r.name}`);
    if (!pod) throw failure(404, "NotFound", `pod "${r.name}" not found`, { name: r.name, kind: "pod" });
    if (pod.spec?.nodeName === node) return;
    if (r.subresource === "eviction") throw forbidden(qr, r.name, `node ${node} can only evict pods with spec.nodeName set to itself`);
    if (r.subresource === "status") throw forbidden(qr, r.name, `node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
    throw forbidden(qr, r.name, `node "${node}" can only delete pods with spec.nodeName set to itself`);
  }
}

function tokenRequest(t: Target, body: unknown, deps: HandlerDeps): Obj {
  const sa = deps.registry.store.get("/serviceaccounts", `${t.namespace}/${t.name}`);
  if (!sa) throw notFound({ group: "", resource: "serviceaccounts" }, t.name);
  const spec = ((body as Obj | undefined)?.spec ?? {}) as Obj;
  const expirationSeconds = spec.expirationSeconds ?? 3600;
  const token = `sim-sa.${randomBytes(18).toString("base64url")}`;
  deps.addUser({
    token,
    name: `system:serviceaccount:${t.namespace}:${t.name}`,
    groups: ["system:serviceaccounts", `system:serviceaccounts:${t.namespace}`, "system:authenticated"],
    rules: [],
    namespaceRules: {},
  });
  return {
    kind: "TokenRequest",
    apiVersion: "authentication.k8s.io/v1",
    metadata: { creationTimestamp: null },
    spec: { audiences: spec.audiences ?? ["https://kubernetes.default.svc.cluster.local"], expirationSeconds, boundObjectRef: spec.boundObjectRef ?? null },
    status: { token, expirationTimestamp: formatTime(deps.clock.now() + expirationSeconds * 1000) },
  };
}

function deleteCollection(reg: Registry, t: Target, q: URLSearchParams): Obj {
  const labels = labelSelector(q.get("labelSelector"));
  const fields = fieldSelector(q.get("fieldSelector"), t.def.plural, t.def.kind, t.version);
  const victims = reg.store.list(t.def.storage, t.namespace || undefined).filter((o) => labels(o.metadata.labels) && fields(o));
  const items = victims.map((o) => {
    const target = { ...t, name: o.metadata.name, namespace: o.metadata.namespace ?? "" };
    if (t.def.kind === "Pod") return render(t.def, t.version, reg.deletePod(o, undefined), false);
    reg.delete(target, new URLSearchParams(), undefined);
    return render(t.def, t.version, o, false);
  });
  return { kind: `${t.def.kind}List`, apiVersion: t.def.group ? `${t.def.group}/${t.version}` : t.version, metadata: { resourceVersion: String(reg.store.currentRv()) }, items };
}

export { resources };
