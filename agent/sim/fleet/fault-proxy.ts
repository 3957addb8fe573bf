/**
 * A loopback HTTP proxy in front of the sim API server that makes the network and the server
 * misbehave the way a loaded real one does, for the agents' real HTTP client to live through:
 * 500s, 429s with and without Retry-After, 409s, requests never answered (the client's timeout
 * ends them), bodies cut short, bodies that are not JSON, watches dropped mid-stream, and the
 * whole server unreachable for a while. The sim server's own fault rules (agent/sim/faults.ts)
 * answer only well-formed Statuses; what breaks below the HTTP layer lives here.
 *
 * Decisions are drawn from a seeded random source, so a seed replays a run's faults.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer, request } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Clock } from "../../ports";

export type FaultKind = "500" | "429-retry-after" | "429" | "409" | "timeout" | "truncated" | "not-json" | "watch-dropped" | "unreachable";
export const FAULT_KINDS: readonly FaultKind[] = ["500", "429-retry-after", "429", "409", "timeout", "truncated", "not-json", "watch-dropped", "unreachable"];

export interface FaultProxyOptions {
  upstream: string;
  clock: Clock;
  random: () => number;
  /** Probability that a request (not a watch) fails, spread evenly over the request fault kinds. */
  rate: number;
  /** Probability that a watch is dropped, at a random moment within `watchDropWithinMs` (simulated). */
  watchDropRate?: number;
  watchDropWithinMs?: number;
}

const REQUEST_FAULTS: FaultKind[] = ["500", "429-retry-after", "429", "409", "timeout", "truncated", "not-json"];

function status(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code, ...(code === 429 ? { details: { retryAfterSeconds: 1 } } : {}) });
}

export class FaultProxy {
  /** Faults injected so far, by kind. */
  readonly injected: Record<FaultKind, number> = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  /** Requests that reached the proxy (answered, failed or refused). */
  requests = 0;
  enabled = true;
  private readonly http: Server;
  private readonly sockets = new Set<Socket>();
  private readonly watches = new Set<ServerResponse>();
  private unreachableUntil = -1;
  private port = 0;

  constructor(readonly o: FaultProxyOptions) {
    this.http = createServer((req, res) => this.serve(req, res));
    this.http.requestTimeout = 0;
    this.http.headersTimeout = 0;
    this.http.on("connection", (s: Socket) => {
      if (this.unreachable()) {
        this.injected.unreachable += 1;
        s.destroy();
        return;
      }
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.http.listen(0, "127.0.0.1", resolve));
    this.port = (this.http.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.http.close(() => r()));
  }

  private unreachable(): boolean {
    return this.o.clock.monotonic() < this.unreachableUntil;
  }

  /** The server cannot be reached for `ms` (simulated): open connections are cut, new ones refused. */
  cutOff(ms: number): void {
    this.unreachableUntil = this.o.clock.monotonic() + ms;
    for (const s of this.sockets) s.destroy();
  }

  private pick(): FaultKind | undefined {
    if (!this.enabled || this.o.random() >= this.o.rate) return undefined;
    return REQUEST_FAULTS[Math.floor(this.o.random() * REQUEST_FAULTS.length)];
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    this.requests += 1;
    if (this.unreachable()) {
      this.injected.unreachable += 1;
      req.socket.destroy();
      return;
    }
    const watch = /[?&]watch=(true|1)/.test(req.url ?? "");
    const fault = watch ? undefined : this.pick();
    if (fault) this.injected[fault] += 1;
    switch (fault) {
      case "500":
        return void res.writeHead(500, { "content-type": "application/json" }).end(status(500, "InternalError", "Internal error occurred: injected fault"));
      case "429-retry-after":
        return void res.writeHead(429, { "content-type": "application/json", "retry-after": "1" }).end(status(429, "TooManyRequests", "the server has received too many requests and has asked us to try again later"));
      case "429":
        return void res.writeHead(429, { "content-type": "text/plain" }).end("Too many requests, please try again later.\n");
      case "409":
        return void res.writeHead(409, { "content-type": "application/json" }).end(status(409, "Conflict", "Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again"));
      case "timeout":
        // Never answered: the client's own timeout must end it. Drain the body so the socket stays sane.
        req.resume();
        return;
      default:
    }
    const up = request(this.o.upstream + (req.url ?? "/"), { method: req.method, headers: req.headers }, (ur) => {
      if (fault === "not-json" && (ur.statusCode ?? 500) < 300) {
        ur.resume();
        return void res.writeHead(200, { "content-type": "application/json" }).end("<html><body>502 Bad Gateway</body></html>\n");
      }
      if (fault === "truncated") {
        const chunks: Buffer[] = [];
        ur.on("data", (c: Buffer) => chunks.push(c));
        ur.on("end", () => {
          const body = Buffer.concat(chunks);
          // Promise the whole length, send half, and close: the client sees the answer end early.
          res.writeHead(ur.statusCode ?? 200, { "content-type": "application/json", "content-length": body.length });
          res.write(body.subarray(0, Math.floor(body.length / 2)));
          res.socket?.destroy();
        });
        return;
      }
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      // A watch's headers come long before its first event: pass them on at once.
      res.flushHeaders();
      ur.pipe(res);
      if (watch) this.track(res);
    });
    up.on("error", () => res.socket?.destroy());
    res.on("close", () => up.destroy());
    req.pipe(up);
  }

  private track(res: ServerResponse): void {
    this.watches.add(res);
    res.on("close", () => this.watches.delete(res));
    const rate = this.o.watchDropRate ?? 0;
    if (!this.enabled || this.o.random() >= rate) return;
    const after = Math.floor(this.o.random() * (this.o.watchDropWithinMs ?? 10 * 60_000));
    void this.o.clock.sleep(after).then(() => {
      if (res.writableEnded || res.destroyed) return;
      this.injected["watch-dropped"] += 1;
      res.socket?.destroy();
    });
  }
}
