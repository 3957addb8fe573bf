/**
 * The sim bench's watcher fleet, run as a forked child so that reading 2000 streams is not billed
 * to the server's CPU (the bench machine has 2 cores: this process gets one, the server the other).
 * Plain node:http; every stream only counts newlines. Every `sampleEvery`-th stream also splits its
 * lines and parses the JSON of those carrying a `bench/id` annotation, to time that event's arrival.
 */
import { Agent, request } from "node:http";

export interface WatchersOpen {
  type: "open";
  url: string;
  token: string;
  /** Watch path with query, opened `count` times. */
  path: string;
  count: number;
  sampleEvery: number;
}
export type WatchersCommand = WatchersOpen | { type: "report" } | { type: "stop" };

export interface WatchersReport {
  type: "report";
  /** Watch event lines received over all streams since the start. */
  lines: number;
  /** [bench/id, arrival time in epoch ms (performance.timeOrigin + now)] since the last report. */
  samples: [number, number][];
  /** Streams that ended or failed before "stop". */
  lost: number;
}
export type WatchersMessage = { type: "opened"; count: number } | WatchersReport | { type: "error"; message: string };

const NL = 0x0a;
let lines = 0;
let lost = 0;
let stopping = false;
let samples: [number, number][] = [];
const requests: { destroy(): void }[] = [];
const send = (m: WatchersMessage) => process.send?.(m);

function countLines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(NL); i !== -1; i = buf.indexOf(NL, i + 1)) n++;
  return n;
}

/** A sampled stream: whole lines only, and JSON.parse only for lines that carry an id. */
function sampler(): (buf: Buffer) => void {
  let rest = "";
  return (buf) => {
    const t = performance.timeOrigin + performance.now();
    const text = rest + buf.toString("utf8");
    const parts = text.split("\n");
    rest = parts.pop() ?? "";
    for (const line of parts) {
      if (!line.includes('"bench/id"')) continue;
      const id = Number(JSON.parse(line).object?.metadata?.annotations?.["bench/id"]);
      if (Number.isFinite(id)) samples.push([id, t]);
    }
  };
}

function open(cmd: WatchersOpen): void {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  let opened = 0;
  for (let i = 0; i < cmd.count; i++) {
    const sample = i % cmd.sampleEvery === 0 ? sampler() : undefined;
    const req = request(`${cmd.url}${cmd.path}`, { agent, headers: { Authorization: `Bearer ${cmd.token}` } }, (res) => {
      if (res.statusCode !== 200) send({ type: "error", message: `watch answered ${res.statusCode}` });
      if (++opened === cmd.count) send({ type: "opened", count: opened });
      res.on("data", (buf: Buffer) => {
        lines += countLines(buf);
        sample?.(buf);
      });
      res.on("close", () => void (stopping || lost++));
    });
    req.on("error", (err) => void (stopping || (lost++, send({ type: "error", message: err.message }))));
    req.end();
    requests.push(req);
  }
}

process.on("message", (cmd: WatchersCommand) => {
  if (cmd.type === "open") open(cmd);
  else if (cmd.type === "report") {
    send({ type: "report", lines, samples, lost });
    samples = [];
  } else {
    stopping = true;
    for (const r of requests) r.destroy();
    process.disconnect();
  }
});
