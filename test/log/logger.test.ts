import { describe, expect, it } from "vitest";
import { Logger, createLogger, redactArgv, redactText, redactUrl } from "../../agent/log";
import { Capture } from "../helpers/tmp";

const NOW = Date.parse("2026-11-25T10:00:00Z");

describe("logger", () => {
  it("prefixes sd-daemon priorities and omits timestamps under journald", () => {
    const out = new Capture();
    const log = createLogger({ JOURNAL_STREAM: "8:12345" }, { sink: out, level: "debug", now: () => NOW });
    log.error("e");
    log.warning("w");
    log.notice("n", { node: "a" });
    log.info("i");
    log.debug("d");
    expect(out.lines).toEqual(["<3>e", "<4>w", "<5>n node=a", "<6>i", "<7>d"]);
  });

  it("has no prefixes on a terminal, and a timestamp and level instead", () => {
    const out = new Capture();
    createLogger({}, { sink: out, now: () => NOW }).warning("disk full", { path: "/var lib" });
    expect(out.lines).toEqual(['2026-11-25T10:00:00.000Z WARNING disk full path="/var lib"']);
  });

  it("json gives one object a line", () => {
    const out = new Capture();
    const log = new Logger({ sink: out, format: "json", now: () => NOW }).child({ component: "lock" });
    log.info("slot taken", { slot: 0, detail: "two\nlines" });
    expect(out.lines).toHaveLength(1);
    expect(JSON.parse(out.lines[0]!)).toEqual({ level: "info", msg: "slot taken", component: "lock", slot: 0, detail: "two\nlines", time: "2026-11-25T10:00:00.000Z" });
  });

  it("drops lines below the level", () => {
    const out = new Capture();
    const log = new Logger({ sink: out, level: "notice" });
    log.info("quiet");
    log.debug("quieter");
    expect(out.text).toBe("");
  });

  it("keeps one journal entry per record even with newlines inside", () => {
    const out = new Capture();
    new Logger({ sink: out, journald: true }).error("line one\nline two");
    expect(out.lines).toEqual(["<3>line one\\nline two"]);
  });
});

describe("credentials never reach a log line", () => {
  const secrets = ["hunter2", "s3cr3t-token", "XOXB-123", "T000/B000/abcdefSECRET", "webhookSECRETtoken", "sigSECRET", "eyJhbGciOiJSUzI1NiJ9.payload.sig"];
  const cases: Array<[string, (log: Logger) => void]> = [
    ["user info in a URL", (l) => l.info("notify to https://admin:hunter2@hooks.example.com/x")],
    ["token query parameter", (l) => l.info("calling", { url: "https://api.example.com/hook?token=s3cr3t-token&channel=ops" })],
    ["shoutrrr slack URL", (l) => l.info("notify", { notifyUrl: "slack://XOXB-123@ops-channel" })],
    ["Slack webhook path", (l) => l.warning("failed https://hooks.slack.com/services/T000/B000/abcdefSECRET")],
    ["Discord webhook path", (l) => l.info("post", { to: "https://discord.com/api/webhooks/1234/webhookSECRETtoken" })],
    ["Teams workflow signature", (l) => l.info("post", { to: "https://prod.westus.logic.azure.com/workflows/1/triggers/manual/paths/invoke?sig=sigSECRET" })],
    ["bearer header", (l) => l.error("request failed", { headers: { Authorization: "Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig" } })],
    ["field named token", (l) => l.info("kubeconfig", { token: "s3cr3t-token" })],
    ["field named password, nested", (l) => l.info("cfg", { auth: { user: "x", password: "hunter2" } })],
    ["error message", (l) => l.error("boom", { err: new Error("GET https://u:hunter2@x.example/ failed") })],
    ["Bearer in message text", (l) => l.error("sent Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig")],
    ["shoutrrr slack tokens as host and path", (l) => l.info("notify", { to: "slack://XOXB-123/T000/B000/abcdefSECRET" })],
    ["gotify token path", (l) => l.info("notify", { to: "gotify://gotify.example.com/webhookSECRETtoken" })],
    ["kubeconfig in a parser message", (l) => l.error("cannot load: bad indentation at line 9:\n    token: s3cr3t-token\n  client-key-data: hunter2")],
    ["sentinel command arguments", (l) => l.info("ran", { argv: redactArgv(["check", "--token", "s3cr3t-token", "--password=hunter2"]) })],
  ];
  for (const format of ["text", "json"] as const) {
    it.each(cases)(`${format}: %s`, (_name, act) => {
      const out = new Capture();
      act(new Logger({ sink: out, format }));
      expect(out.text).toContain("***");
      for (const s of secrets) expect(out.text).not.toContain(s);
    });
  }

  it("leaves what is not a secret readable", () => {
    expect(redactUrl("https://hooks.slack.com/services/T000/B000/abc")).toBe("https://hooks.slack.com/services/***/***/***");
    expect(redactUrl("https://prom.example:9090/api/v1/query?query=ALERTS")).toBe("https://prom.example:9090/api/v1/query?query=ALERTS");
    expect(redactText("node a drained in 3s")).toBe("node a drained in 3s");
    expect(redactUrl("gotify://gotify.example.com/TOKEN")).toBe("gotify://gotify.example.com/***");
    expect(redactText("tokens: 12, passes=3")).toBe("tokens: 12, passes=3");
    expect(redactArgv(["test", "-f", "/run/reboot-required"])).toEqual(["test", "-f", "/run/reboot-required"]);
  });

  it.each(["text", "json"] as const)("%s: a number under a secret-looking name is no secret (a drain pass)", (format) => {
    const out = new Capture();
    new Logger({ sink: out, format }).info("drain pass done", { pass: 3, tokens: 12, secret: false, password: "x" });
    expect(out.text).toMatch(/pass"?[=:]3/);
    expect(out.text).toMatch(/tokens"?[=:]12/);
    expect(out.text).toMatch(/secret"?[=:]false/);
    expect(out.text).not.toMatch(/password"?[=:]"?x/);
  });
});
