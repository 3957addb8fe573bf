/**
 * Requests to the API server over Node's own http/https: JSON in and out, a timeout on every
 * request, the server's Status kept in every KubeError, one keep-alive agent rebuilt only when
 * the TLS material rotates. No fetch: Node's fetch loads undici, megabytes the agent does not need.
 */
import * as http from "node:http";
import * as https from "node:https";
import { KubeError, fromStatus, networkError } from "./errors";
import { Credentials } from "./credentials";
import type { KubeTarget } from "./kubeconfig";

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestSpec {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  query?: Query;
  body?: unknown;
  /** Default application/json; merge patches say application/merge-patch+json. */
  contentType?: string;
}

export interface HttpOptions {
  /** Per request, from sending to the whole answer read. Default 30 s. */
  timeoutMs?: number;
  userAgent?: string;
  env?: Record<string, string | undefined>;
}

/** A body larger than this is not an answer the agent asked for; refuse it instead of buffering it. */
const MAX_BODY = 64 << 20;

export class KubeHttp {
  readonly server: URL;
  private readonly credentials: Credentials;
  private agent: http.Agent | undefined;
  private agentVersion = "";
  private readonly timeoutMs: number;
  private readonly userAgent: string;

  constructor(
    readonly target: KubeTarget,
    options: HttpOptions = {},
  ) {
    this.server = new URL(target.server);
    this.credentials = new Credentials(target, options.env ?? process.env);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.userAgent = options.userAgent ?? "sluice";
  }

  /** A JSON request; resolves with the parsed body, or rejects with a KubeError. */
  async json<T>(spec: RequestSpec): Promise<T> {
    const res = await this.send(spec, this.timeoutMs);
    const text = await readBody(res);
    if (res.statusCode! >= 300) throw errorFrom(res, text);
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new KubeError("unavailable", `the API server answered ${spec.method} ${spec.path} with ${res.statusCode} and a body that is not JSON`, { status: res.statusCode, cause: err });
    }
  }

  /**
   * Opens a streaming GET (a watch). Resolves with the response once the status is 2xx; an error
   * status is read and rejected as a KubeError. Only the connection, not the stream, is timed.
   */
  async stream(spec: RequestSpec, signal?: AbortSignal): Promise<http.IncomingMessage> {
    const res = await this.send(spec, this.timeoutMs, signal);
    if (res.statusCode! >= 300) throw errorFrom(res, await readBody(res));
    return res;
  }

  /** Sends, retrying once on 401 when a credential may have rotated under us. */
  private async send(spec: RequestSpec, timeoutMs: number, signal?: AbortSignal): Promise<http.IncomingMessage> {
    let res = await this.once(spec, timeoutMs, signal);
    if (res.statusCode === 401 && (this.target.user.exec || this.target.user.tokenFile)) {
      res.resume();
      this.credentials.invalidate();
      res = await this.once(spec, timeoutMs, signal);
    }
    return res;
  }

  private async once(spec: RequestSpec, timeoutMs: number, signal?: AbortSignal): Promise<http.IncomingMessage> {
    let cur;
    try {
      cur = await this.credentials.current();
    } catch (err) {
      throw new KubeError("unavailable", `no credentials for the API server: ${(err as Error).message}`, { cause: err });
    }
    const body = spec.body === undefined ? undefined : Buffer.from(JSON.stringify(spec.body));
    const headers: Record<string, string | number> = { accept: "application/json", "user-agent": this.userAgent, ...cur.headers };
    if (body) {
      headers["content-type"] = spec.contentType ?? "application/json";
      headers["content-length"] = body.length;
    }
    const url = new URL(this.server.href.replace(/\/$/, "") + spec.path);
    for (const [k, v] of Object.entries(spec.query ?? {})) if (v !== undefined && v !== "") url.searchParams.set(k, String(v));
    const tlsServer = this.server.protocol === "https:";
    const agent = tlsServer ? this.agentFor(cur.tls) : this.plainAgent();
    const lib = tlsServer ? https : http;
    return new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = lib.request(url, { method: spec.method, headers, agent, signal, servername: this.target.tlsServerName }, (res) => {
        clearTimeout(timer);
        resolve(res);
      });
      const timer = setTimeout(() => req.destroy(new KubeError("unavailable", `${spec.method} ${url.pathname}: no answer within ${timeoutMs / 1000} s`)), timeoutMs);
      req.on("error", (err) => {
        clearTimeout(timer);
        reject(err instanceof KubeError ? err : networkError(err, `${spec.method} ${url.pathname}`));
      });
      req.end(body);
    });
  }

  private plainAgent(): http.Agent {
    this.agent ??= new http.Agent({ keepAlive: true });
    return this.agent;
  }

  private agentFor(tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; version: string }): http.Agent {
    if (this.agent && this.agentVersion === tls.version) return this.agent;
    // Rotated material: new connections use the new agent; open watches finish on the old one,
    // whose idle connections are closed now.
    if (this.agent) closeIdle(this.agent);
    this.agent = new https.Agent({
      keepAlive: true,
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      rejectUnauthorized: !this.target.insecureSkipTlsVerify,
      servername: this.target.tlsServerName,
    });
    this.agentVersion = tls.version;
    return this.agent;
  }

  /** Closes idle keep-alive connections (tests, and a CLI command that is done). */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }
}

function closeIdle(agent: http.Agent): void {
  for (const sockets of Object.values(agent.freeSockets)) for (const s of sockets ?? []) s.destroy();
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on("data", (b: Buffer) => {
      size += b.length;
      if (size > MAX_BODY) res.destroy(new KubeError("unavailable", `the API server's answer exceeds ${MAX_BODY >> 20} MiB`));
      else chunks.push(b);
    });
    res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    res.on("error", (err) => reject(err instanceof KubeError ? err : networkError(err, "reading the answer")));
    res.on("aborted", () => reject(new KubeError("unavailable", "the API server closed the connection mid-answer")));
  });
}

/** A KubeError from an error status, keeping the server's Status (message, reason, details). */
export function errorFrom(res: http.IncomingMessage, text: string): KubeError {
  const status = res.statusCode ?? 500;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const isStatus = typeof parsed === "object" && parsed !== null && (parsed as { kind?: unknown }).kind === "Status";
  const body = isStatus ? (parsed as Record<string, unknown>) : { message: plainMessage(status, text) };
  const headers: Record<string, string> = {};
  const retry = res.headers["retry-after"];
  if (typeof retry === "string") headers["retry-after"] = retry;
  return fromStatus(body, status, headers);
}

/** A non-Status error body (a proxy's HTML, a load balancer's text): one short line of it. */
function plainMessage(status: number, text: string): string {
  const line = text.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim().slice(0, 200);
  return line ? `HTTP ${status}: ${line}` : status === 401 ? "Unauthorized" : `HTTP ${status}`;
}
