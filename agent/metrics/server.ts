/**
 * The metrics listener: GET /metrics on metricsHost:metricsPort, nothing else. The caller does
 * not start it when metricsPort is 0. It serves what `metrics.text()` renders, so this file never
 * loads prom-client itself.
 */
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { SluiceError } from "../ports";
import type { AgentMetrics } from "./metrics";

export interface MetricsServer {
  /** The address actually bound (the port is the kernel's choice when 0 was asked, as tests do). */
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Codes of the errors `startMetricsServer` rejects with; cli/ turns both into exit 69. */
export const METRICS_PORT_TAKEN = "metrics-port-taken";
export const METRICS_LISTEN_FAILED = "metrics-listen-failed";

export function startMetricsServer(metrics: Pick<AgentMetrics, "text" | "contentType">, host: string, port: number): Promise<MetricsServer> {
  const server = createServer((req, res) => void serve(metrics, req, res));
  // A scraper that opens connections and never finishes its request must not pin the agent's memory.
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 65_000;
  server.maxConnections = 32;
  return new Promise((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
      if (err.code === "EADDRINUSE") reject(new SluiceError(METRICS_PORT_TAKEN, `cannot serve metrics on ${where}: the port is already in use (set metricsPort to a free port, or 0 to switch metrics off)`, { cause: err }));
      else reject(new SluiceError(METRICS_LISTEN_FAILED, `cannot serve metrics on ${where}: ${err.code ?? err.message}`, { cause: err }));
    });
    server.listen({ host, port, exclusive: true }, () => {
      const a = server.address() as AddressInfo;
      resolve({
        host: a.address,
        port: a.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

async function serve(metrics: Pick<AgentMetrics, "text" | "contentType">, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? "/").split("?")[0];
  if (path !== "/metrics") {
    res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("not found: sluice serves only /metrics\n");
    return;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain; charset=utf-8" }).end("method not allowed\n");
    return;
  }
  try {
    const body = await metrics.text();
    res.writeHead(200, { "Content-Type": metrics.contentType, "Content-Length": Buffer.byteLength(body) });
    res.end(req.method === "HEAD" ? undefined : body);
  } catch (err) {
    res.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" }).end(`cannot render metrics: ${err instanceof Error ? err.message : String(err)}\n`);
  }
}
