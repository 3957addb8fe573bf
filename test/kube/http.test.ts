/**
 * The HTTP client against a scripted HTTPS API server (real TLS, a CA and certificates from
 * openssl): certificate checks, client certificates re-read when they rotate, tls-server-name,
 * the server's Status in every error, Retry-After, request timeouts, and watch streams as a real
 * server sends them (bookmarks, ERROR 410, a clean end) and as a broken one might (garbage).
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { TLSSocket } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { HttpKube, KubeError, type V1Lease, resolveKubeconfig } from "../../agent/kube";
import { type Pki, makePki } from "./pki";

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let dir: string;
let pki: Pki;
let server: Server;
let port: number;
let handler: Handler;
const seen: { path: string; cn: string | undefined; authorization?: string; body: string; contentType?: string }[] = [];
const clients: HttpKube[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-http-"));
  pki = makePki(dir);
  pki.client("system:node:node-a", "node-a");
  pki.client("system:node:node-a-rotated", "node-a-rotated");
  server = createServer({ key: pki.read(pki.serverKey), cert: pki.read(pki.serverCert), ca: pki.read(pki.ca), requestCert: true, rejectUnauthorized: false }, (req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      seen.push({ path: req.url ?? "", cn: peer?.subject?.CN as string | undefined, authorization: req.headers.authorization, body, contentType: req.headers["content-type"] });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as { port: number }).port;
});

afterEach(() => {
  seen.length = 0;
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

function client(cluster: Record<string, unknown>, user: Record<string, unknown> = { token: "tok" }, timeoutMs?: number): HttpKube {
  const yaml = JSON.stringify({
    clusters: [{ name: "c", cluster: { server: `https://127.0.0.1:${port}`, ...cluster } }],
    users: [{ name: "u", user }],
    contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
    "current-context": "x",
  });
  const k = new HttpKube(resolveKubeconfig(yaml, { path: join(dir, "kubeconfig") }), { timeoutMs });
  clients.push(k);
  return k;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
};
const status = (code: number, reason: string, message: string, details?: unknown) => ({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, details, code });

async function failure(p: Promise<unknown>): Promise<KubeError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(KubeError);
  return err as KubeError;
}

const nodeJson = { kind: "Node", apiVersion: "v1", metadata: { name: "node-a", resourceVersion: "5", creationTimestamp: "2026-12-03T06:12:52Z" }, spec: { taints: [{ key: "k", effect: "NoSchedule", timeAdded: "2026-12-03T06:13:00Z" }] } };

describe("TLS", () => {
  it("verifies the server against the CA, and refuses a server the CA did not sign", async () => {
    handler = (_q, res) => json(res, 200, nodeJson);
    const node = await client({ "certificate-authority": pki.ca }).getNode("node-a");
    expect(node.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(node.spec?.taints?.[0]?.timeAdded).toBeInstanceOf(Date);
    const other = makePki(mkdtempSync(join(dir, "other-")));
    const err = await failure(client({ "certificate-authority": other.ca }).getNode("node-a"));
    expect(err.code).toBe("unavailable");
    expect(err.message).toMatch(/certificate/i);
    // insecure-skip-tls-verify: connects without the CA (the loader warns about it).
    expect((await client({ "insecure-skip-tls-verify": true }).getNode("node-a")).metadata?.name).toBe("node-a");
  });

  it("checks the certificate against tls-server-name when the server is addressed by another name", async () => {
    handler = (_q, res) => json(res, 200, nodeJson);
    const yes = await client({ server: `https://localhost:${port}`, "certificate-authority": pki.ca, "tls-server-name": "kubernetes" }).getNode("node-a");
    expect(yes.metadata?.name).toBe("node-a");
    const no = await failure(client({ server: `https://localhost:${port}`, "certificate-authority": pki.ca }).getNode("node-a"));
    expect(no.message).toMatch(/localhost/);
  });

  it("presents the client certificate, and the new one after the kubelet rotated the files", async () => {
    handler = (_q, res) => json(res, 200, nodeJson);
    const cert = join(dir, "kubelet-client.crt");
    const key = join(dir, "kubelet-client.key");
    copyFileSync(join(dir, "node-a.crt"), cert);
    copyFileSync(join(dir, "node-a.key"), key);
    const k = client({ "certificate-authority": pki.ca }, { "client-certificate": cert, "client-key": key });
    await k.getNode("node-a");
    copyFileSync(join(dir, "node-a-rotated.crt"), `${cert}.tmp`);
    copyFileSync(join(dir, "node-a-rotated.key"), `${key}.tmp`);
    const { renameSync } = await import("node:fs");
    renameSync(`${cert}.tmp`, cert);
    renameSync(`${key}.tmp`, key);
    await k.getNode("node-a");
    expect(seen.map((s) => s.cn)).toEqual(["system:node:node-a", "system:node:node-a-rotated"]);
    expect(seen.every((s) => s.authorization === undefined)).toBe(true);
  });
});

describe("errors keep the server's words", () => {
  it("a 403 from an authorizer still warming up keeps its message and reason", async () => {
    handler = (_q, res) => json(res, 403, status(403, "Forbidden", 'leases.coordination.k8s.io is forbidden: User "system:serviceaccount:sluice:agent" cannot list resource "leases" in API group "coordination.k8s.io" in the namespace "sluice"'));
    const err = await failure(client({ "insecure-skip-tls-verify": true }).listLeases("sluice"));
    expect(err.code).toBe("forbidden");
    expect(err.status).toBe(403);
    expect(err.reason).toBe("Forbidden");
    expect(err.message).toContain('cannot list resource "leases"');
  });

  it.each([
    [429, { "retry-after": "10" }, 10_000, "too-many-requests"],
    [429, {}, undefined, "too-many-requests"],
    [503, { "retry-after": "3" }, 3_000, "unavailable"],
    [500, { "retry-after": "3" }, undefined, "unavailable"],
    [429, { "retry-after": "Wed, 21 Oct 2026 07:28:00 GMT" }, undefined, "too-many-requests"],
  ])("%i with Retry-After %j: retryAfterMs %s", async (code, headers, ms, kind) => {
    handler = (_q, res) => json(res, code, status(code, code === 429 ? "TooManyRequests" : "ServiceUnavailable", "please wait", { retryAfterSeconds: 10 }), headers);
    const err = await failure(client({ "insecure-skip-tls-verify": true }).getNode("node-a"));
    expect(err.code).toBe(kind);
    expect(err.retryAfterMs).toBe(ms);
    expect(err.message).toBe("please wait");
  });

  it("a body that is not a Status (a proxy's page) becomes one short line", async () => {
    handler = (_q, res) => {
      res.writeHead(502, { "content-type": "text/html" });
      res.end("<html><body><h1>502 Bad Gateway</h1>\n<p>upstream gone</p></body></html>");
    };
    const err = await failure(client({ "insecure-skip-tls-verify": true }).getNode("node-a"));
    expect(err.code).toBe("unavailable");
    expect(err.message).toBe("HTTP 502: 502 Bad Gateway upstream gone");
  });

  it("a 200 that is not JSON, or a list without items, is unavailable, not a crash", async () => {
    handler = (_q, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{not json");
    };
    expect((await failure(client({ "insecure-skip-tls-verify": true }).getNode("node-a"))).message).toMatch(/not JSON/);
    handler = (_q, res) => json(res, 200, { kind: "LeaseList", metadata: {} });
    expect((await failure(client({ "insecure-skip-tls-verify": true }).listLeases("sluice"))).message).toMatch(/without items/);
    handler = (_q, res) => json(res, 200, { kind: "LeaseList", metadata: {}, items: [null] });
    expect((await failure(client({ "insecure-skip-tls-verify": true }).listLeases("sluice"))).message).toMatch(/answered null where an object belongs/);
    handler = (_q, res) => json(res, 200, "a string");
    expect((await failure(client({ "insecure-skip-tls-verify": true }).getNode("node-a"))).message).toMatch(/answered string/);
  });

  it("a server that never answers times out", async () => {
    handler = () => {};
    const err = await failure(client({ "insecure-skip-tls-verify": true }, { token: "t" }, 200).getNode("node-a"));
    expect(err.code).toBe("unavailable");
    expect(err.message).toMatch(/no answer within 0.2 s/);
  });

  it("sends the merge-patch content type, MicroTime with 6 digits, the eviction preconditions", async () => {
    handler = (req, res, body) => json(res, req.method === "POST" && req.url?.endsWith("/eviction") ? 201 : 200, req.url === "/api/v1" ? { resources: [{ name: "pods/eviction", group: "policy", version: "v1" }] } : JSON.parse(body || "{}"));
    const k = client({ "insecure-skip-tls-verify": true });
    await k.patchNode("node-a", { unschedulable: false, taints: [] });
    const lease: V1Lease = { metadata: { name: "l", resourceVersion: "1" }, spec: { renewTime: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, 5)) } };
    const back = await k.replaceLease("sluice", lease);
    await k.evictPod("apps", "web-0", { uid: "u-1", gracePeriodSeconds: 0 });
    expect(seen[0]).toMatchObject({ path: "/api/v1/nodes/node-a", contentType: "application/merge-patch+json", body: '{"spec":{"unschedulable":null,"taints":[]}}' });
    expect(JSON.parse(seen[1].body).spec.renewTime).toBe("2026-01-01T00:00:00.005000Z");
    expect(back.spec?.renewTime?.getTime()).toBe(Date.UTC(2026, 0, 1, 0, 0, 0, 5));
    expect(JSON.parse(seen[3].body)).toEqual({ apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "web-0", namespace: "apps" }, deleteOptions: { gracePeriodSeconds: 0, preconditions: { uid: "u-1" } } });
  });
});

describe("watch streams", () => {
  const line = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;
  const lease = (name: string, rv: string) => ({ kind: "Lease", apiVersion: "coordination.k8s.io/v1", metadata: { name, resourceVersion: rv }, spec: { renewTime: "2026-11-25T03:40:06.123456Z" } });

  async function watch(write: (res: ServerResponse) => void) {
    handler = (_q, res) => {
      res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
      write(res);
    };
    const events: string[] = [];
    let renew: Date | undefined;
    const w = await client({ "insecure-skip-tls-verify": true }).watchLeases("sluice", { resourceVersion: "10", allowBookmarks: true, timeoutSeconds: 5 }, (t, l) => {
      events.push(`${t} ${l.metadata?.resourceVersion}`);
      if (t === "ADDED") renew = l.spec?.renewTime;
    });
    const outcome = await w.done.then(() => "ended", (e: KubeError) => `${e.code}: ${e.message}`);
    return { events, outcome, renew, query: seen[0]?.path };
  }

  it("delivers events split across chunks and bookmarks, then resolves when the server ends it", async () => {
    const r = await watch((res) => {
      const text = line("ADDED", lease("a", "11")) + line("BOOKMARK", { kind: "Lease", apiVersion: "coordination.k8s.io/v1", metadata: { resourceVersion: "12", creationTimestamp: null }, spec: {} }) + line("DELETED", lease("a", "13"));
      res.write(text.slice(0, 17));
      setTimeout(() => res.end(text.slice(17)), 20);
    });
    expect(r.events).toEqual(["ADDED 11", "BOOKMARK 12", "DELETED 13"]);
    expect(r.outcome).toBe("ended");
    expect(r.renew?.toISOString()).toBe("2026-11-25T03:40:06.123456Z");
    expect(r.query).toBe("/apis/coordination.k8s.io/v1/namespaces/sluice/leases?watch=true&resourceVersion=10&allowWatchBookmarks=true&timeoutSeconds=5");
  });

  it("an ERROR 410 event rejects as gone with the server's message", async () => {
    const r = await watch((res) => res.end(line("ERROR", { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "too old resource version: 10 (250)", reason: "Expired", code: 410 })));
    expect(r.outcome).toBe("gone: too old resource version: 10 (250)");
  });

  it("a 403 before the stream starts (authorizer warming up) rejects the watch call with the message", async () => {
    handler = (_q, res) => json(res, 403, status(403, "Forbidden", "nodes is forbidden: cache not synced"));
    const err = await failure(client({ "insecure-skip-tls-verify": true }).watchNode("node-a", {}, () => {}));
    expect(err.code).toBe("forbidden");
    expect(err.message).toBe("nodes is forbidden: cache not synced");
  });

  it.each([
    ["a line that is not JSON", (res: ServerResponse) => res.end("garbage\n"), /not JSON/],
    ["an unknown event type", (res: ServerResponse) => res.end(line("EXPLODED", {})), /unknown event type "EXPLODED"/],
    ["an event without an object", (res: ServerResponse) => res.end('{"type":"ADDED"}\n'), /without an object/],
    ["a connection cut mid-stream", (res: ServerResponse) => { res.write(line("ADDED", lease("a", "11"))); setTimeout(() => res.socket?.destroy(), 20); }, /closed mid-stream|unreachable/],
  ])("%s ends the watch as unavailable", async (_, write, message) => {
    const r = await watch(write);
    expect(r.outcome).toMatch(/^unavailable: /);
    expect(r.outcome).toMatch(message);
  });

  it("a peer gone silent (no FIN, no bytes) ends the watch after timeoutSeconds plus a minute; each chunk re-arms that", async () => {
    let res!: ServerResponse;
    handler = (_q, r) => {
      res = r;
      r.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
      r.write(line("ADDED", lease("a", "11")));
    };
    const got: string[] = [];
    const arrived = () => new Promise<void>((r) => { const n = got.length; const poll = () => (got.length > n ? r() : setImmediate(poll)); poll(); });
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      let first = arrived();
      const w = await client({ "insecure-skip-tls-verify": true }).watchLeases("sluice", { timeoutSeconds: 5 }, (t, l) => got.push(`${t} ${l.metadata?.resourceVersion}`));
      let ended = false;
      void w.done.then(() => (ended = true));
      await first;
      await vi.advanceTimersByTimeAsync(40_000);
      first = arrived();
      res.write(line("BOOKMARK", { kind: "Lease", apiVersion: "coordination.k8s.io/v1", metadata: { resourceVersion: "12" }, spec: {} }));
      await first;
      // 80 s since the first line, 40 since the bookmark: still open.
      await vi.advanceTimersByTimeAsync(40_000);
      expect(ended).toBe(false);
      await vi.advanceTimersByTimeAsync(25_000 + 1);
      await w.done;
      expect(got).toEqual(["ADDED 11", "BOOKMARK 12"]);
    } finally {
      vi.useRealTimers();
      res.destroy();
    }
  });

  it("stop() ends it cleanly; an aborted signal before the call opens nothing", async () => {
    handler = (_q, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write(line("ADDED", lease("a", "11")));
    };
    const k = client({ "insecure-skip-tls-verify": true });
    const got: string[] = [];
    const w = await k.watchLeases("sluice", {}, (t) => got.push(t));
    await new Promise((r) => setTimeout(r, 30));
    w.stop();
    await w.done;
    expect(got).toEqual(["ADDED"]);
    const ac = new AbortController();
    ac.abort();
    const before = seen.length;
    await (await k.watchLeases("sluice", { signal: ac.signal }, () => {})).done;
    expect(seen.length).toBe(before);
  });
});
