/**
 * The notifier against local HTTP receivers on loopback that answer as each service does and
 * check the payload shape it expects. The service's real host is kept in a header by a fetch
 * that sends everything to loopback; timeouts and backoff run on the fake clock.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Logger } from "../../agent/log";
import { type NotifyFetch, createNotifier, retryDelay } from "../../agent/notify";
import { FakeClock } from "../../agent/ports";
import { Capture } from "../helpers/tmp";

interface Seen {
  host: string;
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}
type Reply = (s: Seen, res: ServerResponse) => void;

let server: Server;
let base: string;
const seen: Seen[] = [];
let override: Reply | undefined;

const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
const bad = (res: ServerResponse, why: string) => res.writeHead(400, { "Content-Type": "text/plain" }).end(why);

/** What each real service checks and answers (shapes from the services' webhook documentation). */
const services: Array<[RegExp, Reply]> = [
  [/^hooks\.slack\.com \/services\/T[0-9A-Z]+\/B[0-9A-Z]+\/[A-Za-z0-9]+$/, (s, res) => {
    const b = JSON.parse(s.body);
    if (typeof b.text !== "string" && !Array.isArray(b.attachments)) return bad(res, "invalid_payload");
    res.writeHead(200, { "Content-Type": "text/html" }).end("ok");
  }],
  [/^slack\.com \/api\/chat\.postMessage$/, (s, res) => {
    if (!/^Bearer xox[bp]-/.test(String(s.headers.authorization))) return json(res, 200, { ok: false, error: "not_authed" });
    const b = JSON.parse(s.body);
    if (b.channel === "CGONE0000") return json(res, 200, { ok: false, error: "channel_not_found" });
    json(res, 200, { ok: typeof b.text === "string" && typeof b.channel === "string", channel: b.channel, ts: "1.2" });
  }],
  [/^[a-z0-9]+\.webhook\.office\.com \/webhookb2\/[0-9a-f-]{36}@[0-9a-f-]{36}\/IncomingWebhook\/[0-9a-f]{32}\/[0-9a-f-]{36}(\/[A-Za-z0-9]+)?$/, (s, res) => {
    const b = JSON.parse(s.body);
    if (b["@type"] !== "MessageCard" || typeof b.summary !== "string" || !Array.isArray(b.sections)) return bad(res, "Summary or Text is required.");
    res.writeHead(200, { "Content-Type": "text/plain" }).end("1");
  }],
  [/^discord\.com \/api\/webhooks\/\d+\/[A-Za-z0-9_-]+$/, (s, res) => {
    const b = JSON.parse(s.body);
    if (!Array.isArray(b.embeds) || b.embeds.length > 10 || typeof b.embeds[0]?.description !== "string" || b.embeds[0].description.length > 4096) return json(res, 400, { code: 50006, message: "Cannot send an empty message" });
    res.writeHead(204).end();
  }],
  [/^api\.telegram\.org \/bot\d+:[A-Za-z0-9_-]+\/sendMessage$/, (s, res) => {
    const b = JSON.parse(s.body);
    if (typeof b.chat_id !== "string" || typeof b.text !== "string") return json(res, 400, { ok: false, error_code: 400, description: "Bad Request: message text is empty" });
    json(res, 200, { ok: true, result: { message_id: 1, text: b.text, chat: { id: 1, type: "channel" } } });
  }],
  [/^gotify\.example\.com \/message$/, (s, res) => {
    if (s.headers["x-gotify-key"] !== "AbCdEfGhIjKlMnO") return json(res, 401, { error: "Unauthorized", errorCode: 401, errorDescription: "you need to provide a valid access token or user credentials to access this api" });
    const b = JSON.parse(s.body);
    if (typeof b.message !== "string" || !Number.isInteger(b.priority)) return json(res, 400, { error: "Bad Request", errorCode: 400, errorDescription: "message" });
    json(res, 200, { id: 1, appid: 1, message: b.message, title: b.title, priority: b.priority, date: "2026-01-05T09:00:00Z" });
  }],
  [/^hooks\.example\.com /, (_s, res) => res.writeHead(200).end()],
];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const s: Seen = { host: String(req.headers["x-original-host"]), method: req.method!, path: req.url!, headers: req.headers, body };
      seen.push(s);
      if (override) return override(s, res);
      const svc = services.find(([re]) => re.test(`${s.host} ${s.path}`));
      if (!svc) return res.writeHead(404, { "Content-Type": "text/plain" }).end(`no such webhook: ${s.host} ${s.path}`);
      svc[1](s, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
afterEach(() => {
  seen.length = 0;
  override = undefined;
});

/** Sends every request to the loopback receiver, keeping the service's host in a header. */
const loopback: NotifyFetch = (url, init) => {
  const u = new URL(url);
  return fetch(`${base}${u.pathname}${u.search}`, { ...init, headers: { ...init.headers, "x-original-host": u.host } });
};

function setup(url: string, extra: { retries?: number; timeoutMs?: number; queueSize?: number } = {}) {
  const clock = new FakeClock();
  const out = new Capture();
  const log = new Logger({ sink: out, level: "debug", format: "json" });
  const n = createNotifier(url, { log, clock, fetch: loopback, backoffMs: 1000, maxBackoffMs: 8000, ...extra });
  return { clock, out, n };
}

/** Waits (really) until the receiver has seen `count` requests: they travel over loopback. */
async function received(count: number): Promise<void> {
  for (let i = 0; i < 500 && seen.length < count; i++) await new Promise((r) => setTimeout(r, 5));
  expect(seen.length).toBe(count);
}

const G = "11111111-2222-4333-8444-555555555555";
const T = "66666666-7777-4888-9999-aaaaaaaaaaaa";
const A = "0123456789abcdef0123456789abcdef";
const O = "bbbbbbbb-cccc-4ddd-8eee-ffffffffffff";
const SLACK = "hook:T00000000-B00000000-XXXXXXXXXXXXXXXXXXXXXXXX@webhook";

describe("delivery to each service", () => {
  it.each([
    ["slack webhook", `slack://${SLACK}`, "hooks.slack.com"],
    ["slack bot token", "slack://xoxb:123456789012-1234567890123-4mt0t4l1YL3g1T5L4cK70k3N@C0123ABCD", "slack.com"],
    ["teams, old form", `teams://${G}@${T}/${A}/${O}?host=contoso.webhook.office.com`, "contoso.webhook.office.com"],
    ["teams, new form", `teams://${G}@${T}/${A}/${O}/V2abc123?host=contoso.webhook.office.com`, "contoso.webhook.office.com"],
    ["discord", "discord://s3cr3t-T0ken_x@123456789012345678", "discord.com"],
    ["telegram", "telegram://110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw@telegram?chats=@ops&title=sluice", "api.telegram.org"],
    ["gotify", "gotify://gotify.example.com/AbCdEfGhIjKlMnO", "gotify.example.com"],
    ["generic+https", "generic+https://hooks.example.com/in?template=json", "hooks.example.com"],
    ["plain https", "https://hooks.example.com/chat/abcdefgh", "hooks.example.com"],
  ])("%s: accepted by its receiver", async (_n, url, host) => {
    const { n, out } = setup(url);
    await n.send("Draining node worker-1");
    await n.idle();
    expect(seen.map((s) => s.host)).toEqual([host]);
    expect(seen[0]!.body).toContain("Draining node worker-1");
    expect(out.lines.map((l) => JSON.parse(l).msg)).toEqual(["notification sent"]);
  });

  it("a refusal in a 200 answer (Slack's API) is a failure, and final", async () => {
    const { n, out } = setup("slack://xoxb:123456789012-1234567890123-4mt0t4l1YL3g1T5L4cK70k3N@CGONE0000");
    await n.send("m");
    await n.idle();
    expect(seen).toHaveLength(1);
    const last = JSON.parse(out.lines.at(-1)!);
    expect([last.level, last.msg, last.attempts]).toEqual(["warning", "notification not delivered: slack refused the message: channel_not_found", 1]);
  });

  it("a wrong token (401) is final and its text never shows the token", async () => {
    const { n, out } = setup("gotify://gotify.example.com/AWrongTokenXYZ1");
    await n.send("m");
    await n.idle();
    expect(seen).toHaveLength(1);
    expect(out.text).toContain("HTTP 401");
    expect(out.text).not.toContain("AWrongTokenXYZ1");
  });
});

describe("never blocking the caller", () => {
  it("send() returns while the receiver hangs; the request times out and is retried with backoff, then given up", async () => {
    override = () => {}; // accepts, never answers
    const { n, out, clock } = setup(`slack://${SLACK}`, { retries: 2, timeoutMs: 5000 });
    await n.send("m"); // resolves at once: nothing has been answered
    await received(1);
    await clock.advance(5000); // timeout of attempt 1
    await clock.advance(1000); // backoff 1 s
    await received(2);
    await clock.advance(5000);
    await clock.advance(2000); // backoff 2 s
    await received(3);
    await clock.advance(5000);
    await n.idle();
    const lines = out.lines.map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ["debug", "notification failed, retrying in 1000 ms: no answer within 5000 ms"],
      ["debug", "notification failed, retrying in 2000 ms: no answer within 5000 ms"],
      ["warning", "notification not delivered: no answer within 5000 ms"],
    ]);
    expect(out.text).not.toContain("XXXXXXXXXXXXXXXXXXXXXXXX");
  });

  it("a 503 then success: retried after the backoff, delivered once", async () => {
    let calls = 0;
    override = (_s, res) => (calls++ === 0 ? res.writeHead(503, { "Retry-After": "3" }).end("busy") : res.writeHead(200).end("ok"));
    const { n, clock, out } = setup(`slack://${SLACK}`);
    await n.send("m");
    await received(1);
    await clock.advance(2999);
    expect(seen).toHaveLength(1);
    await clock.advance(1); // Retry-After: 3 s wins over the 1 s backoff
    await n.idle();
    expect(seen).toHaveLength(2);
    expect(out.lines.map((l) => JSON.parse(l).msg)).toEqual(["notification failed, retrying in 3000 ms: HTTP 503: busy", "notification sent"]);
  });

  it("a receiver that is not there: connection refused, retried, given up, URL secrets hidden", async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, "127.0.0.1", r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const clock = new FakeClock();
    const out = new Capture();
    const n = createNotifier(`generic+http://127.0.0.1:${port}/hook/topsecretpath?token=abcdef123`, { log: new Logger({ sink: out, format: "json", level: "debug" }), clock, retries: 1, backoffMs: 10 });
    await n.send("m");
    for (let i = 0; i < 400 && !out.text.includes("retrying"); i++) await new Promise((r) => setTimeout(r, 5));
    expect(JSON.parse(out.lines[0]!).msg).toBe("notification failed, retrying in 10 ms: fetch failed (ECONNREFUSED)");
    await clock.advance(10);
    await n.idle();
    const last = JSON.parse(out.lines.at(-1)!);
    expect(last.msg).toMatch(/^notification not delivered: fetch failed \(ECONNREFUSED\)$/);
    expect(last.target).toBe(`generic webhook at 127.0.0.1:${port}`);
    expect(out.text).not.toContain("topsecretpath");
    expect(out.text).not.toContain("abcdef123");
  });

  it("the queue is bounded: a flood while the receiver hangs keeps only the newest", async () => {
    override = () => {};
    const { n, clock, out } = setup(`slack://${SLACK}`, { retries: 0, timeoutMs: 1000, queueSize: 3 });
    for (let i = 0; i < 50; i++) await n.send(`message ${i}`);
    await received(1); // message 0 is in flight; 1..49 overflowed down to the last 3
    override = (_s, res) => res.writeHead(200).end("ok");
    await clock.advance(1000);
    await n.idle();
    expect(seen.map((s) => JSON.parse(s.body).text)).toEqual(["message 0", "message 47", "message 48", "message 49"]);
    const warnings = out.lines.map((l) => JSON.parse(l)).filter((l) => l.level === "warning").map((l) => l.msg);
    expect(warnings).toEqual(["notification queue full: dropping the oldest message", "notification not delivered: no answer within 1000 ms", "dropped 46 notifications: the receiver could not keep up"]);
  });

  it("close() cancels what is in flight and drops what waits", async () => {
    override = () => {};
    const { n } = setup(`slack://${SLACK}`);
    await n.send("a");
    await n.send("b");
    await received(1);
    n.close();
    await n.idle();
    await n.send("c");
    await n.idle();
    expect(seen).toHaveLength(1);
  });

  it("an empty notifyUrl is no notifier at all", async () => {
    const { n } = setup("");
    await n.send("m");
    await n.idle();
    expect([n.target, seen.length]).toEqual(["none", 0]);
  });
});

describe("retryDelay", () => {
  it.each([
    [1, null, 1000],
    [2, null, 2000],
    [4, null, 8000],
    [10, null, 60000],
    [1, "5", 5000],
    [1, "0", 0],
    [1, "100000", 60000],
    [3, "Wed, 21 Oct 2015 07:28:00 GMT", 4000], // an HTTP date is not honoured: plain backoff
    [2, "-4", 2000],
  ])("attempt %i, Retry-After %s → %i ms", (attempt, header, want) => {
    expect(retryDelay(attempt, 1000, 60000, header)).toBe(want);
  });
});
