/**
 * Every golden transcript step that one of the port's calls makes, made through the port against
 * the recorded answers of the real kube-apiservers (v1.20.2 and v1.28.7, ../shared/k8s-golden):
 * the port must send the recorded request (method, path, query, content type, body) and turn the
 * recorded answer into what callers rely on — the object with its times as Dates and MicroTime
 * intact, or a KubeError with the server's code, reason, message and Retry-After, or the watch's
 * events and its end. Steps the port cannot make are counted with the reason why.
 * (The sim against the same transcripts is test/sim/golden-replay.test.ts.)
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpKube, type Kube, KubeError, type NodePatch, resolveKubeconfig } from "../../agent/kube";
import { codeForStatus } from "../../agent/kube/errors";
import { leaseOut } from "../../agent/kube/wire";

/** ../shared/k8s-golden beside the checkout (worktrees sit one level deeper than main). */
function goldenDir(): string {
  for (let d = join(import.meta.dirname, "../.."); d !== dirname(d); d = dirname(d)) if (existsSync(join(d, "shared/k8s-golden"))) return join(d, "shared/k8s-golden");
  throw new Error("shared/k8s-golden not found beside the checkout");
}
const GOLDEN = goldenDir();

interface Step {
  request: { method: string; path: string; query?: Record<string, string>; headers: Record<string, string>; body?: any };
  response: { status: number; headers: Record<string, string | string[]>; body: any };
}

type Call = { run: (k: Kube) => Promise<unknown>; watch?: boolean } | { skip: string };

function load(sub: string): { id: string; steps: Step[] }[] {
  const d = join(GOLDEN, sub);
  return readdirSync(d).filter((f) => /^\d\d-.*\.json$/.test(f)).sort().map((f) => ({ id: `${sub || "v1.20"}/${f.slice(0, 2)}`, steps: JSON.parse(readFileSync(join(d, f), "utf8")).steps }));
}

const sets = [load(""), load("v1.28")];

const onlyKeys = (o: any, keys: string[]) => o === undefined || (typeof o === "object" && Object.keys(o).every((k) => keys.includes(k)));

/** The NodePatch a merge-patch body expresses, if it is one the port can send. */
function nodePatch(body: any): NodePatch | undefined {
  if (!onlyKeys(body, ["metadata", "spec"]) || !onlyKeys(body.metadata, ["labels", "annotations", "resourceVersion"]) || !onlyKeys(body.spec, ["unschedulable", "taints"])) return undefined;
  if (body.spec?.unschedulable === false) return undefined; // the port sends null for false
  const p: NodePatch = { labels: body.metadata?.labels, annotations: body.metadata?.annotations, resourceVersion: body.metadata?.resourceVersion, taints: body.spec?.taints };
  if (body.spec && "unschedulable" in body.spec) p.unschedulable = body.spec.unschedulable === true;
  return p;
}

/** Which port call makes this request, or why none does. */
function portCall(step: Step, evictionVersion: string): Call {
  const { method, path, query = {}, headers, body } = step.request;
  const q = Object.keys(query).sort().join(",");
  const ct = headers["Content-Type"] ?? "";
  let m: RegExpExecArray | null;
  if ((m = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/.exec(path))) {
    const [, ns, name] = m;
    if (query.watch) {
      if (name || !/^(allowWatchBookmarks,)?(labelSelector,)?(resourceVersion,)?timeoutSeconds,watch$/.test(q)) return { skip: "watch query the port does not send" };
      return { watch: true, run: (k) => collect((o, on) => k.watchLeases(ns, o, on), query) };
    }
    if (method === "GET" && name && !q) return { run: (k) => k.getLease(ns, name) };
    if (method === "GET" && !name && (!q || q === "labelSelector")) return { run: (k) => k.listLeases(ns, query.labelSelector) };
    if (method === "GET") return { skip: "paged or exact-version lists: the port lists whole" };
    if (method === "POST" && !q) {
      if (JSON.stringify(leaseOut(body)) !== JSON.stringify(body)) return { skip: "MicroTime not in 6 digits: the port always sends 6 (the step tests the server's refusal)" };
      return { run: (k) => k.createLease(ns, body) };
    }
    if (method === "POST") return { skip: "fieldValidation: the port does not ask for it" };
    if (method === "PUT") {
      if (JSON.stringify(leaseOut(body)) !== JSON.stringify(body)) return { skip: "MicroTime not in 6 digits: the port always sends 6" };
      return { run: (k) => k.replaceLease(ns, body) };
    }
    if (method === "DELETE" && (body === undefined || (onlyKeys(body, ["apiVersion", "kind", "preconditions"]) && onlyKeys(body.preconditions, ["resourceVersion"])))) return { run: (k) => k.deleteLease(ns, name, body?.preconditions?.resourceVersion) };
    if (method === "DELETE") return { skip: "a Lease deleted with a UID precondition: the port's callers use the resourceVersion" };
    return { skip: `${method} of a Lease: the port replaces whole Leases (PUT), it does not patch` };
  }
  if ((m = /^\/api\/v1\/nodes(?:\/([^/]+))?$/.exec(path))) {
    const name = m[1];
    if (query.watch) {
      const node = /^metadata\.name=(.+)$/.exec(query.fieldSelector ?? "")?.[1];
      if (!node) return { skip: "a watch of all nodes" };
      return { watch: true, run: (k) => collect((o, on) => k.watchNode(node, o, on), query) };
    }
    if (method === "GET" && name) return { run: (k) => k.getNode(name) };
    if (method === "GET" && (!q || q === "labelSelector")) return { run: (k) => k.listNodes(query.labelSelector) };
    if (method === "PATCH" && name && ct === "application/merge-patch+json") {
      const p = nodePatch(body);
      return p ? { run: (k) => k.patchNode(name, p) } : { skip: "a node patch beyond labels, annotations, unschedulable and taints" };
    }
    if (method === "PATCH") return { skip: "strategic merge patch: the port sends merge patches (taints: the whole list, which a strategic merge also replaces)" };
    return { skip: `${method} of Nodes: not a port call (fixtures)` };
  }
  if (path === "/api/v1/pods" && method === "GET") {
    const node = /^spec\.nodeName=(.+)$/.exec(query.fieldSelector ?? "")?.[1];
    if (node && (q === "fieldSelector" || q === "fieldSelector,labelSelector")) return { run: (k) => k.listPodsOnNode(node, query.labelSelector) };
    return { skip: "pods listed by other fields" };
  }
  if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)(\/eviction)?$/.exec(path))) {
    const [, ns, name, eviction] = m;
    if (eviction) {
      if (q) return { skip: "dryRun: the port never dry-runs" };
      const opts = body?.deleteOptions ?? {};
      if (!onlyKeys(opts, ["gracePeriodSeconds", "preconditions"]) || !onlyKeys(opts.preconditions, ["uid"])) return { skip: "eviction options the port does not send (resourceVersion precondition)" };
      if (body?.apiVersion !== evictionVersion) return { skip: `an Eviction in ${body?.apiVersion}: the port sends the version discovery names (${evictionVersion})` };
      if (body?.metadata?.name !== name) return { skip: "a mismatched Eviction name: the port always names the pod of the path" };
      return { run: (k) => k.evictPod(ns, name, { gracePeriodSeconds: opts.gracePeriodSeconds, uid: opts.preconditions?.uid }) };
    }
    if (method === "GET") return { run: (k) => k.getPod(ns, name) };
    if (method === "DELETE") {
      if (body !== undefined && !onlyKeys(body, ["apiVersion", "kind", "gracePeriodSeconds"])) return { skip: "delete options the port does not send" };
      const grace = query.gracePeriodSeconds !== undefined ? Number(query.gracePeriodSeconds) : body?.gracePeriodSeconds;
      if (query.gracePeriodSeconds !== undefined) return { skip: "grace period in the query: the port sends it in DeleteOptions (same meaning)" };
      return { run: (k) => k.deletePod(ns, name, grace) };
    }
    return { skip: `${method} of a pod: fixtures` };
  }
  if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/events(?:\/([^/]+))?$/.exec(path))) {
    const [, ns, name] = m;
    if (method === "POST" && !name) return { run: (k) => k.createEvent(ns, body) };
    if (method === "PUT" && name) return { run: (k) => k.replaceEvent(ns, body) };
    if (method === "PATCH" && name && ct === "application/merge-patch+json") return { run: (k) => k.patchEvent(ns, name, body) };
    if (method === "GET" && !name && (!q || q === "fieldSelector")) return { run: (k) => k.listEvents(ns, query.fieldSelector) };
    return { skip: "reading one Event: not a port call" };
  }
  if (path === "/api/v1" && method === "GET") return { run: (k) => k.evictionVersion() };
  return { skip: "not a call of the port (fixtures, RBAC, PDBs, discovery of other groups, events.k8s.io)" };
}

type Collected = { events: { type: string; object: unknown }[]; outcome: unknown };

/** Runs a watch to its end, with the recorded query's options. */
async function collect(open: (o: any, on: (t: string, obj: unknown) => void) => Promise<{ done: Promise<void> }>, query: Record<string, string>): Promise<Collected> {
  const events: Collected["events"] = [];
  const w = await open(
    { resourceVersion: query.resourceVersion, labelSelector: query.labelSelector, allowBookmarks: query.allowWatchBookmarks === "true", timeoutSeconds: query.timeoutSeconds ? Number(query.timeoutSeconds) : undefined },
    (type, object) => events.push({ type, object }),
  );
  const outcome = await w.done.then(() => "ended", (e: unknown) => e);
  return { events, outcome };
}

/** JSON as a client reads it back: Time fields with or without ".000" are the same instant. */
function wire(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v), (_k, x) => (typeof x === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.000)?Z$/.test(x) ? x.replace(".000Z", "Z") : x));
}

const deleteOptions = (b: any) => (b && typeof b === "object" && (b.kind === "DeleteOptions" || "preconditions" in b || "gracePeriodSeconds" in b) ? { ...b, apiVersion: undefined, kind: undefined } : b);

let server: Server;
let current: Step;
let discovery: Step["response"];
let got: { method: string; url: string; contentType?: string; body?: unknown } | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => {
      const isDiscovery = req.url === "/api/v1" && current.request.path !== "/api/v1";
      if (!isDiscovery) got = { method: req.method!, url: req.url!, contentType: req.headers["content-type"], body: text ? JSON.parse(text) : undefined };
      const r = isDiscovery ? discovery : current.response;
      const headers: Record<string, string | string[]> = { "content-type": String(r.headers["Content-Type"] ?? "application/json") };
      if (r.headers["Retry-After"] !== undefined) headers["retry-after"] = r.headers["Retry-After"];
      res.writeHead(r.status, headers);
      const watch = (current.request.query?.watch === "true" || current.request.query?.watch === "1") && !isDiscovery && r.status === 200;
      res.end(watch ? (r.body as unknown[]).map((e) => `${JSON.stringify(e)}\n`).join("") : JSON.stringify(r.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function expectedError(r: Step["response"]) {
  const retry = r.headers["Retry-After"];
  return {
    code: codeForStatus(r.status, r.body?.reason),
    status: r.status,
    reason: r.body?.reason,
    message: r.body?.message,
    retryAfterMs: retry !== undefined && (r.status === 429 || r.status === 503) ? Number(retry) * 1000 : undefined,
  };
}

for (const files of sets) {
  const version = files[0].id.split("/")[0];
  describe(`golden ${version} through the port`, () => {
    const disc = files.flatMap((f) => f.steps).find((s) => s.request.method === "GET" && s.request.path === "/api/v1")!;
    const ev = disc.response.body.resources.find((r: { name: string }) => r.name === "pods/eviction");
    const evictionVersion = ev.group === "policy" && ev.version === "v1beta1" ? "policy/v1beta1" : "policy/v1";
    const made: string[] = [];
    const skipped = new Map<string, number>();

    for (const f of files) {
      f.steps.forEach((step, i) => {
        const call = portCall(step, evictionVersion);
        if ("skip" in call) {
          skipped.set(call.skip, (skipped.get(call.skip) ?? 0) + 1);
          return;
        }
        const key = `${f.id}#${i + 1}`;
        made.push(key);
        it(`${key} ${step.request.method} ${step.request.path}`, async () => {
          current = step;
          discovery = disc.response;
          got = undefined;
          const kube = new HttpKube(resolveKubeconfig(`{clusters: [{name: g, cluster: {server: "http://127.0.0.1:${(server.address() as { port: number }).port}"}}], users: [{name: u, user: {token: golden}}], contexts: [{name: g, context: {cluster: g, user: u}}], current-context: g}`));
          const result = await call.run(kube).then((v) => ({ ok: v }), (e: unknown) => ({ err: e }));
          kube.close();
          // The request, as recorded.
          const url = new URL(got!.url, "http://x");
          expect(got!.method).toBe(step.request.method);
          expect(url.pathname).toBe(step.request.path);
          expect(Object.fromEntries(url.searchParams)).toEqual({ ...(step.request.query ?? {}), ...(step.request.query?.watch ? { watch: "true" } : {}) });
          if (step.request.body !== undefined || got!.body !== undefined) {
            expect(got!.contentType).toBe(step.request.headers["Content-Type"]);
            expect(wire(deleteOptions(got!.body))).toEqual(wire(deleteOptions(step.request.body)));
          }
          // The answer, as callers see it.
          const r = step.response;
          if (r.status >= 300) {
            expect("err" in result).toBe(true);
            const e = (result as { err: KubeError }).err;
            expect(e).toBeInstanceOf(KubeError);
            expect({ code: e.code, status: e.status, reason: e.reason, message: e.message, retryAfterMs: e.retryAfterMs }).toEqual(expectedError(r));
            return;
          }
          expect(result).toHaveProperty("ok");
          const value = (result as { ok: unknown }).ok;
          if (call.watch) {
            const c = value as Collected;
            const lines = r.body as { type: string; object: any }[];
            const error = lines.find((l) => l.type === "ERROR");
            expect(c.events.map((e) => ({ type: e.type, object: wire(e.object) }))).toEqual(lines.filter((l) => l.type !== "ERROR").map((l) => ({ type: l.type, object: wire(l.object) })));
            if (error) expect({ code: (c.outcome as KubeError).code, message: (c.outcome as KubeError).message }).toEqual({ code: codeForStatus(error.object.code, error.object.reason), message: error.object.message });
            else expect(c.outcome).toBe("ended");
            return;
          }
          if (step.request.path === "/api/v1") {
            expect(value).toBe(evictionVersion);
            return;
          }
          if (step.request.method === "POST" && step.request.path.endsWith("/eviction") || step.request.method === "DELETE" && step.request.path.includes("/leases/")) {
            expect(value).toBeUndefined();
            return;
          }
          const body = r.body;
          if (Array.isArray(body?.items)) {
            expect(wire((value as { items: unknown[] }).items)).toEqual(wire(body.items));
            expect((value as { resourceVersion: string }).resourceVersion).toBe(body.metadata.resourceVersion);
          } else {
            expect(wire(value)).toEqual(wire(body));
          }
          // Times are Dates (MicroTime keeps the server's 6 digits), as client-node's types say.
          const v = value as any;
          for (const o of Array.isArray(v?.items) ? v.items : [v]) {
            if (o?.metadata?.creationTimestamp !== undefined) expect(o.metadata.creationTimestamp).toBeInstanceOf(Date);
            if (o?.spec?.renewTime !== undefined) expect(o.spec.renewTime).toBeInstanceOf(Date);
          }
        });
      });
    }

    it("makes a good share of the steps, and says why it skips the rest", () => {
      if (process.env.GOLDEN_SKIPS) console.log(version, made.length, [...skipped]);
      expect(made.length).toBeGreaterThan(version === "v1.28" ? 80 : 40);
      for (const reason of skipped.keys()) expect(reason.length).toBeGreaterThan(10);
    });
  });
}
