/**
 * One request, as kube-apiserver's filter chain handles it: route, authenticate, authorize,
 * (fault injection), admission (NodeRestriction), then the registry. Every failure is a Status.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Clock } from "../ports/clock";
import { type Attributes, type SimUser, type UserInfo, authorize, forbiddenReason } from "./auth";
import type { FieldValidation } from "./decode";
import { apiGroup, apiGroupList, apiVersions, resourceList } from "./discovery";
import { evict } from "./eviction";
import type { Faults } from "./faults";
import { render } from "./kinds";
import { nodeRestriction } from "./node-restriction";
import type { Registry, Target, WriteOptions } from "./registry";
import { type ResourceDef, findResource, resources } from "./resources";
import { fieldSelector, labelSelector } from "./selectors";
import { ApiError, badRequest, failure, forbidden, internalError, methodNotAllowed, notFound, resourceNotFound, unauthorized, unsupportedMediaType } from "./status";
import { formatTime } from "./times";
import { serveWatch } from "./watch";
import type { WatchHub } from "./watch-hub";
import { type VersionProfile, isServed } from "./version";

type Obj = Record<string, any>;

export interface HandlerDeps {
  registry: Registry;
  clock: Clock;
  /** The server's random source (watch timeouts when the client sends none). */
  random: () => number;
  faults: Faults;
  users: Map<string, SimUser>;
  serverAddress(): string;
  /** Registers a token minted by the TokenRequest API. */
  addUser(user: SimUser): void;
  watchers: { open: number };
  hub: WatchHub;
  /** Which kube-apiserver to answer as (served versions, headers, admission details). */
  profile: VersionProfile;
  /** The audit log's RequestResponse stage, reduced: who asked for what, and the answer's code. */
  audit?: (event: AuditEvent) => void;
}

export interface AuditEvent {
  user: string;
  groups: string[];
  verb: string;
  group: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  /** Query, for list/watch selectors (e.g. fieldSelector=metadata.name=node-a). */
  query: string;
  code: number;
}

/** kube-apiserver's RequestInfo: what is authorized, whether or not the resource is served. */
interface RequestInfo {
  group: string;
  version: string;
  namespace: string;
  plural: string;
  name: string;
  subresource: string;
  extra: boolean;
}

interface Route {
  def: ResourceDef;
  version: string;
  namespace: string;
  name: string;
  subresource: string;
}

function parseRoute(segments: string[], p: VersionProfile): RequestInfo | { discovery: Obj | undefined } {
  let group = "";
  let version: string;
  let rest: string[];
  if (segments[0] === "api") {
    if (segments.length === 1) return { discovery: undefined };
    version = segments[1];
    rest = segments.slice(2);
  } else {
    if (segments.length === 1) return { discovery: apiGroupList(p) };
    group = segments[1];
    if (segments.length === 2) return { discovery: apiGroup(p, group) };
    version = segments[2];
    rest = segments.slice(3);
  }
  if (rest.length === 0) return { discovery: resourceList(p, group, version) };
  let namespace = "";
  if (rest[0] === "namespaces" && rest.length >= 3 && !(group === "" && ["status", "finalize"].includes(rest[2]) && rest.length === 3)) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name = "", subresource = "", ...extra] = rest;
  return { group, version, namespace, plural, name, subresource, extra: extra.length > 0 };
}

/** The served resource a RequestInfo names, or undefined (404 after authorization, as the real mux). */
function resolve(info: RequestInfo, p: VersionProfile): Route | undefined {
  const def = findResource(info.group, info.version, info.plural);
  if (!def || !isServed(p, info.group, info.version) || info.extra || (info.namespace && !def.namespaced)) return undefined;
  if (info.subresource && !def.subresources.includes(info.subresource)) return undefined;
  return { def, version: info.version, namespace: info.namespace, name: info.name, subresource: info.subresource };
}

const oneOf = <T extends string>(q: URLSearchParams, key: string, allowed: readonly T[], fallback: T): T => {
  const v = q.get(key);
  if (v === null || v === "") return fallback;
  if (!allowed.includes(v as T)) throw failure(400, "BadRequest", `${key}: Unsupported value: ${JSON.stringify(v)}: supported values: ${allowed.map((a) => JSON.stringify(a)).join(", ")}`);
  return v as T;
};

export async function handle(req: IncomingMessage, res: ServerResponse, deps: HandlerDeps): Promise<void> {
  let audited: Omit<AuditEvent, "code"> | undefined;
  try {
    await respond(req, res, deps, (a) => (audited = a));
  } finally {
    if (audited && deps.audit) deps.audit({ ...audited, code: res.statusCode });
  }
}

async function respond(req: IncomingMessage, res: ServerResponse, deps: HandlerDeps, noteAudit: (a: Omit<AuditEvent, "code">) => void): Promise<void> {
  let verb = "";
  let resourceLabel = "";
  try {
    const url = new URL(req.url ?? "/", "http://sim");
    const q = url.searchParams;
    const segments = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const user = authenticate(req, deps.users);
    if (!user) throw unauthorized();
    if (segments[0] === "version" || segments[0] === "healthz" || segments[0] === "readyz" || segments[0] === "livez") {
      return send(res, 200, segments[0] === "version" ? deps.profile.info : "ok");
    }
    if (segments[0] !== "api" && segments[0] !== "apis") throw resourceNotFound();
    const info = parseRoute(segments, deps.profile);
    if ("discovery" in info) {
      const doc = segments.length === 1 && segments[0] === "api" ? apiVersions(deps.serverAddress()) : info.discovery;
      if (!doc) throw resourceNotFound();
      return send(res, 200, doc);
    }
    verb = verbOf(req.method ?? "GET", info, q);
    resourceLabel = info.subresource ? `${info.plural}/${info.subresource}` : info.plural;
    deps.faults.count(verb, resourceLabel);
    const attrs: Attributes = { user, verb, group: info.group, resource: info.plural, subresource: info.subresource, namespace: info.namespace, name: info.name };
    noteAudit({ user: user.name, groups: user.groups, verb, group: info.group, resource: info.plural, subresource: info.subresource, namespace: info.namespace, name: info.name, query: q.toString() });
    const decision = authorize(attrs, {
      list: (storage) => deps.registry.store.list(storage),
      inlineRules: (u) => {
        const su = [...deps.users.values()].find((x) => x.name === u.name);
        return { cluster: su?.rules ?? [], namespaced: su?.namespaceRules ?? {} };
      },
    });
    const qr = { group: info.group, resource: info.plural };
    if (!decision.allowed) throw forbidden(qr, info.name || undefined, forbiddenReason(attrs, decision.reason));
    const route = resolve(info, deps.profile);
    if (!route) throw resourceNotFound();
    const latency = deps.faults.latencyMs(verb, resourceLabel);
    if (latency > 0) await deps.clock.sleep(latency);
    const injected = deps.faults.injectedError(verb, resourceLabel, route.name);
    if (injected) throw injected;
    const body = await readBody(req, verb);
    const t: Target = route;
    const reg = deps.registry;
    const w: WriteOptions = {
      fieldValidation: oneOf<FieldValidation>(q, "fieldValidation", ["Ignore", "Strict", "Warn"], "Warn"),
      dryRun: oneOf(q, "dryRun", ["All"], "none" as "All") === "All",
      warnings: [],
      admit: nodeRestriction(user, route, verb, reg),
    };
    const contentType = (req.headers["content-type"] ?? "").split(";")[0].trim();
    if (["create", "update"].includes(verb) && contentType && contentType !== "application/json") throw unsupportedMediaType();
    const warned = (): Record<string, string | string[]> => (w.warnings!.length ? { Warning: w.warnings! } : {});
    switch (verb) {
      case "watch":
        return serveWatch(reg, t, q, res, {
          clock: deps.clock,
          random: deps.random,
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
        if (t.subresource === "eviction") return send(res, 201, evict(reg, t, body, { dryRun: w.dryRun! }));
        if (t.subresource === "token") return send(res, 201, tokenRequest(t, body, deps));
        return send(res, 201, reg.create(t, body, w), warned());
      case "update": {
        const r = reg.update(t, body, w);
        return send(res, r.code, r.body, warned());
      }
      case "patch":
        return send(res, 200, reg.patch(t, body, contentType, w), warned());
      case "delete": {
        const r = reg.delete(t, q, body, w);
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

function verbOf(method: string, r: RequestInfo, q: URLSearchParams): string {
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

export function send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = JSON.stringify(body) + "\n";
  res.writeHead(code, { "Content-Type": "application/json", "Cache-Control": "no-cache, private", "Content-Length": Buffer.byteLength(text), ...headers });
  res.end(text);
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
    metadata: deps.profile.tokenRequestMeta ? { name: t.name, namespace: t.namespace, creationTimestamp: formatTime(deps.clock.now()) } : { creationTimestamp: null },
    spec: { audiences: spec.audiences ?? ["https://kubernetes.default.svc.cluster.local"], expirationSeconds, boundObjectRef: spec.boundObjectRef ?? null },
    status: { token, expirationTimestamp: formatTime(deps.clock.now() + expirationSeconds * 1000) },
  };
}

function deleteCollection(reg: Registry, t: Target, q: URLSearchParams): Obj {
  const labels = labelSelector(q.get("labelSelector"));
  const fields = fieldSelector(q.get("fieldSelector"), t.def.plural, t.def.kind, t.version);
  const victims = reg.store.list(t.def.storage, t.namespace || undefined, (o) => labels(o.metadata.labels) && fields(o));
  const items = victims.map((o) => {
    const target = { ...t, name: o.metadata.name, namespace: o.metadata.namespace ?? "" };
    if (t.def.kind === "Pod") return render(t.def, t.version, reg.deletePod(o, undefined), false);
    reg.delete(target, new URLSearchParams(), undefined);
    return render(t.def, t.version, o, false);
  });
  return { kind: `${t.def.kind}List`, apiVersion: t.def.group ? `${t.def.group}/${t.version}` : t.version, metadata: { resourceVersion: String(reg.store.currentRv()) }, items };
}

export { resources };
