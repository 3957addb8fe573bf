/**
 * sim.*: the in-memory API server under the load the issue asks for: 2000 concurrent watchers,
 * write throughput with them open, and fan-out latency (write sent → event at the watchers) at
 * 200 writes/s. Loopback only, bounded to well under a minute.
 */
import { Agent, request } from "node:http";
import { SimServer } from "../../agent/sim";
import { type BenchSuite, type Figure, figure, percentiles } from "./types";

const WATCHERS = 2000;
const RATE = 200;

function httpJson(server: SimServer, agent: Agent, method: string, path: string, body?: unknown, contentType = "application/json"): Promise<number> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(`${server.url}${path}`, { method, agent, headers: { Authorization: `Bearer ${server.adminToken}`, "Content-Type": contentType } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(data);
  });
}

async function run(): Promise<Figure[]> {
  const server = await new SimServer({ namespaces: ["bench"], historyLimit: 5000 }).start();
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const watchAgent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const base = "/apis/coordination.k8s.io/v1/namespaces/bench/leases";
  await httpJson(server, agent, "POST", base, { metadata: { name: "hot", labels: { bench: "yes" } }, spec: { holderIdentity: "x" } });
  const latencies: number[] = [];
  let received = 0;
  let measuring = false;
  const sockets: { destroy(): void }[] = [];
  await new Promise<void>((resolve, reject) => {
    let open = 0;
    for (let i = 0; i < WATCHERS; i++) {
      const req = request(`${server.url}${base}?watch=true&labelSelector=bench%3Dyes&resourceVersion=${1e9}`, { agent: watchAgent, headers: { Authorization: `Bearer ${server.adminToken}` } }, (res) => {
        if (++open === WATCHERS) resolve();
        const sample = i % 20 === 0;
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          received++;
          if (!measuring || !sample) return;
          const now = performance.now();
          for (const m of chunk.matchAll(/"bench\/sent":"([\d.]+)"/g)) latencies.push(now - Number(m[1]));
        });
      });
      req.on("error", reject);
      req.end();
      sockets.push(req);
    }
  });

  // Throughput: as many merge patches as 16 connections sustain for 3 s, every watcher receiving each.
  let writes = 0;
  const until = performance.now() + 3000;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() < until) {
        await httpJson(server, agent, "PATCH", `${base}/hot`, { spec: { leaseTransitions: writes++ } }, "application/merge-patch+json");
      }
    }),
  );
  const throughput = writes / 3;

  // Fan-out latency at the 200 writes/s, for 3 s.
  measuring = true;
  const start = performance.now();
  for (let i = 0; i < RATE * 3; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    httpJson(server, agent, "PATCH", `${base}/hot`, { metadata: { annotations: { "bench/sent": String(performance.now()) } } }, "application/merge-patch+json").catch(() => {});
  }
  const achieved = (RATE * 3) / ((performance.now() - start) / 1000);
  await new Promise((r) => setTimeout(r, 1000));
  measuring = false;
  const { p50, p95 } = percentiles(latencies);
  for (const s of sockets) s.destroy();
  agent.destroy();
  watchAgent.destroy();
  await server.stop();
  void received;
  return [
    figure("sim.write_throughput", throughput, "writes/s", { minValue: RATE, goal: `>= ${RATE} writes/s with ${WATCHERS} watchers` }),
    figure("sim.paced_write_rate", achieved, "writes/s", { minValue: RATE * 0.95 }),
    figure("sim.watch_fanout_p50", p50, "ms", { maxValue: 250 }),
    figure("sim.watch_fanout_p95", p95, "ms", { maxValue: 1000 }),
  ];
}

const suite: BenchSuite = { prefix: "sim", run };
export default suite;
