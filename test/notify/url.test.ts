/**
 * Notification URLs (shoutrrr's formats, as kured's notifyUrl takes them) → the request each
 * service expects. Pure: no network. The receivers in notifier.test.ts check the same shapes
 * over HTTP.
 */
import { describe, expect, it } from "vitest";
import { NOTIFY_URL_INVALID, parseNotifyUrl } from "../../agent/notify";

const G = "11111111-2222-4333-8444-555555555555"; // Teams group
const T = "66666666-7777-4888-9999-aaaaaaaaaaaa"; // tenant
const A = "0123456789abcdef0123456789abcdef"; // altId
const O = "bbbbbbbb-cccc-4ddd-8eee-ffffffffffff"; // group owner
const SLACK_SECRET = "XXXXXXXXXXXXXXXXXXXXXXXX";

interface Want {
  service: string;
  describe: string;
  url: string;
  headers?: Record<string, string>;
  body: unknown;
}

const cases: Array<[string, string, Want]> = [
  ["slack webhook, token form", `slack://hook:T00000000-B00000000-${SLACK_SECRET}@webhook`, { service: "slack", describe: "slack webhook", url: `https://hooks.slack.com/services/T00000000/B00000000/${SLACK_SECRET}`, body: { text: "m" } }],
  ["slack webhook, old path form with bot name", `slack://kured@T00000000/B00000000/${SLACK_SECRET}`, { service: "slack", describe: "slack webhook", url: `https://hooks.slack.com/services/T00000000/B00000000/${SLACK_SECRET}`, body: { text: "m", username: "kured" } }],
  ["slack webhook, title and color", `slack://hook:T00000000-B00000000-${SLACK_SECRET}@webhook?title=Reboots&color=good`, { service: "slack", describe: "slack webhook", url: `https://hooks.slack.com/services/T00000000/B00000000/${SLACK_SECRET}`, body: { text: "Reboots", attachments: [{ text: "m", color: "good" }] } }],
  ["slack bot token to a channel", "slack://xoxb:123456789012-1234567890123-4mt0t4l1YL3g1T5L4cK70k3N@C0123ABCD?botname=kured&icon=:robot:", { service: "slack", describe: "slack chat.postMessage to C0123ABCD", url: "https://slack.com/api/chat.postMessage", headers: { Authorization: "Bearer xoxb-123456789012-1234567890123-4mt0t4l1YL3g1T5L4cK70k3N" }, body: { text: "m", username: "kured", icon_emoji: ":robot:", channel: "C0123ABCD" } }],
  ["teams, old form on the legacy host", `teams://${G}@${T}/${A}/${O}`, { service: "teams", describe: "teams webhook at outlook.office.com", url: `https://outlook.office.com/webhook/${G}@${T}/IncomingWebhook/${A}/${O}`, body: { "@type": "MessageCard", "@context": "http://schema.org/extensions", markdown: true, summary: "m", sections: [{ text: "m", startGroup: false }] } }],
  ["teams, old form with host", `teams://${G}@${T}/${A}/${O}?host=contoso.webhook.office.com&title=Reboots`, { service: "teams", describe: "teams webhook at contoso.webhook.office.com", url: `https://contoso.webhook.office.com/webhookb2/${G}@${T}/IncomingWebhook/${A}/${O}`, body: { "@type": "MessageCard", "@context": "http://schema.org/extensions", markdown: true, title: "Reboots", summary: "Reboots", sections: [{ text: "m", startGroup: false }] } }],
  ["teams, new form with the extra part", `teams://${G}@${T}/${A}/${O}/V2abcDEF123?host=contoso.webhook.office.com`, { service: "teams", describe: "teams webhook at contoso.webhook.office.com", url: `https://contoso.webhook.office.com/webhookb2/${G}@${T}/IncomingWebhook/${A}/${O}/V2abcDEF123`, body: { "@type": "MessageCard", "@context": "http://schema.org/extensions", markdown: true, summary: "m", sections: [{ text: "m", startGroup: false }] } }],
  ["teams, shoutrrr's first form", `teams://${G}@${T}:${A}@${O}`, { service: "teams", describe: "teams webhook at outlook.office.com", url: `https://outlook.office.com/webhook/${G}@${T}/IncomingWebhook/${A}/${O}`, body: { "@type": "MessageCard", "@context": "http://schema.org/extensions", markdown: true, summary: "m", sections: [{ text: "m", startGroup: false }] } }],
  ["discord", "discord://s3cr3tT0ken@123456789012345678?username=sluice", { service: "discord", describe: "discord webhook", url: "https://discord.com/api/webhooks/123456789012345678/s3cr3tT0ken", body: { embeds: [{ description: "m", color: 0x50d9ff }], username: "sluice" } }],
  ["gotify with a sub-path and priority", "gotify://push.example.com:8443/gotify/AbCdEfGhIjKlMnO?priority=5&title=Reboots", { service: "gotify", describe: "gotify at push.example.com:8443", url: "https://push.example.com:8443/gotify/message", headers: { "X-Gotify-Key": "AbCdEfGhIjKlMnO" }, body: { message: "m", title: "Reboots", priority: 5 } }],
  ["gotify over plain http", "gotify://gotify.lan/AbCdEfGhIjKlMnO?disabletls=yes", { service: "gotify", describe: "gotify at gotify.lan", url: "http://gotify.lan/message", headers: { "X-Gotify-Key": "AbCdEfGhIjKlMnO" }, body: { message: "m", title: "sluice", priority: 0 } }],
  ["telegram", "telegram://110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw@telegram?chats=@ops", { service: "telegram", describe: "telegram bot to 1 chat", url: "https://api.telegram.org/bot110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage", body: { text: "m", chat_id: "@ops", disable_web_page_preview: false, disable_notification: false } }],
  ["telegram with a title: HTML, escaped", "telegram://110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw@telegram?chats=-100123:42&title=A<b>&notification=no", { service: "telegram", describe: "telegram bot to 1 chat", url: "https://api.telegram.org/bot110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage", body: { text: "<b>A&lt;b&gt;</b>\nm", chat_id: "-100123", message_thread_id: 42, parse_mode: "HTML", disable_web_page_preview: false, disable_notification: true } }],
  ["generic: https, bare message", "generic://hooks.example.com/notify/abcdef123?foo=bar", { service: "generic", describe: "generic webhook at hooks.example.com", url: "https://hooks.example.com/notify/abcdef123?foo=bar", headers: { "Content-Type": "application/json" }, body: "m" }],
  ["generic+https with template=json, keys, headers and extra data", "generic+https://hooks.example.com/in?template=json&title=T&messagekey=text&@XApiKey=k3yk3yk3y&$source=sluice", { service: "generic", describe: "generic webhook at hooks.example.com", url: "https://hooks.example.com/in", headers: { "X-Api-Key": "k3yk3yk3y" }, body: { source: "sluice", title: "T", text: "m" } }],
  ["generic: disabletls and PUT", "generic://10.0.0.5:8080/hook?disabletls=yes&method=put", { service: "generic", describe: "generic webhook at 10.0.0.5:8080", url: "http://10.0.0.5:8080/hook", body: "m" }],
  ["a plain https URL gets {text}", "https://chat.example.com/hooks/abcdefgh", { service: "webhook", describe: "webhook at chat.example.com", url: "https://chat.example.com/hooks/abcdefgh", body: { text: "m" } }],
  ["quotes around the URL are stripped, as kured does", `"slack://hook:T00000000-B00000000-${SLACK_SECRET}@webhook"`, { service: "slack", describe: "slack webhook", url: `https://hooks.slack.com/services/T00000000/B00000000/${SLACK_SECRET}`, body: { text: "m" } }],
];

describe("parseNotifyUrl", () => {
  it.each(cases)("%s", (_n, raw, want) => {
    const t = parseNotifyUrl(raw);
    expect([t.service, t.describe]).toEqual([want.service, want.describe]);
    const [req, ...more] = t.requests("m");
    expect(more).toEqual([]);
    expect(req!.url).toBe(want.url);
    for (const [k, v] of Object.entries(want.headers ?? {})) expect(req!.headers[k], k).toBe(v);
    expect(typeof want.body === "string" ? req!.body : JSON.parse(req!.body)).toEqual(want.body);
    // What is shown to people never contains a secret part of the URL.
    for (const s of t.secrets) expect(t.describe).not.toContain(s);
  });

  it("telegram sends one request per chat", () => {
    const reqs = parseNotifyUrl("telegram://1:AAA@telegram?chats=@a,@b,123").requests("m");
    expect(reqs.map((r) => JSON.parse(r.body).chat_id)).toEqual(["@a", "@b", "123"]);
  });

  it("plain http basic auth moves into a header, off the URL", () => {
    const req = parseNotifyUrl("https://user:pa55word@hooks.example.com/x").requests("m")[0]!;
    expect(req.url).toBe("https://hooks.example.com/x");
    expect(req.headers.Authorization).toBe(`Basic ${Buffer.from("user:pa55word").toString("base64")}`);
  });

  it.each([
    ["empty", ""],
    ["not a URL", "hooks.slack.com/services/x"],
    ["unknown scheme", "ftp://example.com/"],
    ["smtp is not supported", "smtp://user:pass@mail.example.com:587/?from=a@b&to=c@d"],
    ["slack: too short a token", "slack://hook:abc@webhook"],
    ["slack: mixed separators", `slack://T00000000-B00000000/${SLACK_SECRET}@webhook`],
    ["teams: three parts", `teams://${G}@${T}/${A}`],
    ["teams: a host that is not a host", `teams://${G}@${T}/${A}/${O}?host=evil.com/x`],
    ["discord: no token", "discord://123456789"],
    ["discord: raw JSON mode", "discord://tok@123/raw"],
    ["gotify: no token", "gotify://push.example.com"],
    ["telegram: no chats", "telegram://1:AAA@telegram"],
    ["telegram: bad token", "telegram://bot@telegram?chats=@a"],
    ["generic: no host", "generic:///path"],
    ["generic: unknown template", "generic://h.example.com/x?template=custom"],
    ["generic: bad method", "generic://h.example.com/x?method=PO%20ST"],
  ])("refuses %s with a stable code", (_n, raw) => {
    let err: unknown;
    try {
      parseNotifyUrl(raw);
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string })?.code).toBe(NOTIFY_URL_INVALID);
    // The error names the scheme at most, never the secrets after it.
    expect((err as Error).message).not.toContain("pass");
    expect((err as Error).message).not.toContain(SLACK_SECRET);
  });
});
