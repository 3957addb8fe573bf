import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, defaults, envName, flagName, loadConfig, type LoadOptions } from "../../agent/config";
import { nodeFs } from "../../agent/host";
import { ExitCode } from "../../agent/ports";
import { windowContains } from "../../agent/window";
import { tempDir } from "../helpers/tmp";

const KURED_VALUES = new URL("../../../shared/fixtures/kured-values.yaml", import.meta.url).pathname;

function load(opts: Partial<LoadOptions> & { configPath: string }) {
  return loadConfig({ fs: nodeFs, env: {}, ...opts });
}

describe("the kured values fixture", () => {
  it("loads unchanged and means what it means for kured", async () => {
    const cfg = await load({ configPath: KURED_VALUES, dropinDir: "/nonexistent" });
    const s = cfg.settings;
    expect(cfg.warnings).toEqual([]);
    // Every key the fixture sets, with kured's meaning.
    expect(s.startTime).toBe(8 * 3600);
    expect(s.endTime).toBe(15 * 3600);
    expect(s.rebootDays).toEqual([1, 2, 3, 4]);
    expect(s.timeZone).toBe("UTC");
    expect(s.notifyUrl).toBe("https://webhook.example.com");
    expect(s.logFormat).toBe("text");
    expect(s.lockReleaseDelay).toBe(5 * 60_000);
    expect(s.lockTtl).toBe(30 * 60_000);
    expect(s.annotateNodes).toBe(true);
    expect(s.preRebootNodeLabels).toEqual(["kured=needs-updates"]);
    expect(s.postRebootNodeLabels).toEqual(["kured=finished-updates"]);
    expect(cfg.windows).toEqual([{ days: [1, 2, 3, 4], startSec: 8 * 3600, endSec: 15 * 3600, timeZone: "UTC", kured: true }]);
    // Everything else keeps its default.
    const d = defaults();
    const set = new Set(["startTime", "endTime", "rebootDays", "timeZone", "notifyUrl", "logFormat", "lockReleaseDelay", "lockTtl", "annotateNodes", "preRebootNodeLabels", "postRebootNodeLabels"]);
    for (const [k, v] of Object.entries(s)) {
      if (!set.has(k)) expect({ k, v }).toEqual({ k, v: d[k as keyof typeof d] });
      expect(cfg.origins[k as keyof typeof s].kind).toBe(set.has(k) ? "file" : "default");
    }
    expect(cfg.origins.lockTtl.where).toBe(`${KURED_VALUES}:20`);
  });

  it("gives a window open Monday to Thursday 08:00 to 15:00 UTC only", async () => {
    const { windows } = await load({ configPath: KURED_VALUES, dropinDir: "/nonexistent" });
    const at = (iso: string) => windowContains(windows, Date.parse(iso));
    expect(at("2026-11-23T08:00:00Z")).toBe(true); // Monday 08:00
    expect(at("2026-11-26T14:59:59Z")).toBe(true); // Thursday
    expect(at("2026-11-26T15:00:00.999Z")).toBe(true); // kured: the end second is inside
    expect(at("2026-11-26T15:00:01Z")).toBe(false);
    expect(at("2026-11-23T07:59:59Z")).toBe(false);
    expect(at("2026-11-27T10:00:00Z")).toBe(false); // Friday
    expect(at("2026-11-29T10:00:00Z")).toBe(false); // Sunday
  });
});

describe("layering", () => {
  it("file, then drop-ins in lexical order key by key, then environment, then flags", async () => {
    const dir = tempDir();
    const main = join(dir, "config.yaml");
    writeFileSync(main, "concurrency: 2\nlockTtl: 10m\ngroup: a\nperiod: 2m\n");
    mkdirSync(join(dir, "config.d"));
    writeFileSync(join(dir, "config.d", "20-b.yaml"), "group: c\n");
    writeFileSync(join(dir, "config.d", "10-a.yaml"), "configuration:\n  group: b\n  lockTtl: 20m\n");
    writeFileSync(join(dir, "config.d", "README"), "not yaml: [");
    const cfg = await load({ configPath: main, env: { SLUICE_CONCURRENCY: "3", SLUICE_PERIOD: "5m" }, flags: { period: "30s" } });
    expect(cfg.settings.group).toBe("c");
    expect(cfg.settings.lockTtl).toBe(20 * 60_000);
    expect(cfg.settings.concurrency).toBe(3);
    expect(cfg.settings.period).toBe(30_000);
    expect(cfg.origins.group).toEqual({ kind: "file", where: `${dir}/config.d/20-b.yaml:1` });
    expect(cfg.origins.lockTtl).toEqual({ kind: "file", where: `${dir}/config.d/10-a.yaml:3` });
    expect(cfg.origins.concurrency).toEqual({ kind: "env", where: "SLUICE_CONCURRENCY" });
    expect(cfg.origins.period).toEqual({ kind: "flag", where: "--period" });
    expect(cfg.files).toEqual([main, `${dir}/config.d/10-a.yaml`, `${dir}/config.d/20-b.yaml`]);
  });

  it("a missing default file is fine, a missing explicit one is an error", async () => {
    const dir = tempDir();
    const cfg = await loadConfig({ fs: nodeFs, env: {}, dropinDir: join(dir, "none"), configPath: undefined });
    expect(cfg.files.length).toBeGreaterThanOrEqual(0);
    await expect(load({ configPath: join(dir, "absent.yaml") })).rejects.toThrow(/does not exist/);
  });

  it("lists come from YAML sequences or comma-separated env and flag values", async () => {
    const dir = tempDir();
    const main = join(dir, "c.yaml");
    writeFileSync(main, "rebootDays: [sat, sun]\n");
    const cfg = await load({ configPath: main, env: { SLUICE_PRE_REBOOT_NODE_LABELS: "a=1, b=2" }, flags: { blockingPodSelector: "app=db,tier in (x,y)" } });
    expect(cfg.settings.rebootDays).toEqual([0, 6]);
    expect(cfg.settings.preRebootNodeLabels).toEqual(["a=1", "b=2"]);
    // A selector has commas of its own: from a flag it is one selector, as kured's flag is.
    expect(cfg.settings.blockingPodSelector).toEqual(["app=db,tier in (x,y)"]);
  });

  it("names env variables and flags after the keys", () => {
    expect(envName("lockTtl")).toBe("SLUICE_LOCK_TTL");
    expect(envName("rebootSentinelCommand")).toBe("SLUICE_REBOOT_SENTINEL_COMMAND");
    expect(flagName("lockReleaseDelay")).toBe("lock-release-delay");
  });

  it("windows replace kured's keys, and the two cannot be mixed", async () => {
    const dir = tempDir();
    const main = join(dir, "c.yaml");
    writeFileSync(main, "windows:\n  - {days: [sat], start: '22:00', end: '04:00', timeZone: Europe/Berlin}\n  - {start: 1pm, length: 90m}\n");
    const cfg = await load({ configPath: main });
    expect(cfg.windows).toEqual([
      { days: [6], startSec: 22 * 3600, endSec: 4 * 3600, timeZone: "Europe/Berlin" },
      { days: [0, 1, 2, 3, 4, 5, 6], startSec: 13 * 3600, lengthSec: 5400, timeZone: "UTC" },
    ]);
    await expect(load({ configPath: main, flags: { startTime: "8" } })).rejects.toThrow(/windows cannot be combined with startTime/);
  });
});

describe("hostile files", () => {
  const write = (body: string) => {
    const dir = tempDir();
    const main = join(dir, "config.yaml");
    writeFileSync(main, body);
    return { dir, main };
  };
  const fails = async (opts: Partial<LoadOptions> & { configPath?: string }, env: Record<string, string> = {}) =>
    (await loadConfig({ fs: nodeFs, env, ...opts }).catch((e: unknown) => e)) as ConfigError;

  it("an empty --config, SLUICE_CONFIG or --config-dir is an error, not 'no file'", async () => {
    for (const [opts, env, where] of [
      [{ configPath: "" }, {}, "--config"],
      [{}, { SLUICE_CONFIG: "" }, "SLUICE_CONFIG"],
      [{}, { SLUICE_CONFIG: "  " }, "SLUICE_CONFIG"],
      [{ configPath: "/nonexistent.yaml", dropinDir: "" }, {}, "--config-dir"],
    ] as const) {
      const err = await fails(opts, env);
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.exitCode).toBe(ExitCode.config);
      expect(err.message).toContain(`${where}: the`);
      expect(err.message).toContain("path is empty");
    }
  });

  it("a duplicate key names its line", async () => {
    const { main } = write("concurrency: 1\nperiod: 1m\nconcurrency: 2\n");
    const err = await fails({ configPath: main });
    expect(err.message).toMatch(new RegExp(`^${main}:3: not valid YAML: .*[Uu]nique`));
  });

  it("YAML merge keys are honoured, explicit keys winning", async () => {
    const { main } = write("base: &b\n  period: 5m\n  concurrency: 3\nconfiguration:\n  <<: *b\n  concurrency: 2\n");
    const cfg = await loadConfig({ fs: nodeFs, env: {}, configPath: main, dropinDir: "/nonexistent" });
    expect(cfg.settings.period).toBe(300_000);
    expect(cfg.settings.concurrency).toBe(2);
    expect(cfg.origins.period.where).toBe(`${main}:2`);
  });

  it("an alias bomb is refused as a configuration error, quickly", async () => {
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(", ")}]`);
    lines.push("period: *i");
    const { main } = write(lines.join("\n"));
    const err = await fails({ configPath: main });
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/alias/);
  });

  it("a huge file is refused before parsing", async () => {
    const { main } = write(`# ${"x".repeat(2 << 20)}\nperiod: 1m\n`);
    const err = await fails({ configPath: main });
    expect(err.message).toMatch(/at most 1048576/);
  });

  it("a drop-in directory that is a file, or a stateDir that is a file, is a clear 78", async () => {
    const { dir, main } = write("period: 1m\n");
    writeFileSync(join(dir, "notadir"), "x");
    let err = await fails({ configPath: main, dropinDir: join(dir, "notadir") });
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe(`${join(dir, "notadir")}: the drop-in directory cannot be read: it is not a directory`);
    err = await fails({ configPath: main, dropinDir: "/nonexistent", flags: { stateDir: join(dir, "notadir") } });
    expect(err.message).toMatch(/stateDir: .* is not a usable directory: it is not a directory/);
  });

  it("a configuration path that is a FIFO, a device or a directory is a clear 78, not a hang", async () => {
    const { dir } = write("");
    execFileSync("mkfifo", [join(dir, "fifo")]);
    for (const [path, said] of [
      [join(dir, "fifo"), "is a FIFO, not a regular file"],
      ["/dev/zero", "is a device that does not end"],
      [dir, "it is a directory"],
    ] as const) {
      const err = await fails({ configPath: path, dropinDir: "/nonexistent" });
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toContain(said);
    }
    // --config /dev/null stays the way to say "no file".
    expect((await loadConfig({ fs: nodeFs, env: {}, configPath: "/dev/null", dropinDir: "/nonexistent" })).files).toEqual(["/dev/null"]);
  });

  it("a YAML error does not print the file's text (a token in it)", async () => {
    const { main } = write("token: sk-abcdef0123456789\nperiod: [\n");
    const err = await fails({ configPath: main });
    expect(err.message).not.toContain("sk-abcdef");
  });

  it("kured's \"\" and [] mean unset; rebootSentinel \"\" keeps the sentinel, empty templates keep the default", async () => {
    const { main } = write(
      'configuration:\n  rebootSentinel: ""\n  rebootDays: []\n  messageTemplateDrain: ""\n  notifyUrl: ""\n  blockingPodSelector: []\n  metricsHost: ""\n  startTime: "0:00"\n  endTime: "23:59:59"\n  rebootSentinelCommand: ""\n  period: ~\n',
    );
    const cfg = await loadConfig({ fs: nodeFs, env: {}, configPath: main, dropinDir: "/nonexistent" });
    const d = defaults();
    expect(cfg.settings.rebootSentinel).toBe(d.rebootSentinel);
    expect(cfg.settings.rebootDays).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(cfg.settings.messageTemplateDrain).toBe(d.messageTemplateDrain);
    expect(cfg.settings.metricsHost).toBe("127.0.0.1");
    expect(cfg.settings.period).toBe(d.period);
    expect(cfg.origins.rebootSentinel.kind).toBe("default");
    // kured's default window has no gap before midnight.
    expect(windowContains(cfg.windows, Date.parse("2026-11-23T23:59:59.5Z"))).toBe(true);
  });

  it("an empty flag value is refused, an empty SLUICE_ variable is unset", async () => {
    const err = await fails({ configPath: "/nonexistent-but-default", dropinDir: "/nonexistent", flags: { nodeName: "" } }).catch((e: unknown) => e);
    expect(String((err as Error).message)).toMatch(/--node-name: nodeName: an empty value is not valid|does not exist/);
    const e2 = await fails({ dropinDir: "/nonexistent", flags: { period: "" } });
    expect(e2.message).toBe("--period: period: an empty value is not valid: leave the flag out to keep the default");
    const cfg = await loadConfig({ fs: nodeFs, env: { SLUICE_PERIOD: "" }, dropinDir: "/nonexistent" });
    expect(cfg.settings.period).toBe(defaults().period);
  });

  it("startTime equal to endTime is refused: kured would open for one second", async () => {
    const err = await fails({ dropinDir: "/nonexistent", flags: { startTime: "8", endTime: "08:00" } });
    expect(err.message).toMatch(/one second/);
  });

  it("slackHookUrl becomes a slack:// notifyUrl, and a quoted notifyUrl is unquoted, as in kured", async () => {
    let cfg = await loadConfig({ fs: nodeFs, env: {}, dropinDir: "/nonexistent", flags: { slackHookUrl: "'https://hooks.slack.com/services/T0/B1/secret'" } });
    expect(cfg.settings.notifyUrl).toBe("slack://T0/B1/secret");
    expect(cfg.warnings.join()).toMatch(/deprecated/);
    cfg = await loadConfig({ fs: nodeFs, env: {}, dropinDir: "/nonexistent", flags: { notifyUrl: '"https://example.com/hook"' } });
    expect(cfg.settings.notifyUrl).toBe("https://example.com/hook");
  });

  it("an RE2 alert filter keeps its Go meaning", async () => {
    const cfg = await loadConfig({ fs: nodeFs, env: {}, dropinDir: "/nonexistent", flags: { alertFilterRegexp: "(?i)^watchdog\\z" } });
    const re = new RegExp(cfg.settings.alertFilterRegexp);
    expect(re.test("Watchdog")).toBe(true);
    expect(re.test("watchdog\n")).toBe(false);
  });
});

describe("unknown keys are named, never silently ignored", () => {
  it("warns with a did-you-mean, for files and environment", async () => {
    const dir = tempDir();
    const main = join(dir, "c.yaml");
    writeFileSync(main, "lockTTl: 5m\nconcurency: 2\nfoo: bar\ndsName: kured\n");
    const cfg = await load({ configPath: main, env: { SLUICE_LOCKTTL: "1m", SLUICE_CONFIG_X: "1" } });
    expect(cfg.warnings).toEqual([
      `${main}:1: unknown key lockTTl is ignored (did you mean lockTtl?)`,
      `${main}:2: unknown key concurency is ignored (did you mean concurrency?)`,
      `${main}:3: unknown key foo is ignored`,
      `${main}:4: kured key dsName has no effect: sluice has no DaemonSet: the lock is a set of Leases`,
      "environment: unknown variable SLUICE_LOCKTTL is ignored (did you mean SLUICE_LOCK_TTL?)",
      "environment: unknown variable SLUICE_CONFIG_X is ignored (did you mean SLUICE_CONFIG?)",
    ]);
    expect(cfg.settings.lockTtl).toBe(0);
  });

  it("names Helm chart keys beside the configuration block once", async () => {
    const dir = tempDir();
    const main = join(dir, "values.yaml");
    writeFileSync(main, "image:\n  tag: 1.2\nconfiguration:\n  period: 1h\n");
    const cfg = await load({ configPath: main });
    expect(cfg.settings.period).toBe(3_600_000);
    expect(cfg.warnings).toEqual([`${main}: ignored keys outside configuration: (Helm chart values): image`]);
  });
});

/** [YAML body, key, what the message must say is allowed] */
const BAD: Array<[string, string, RegExp]> = [
  ["lockTtl: 30x", "lockTtl", /Go syntax/],
  ["lockTtl: -5m", "lockTtl", /not negative/],
  ["lockTtl: [1]", "lockTtl", /Go syntax/],
  ["lockTtl: 2s", "lockTtl", /at least 3s/],
  ["group: eu_West 1a", "group", /a group name: lower-case letters/],
  [`group: ${"g".repeat(64)}`, "group", /at most 63 characters/],
  ["namespace: Sluice", "namespace", /a namespace name: lower-case/],
  ["period: 0s", "period", /at least 1s/],
  ["period: fast", "period", /Go syntax/],
  ["lockReleaseDelay: 5 minutes", "lockReleaseDelay", /Go syntax/],
  ["drainTimeout: 1d", "drainTimeout", /Go syntax/],
  ["concurrency: 0", "concurrency", /1 to 10000/],
  ["concurrency: 2.5", "concurrency", /whole number/],
  ["concurrency: many", "concurrency", /whole number/],
  ["drainGracePeriod: -2", "drainGracePeriod", /-1 to 86400/],
  ["skipWaitForDeleteTimeout: -1", "skipWaitForDeleteTimeout", /0 to 86400/],
  ["metricsPort: 70000", "metricsPort", /0 to 65535/],
  ["startTime: 25", "startTime", /time of day/],
  ["endTime: 13pm", "endTime", /time of day/],
  ["startTime: noon", "startTime", /time of day/],
  ["rebootDays: [mon, funday]", "rebootDays", /funday/],
  ["rebootDays: [8]", "rebootDays", /0-6/],
  ["rebootDays: ','", "rebootDays", /at least one day/],
  ["timeZone: Mars/Olympus", "timeZone", /IANA/],
  ["forceReboot: maybe", "forceReboot", /true or false/],
  ["annotateNodes: 2", "annotateNodes", /true or false/],
  ["logFormat: xml", "logFormat", /text, json/],
  ["logLevel: loud", "logLevel", /error, warning/],
  ["updateEngine: yes please", "updateEngine", /auto, on, off/],
  ["preRebootNodeLabels: [kured]", "preRebootNodeLabels", /key=value/],
  ["postRebootNodeLabels: ['bad key=x']", "postRebootNodeLabels", /key=value/],
  ["blockingPodSelector: ['app in (a']", "blockingPodSelector", /label selector/],
  ["drainPodSelector: 'a b'", "drainPodSelector", /label selector/],
  ["prometheusUrl: ftp://prom", "prometheusUrl", /http:\/\/ or https:\/\//],
  ["prometheusUrl: not a url", "prometheusUrl", /URL/],
  ["notifyUrl: ://nothing", "notifyUrl", /URL/],
  ["alertFilterRegexp: '(unclosed'", "alertFilterRegexp", /regular expression/],
  ["rebootSentinel: relative/path", "rebootSentinel", /absolute path/],
  ["kubeconfig: kubeconfig.yaml", "kubeconfig", /absolute path/],
  ["windows: {start: 8}", "windows", /list of windows/],
  ["windows: [{start: 8}]", "windows", /exactly one of end and length/],
  ["windows: [{start: 8, end: 9, length: 1h}]", "windows", /exactly one of end and length/],
  ["windows: [{start: 8, end: 9, zone: UTC}]", "windows", /unknown field zone/],
  ["windows: [{start: 8, length: 30s}]", "windows", /length must be/],
  ["windows: [{start: 8, end: 9, days: [someday]}]", "windows", /days must be/],
  ["windows: [{start: 8, end: '8:00'}]", "windows", /same time; for a whole day write length: 24h/],
  ["windows: [{start: 8, end: '24:00'}]", "windows", /for midnight at the end use 0:00/],
  // Durations: honoured exactly up to Go's limit, refused past it or past where the value goes.
  ["drainTimeout: 3000000h", "drainTimeout", /duration in Go syntax/],
  ["lockTtl: 600000h", "lockTtl", /at most 2147483647s \(leaseDurationSeconds is int32\)/],
  ["rebootSentinelCommandTimeout: 25h", "rebootSentinelCommandTimeout", /at most 24h/],
  ["concurrency: .inf", "concurrency", /whole number/],
  ["nodeName: Node_1", "nodeName", /Kubernetes node name/],
  ["nodeName: 'a\x1b[31mb'", "nodeName", /Kubernetes node name/],
  ["preferNoScheduleTaint: 'bad key'", "preferNoScheduleTaint", /taint key/],
  ["metricsHost: 'http://0.0.0.0'", "metricsHost", /IP address/],
  ["rebootCommand: ''", "rebootCommand", /cannot be empty/],
  ["rebootCommand: []", "rebootCommand", /cannot be empty/],
  ["rebootCommand: ['', reboot]", "rebootCommand", /first one not empty/],
  ["alertFilterRegexp: '(?=lookahead)'", "alertFilterRegexp", /RE2 syntax.*lookahead/],
  ["alertFilterRegexp: '(a)\\1'", "alertFilterRegexp", /backreference/],
  ["slackHookUrl: 'https://hooks.slack.com/services/only-one'", "slackHookUrl", /hooks.slack.com\/services/],
];

describe("bad values stop the program with exit 78 and say file, key, value and what is allowed", () => {
  it(`covers at least 25 cases (${BAD.length})`, () => expect(BAD.length).toBeGreaterThanOrEqual(25));

  it.each(BAD)("%s", async (body, key, allowed) => {
    const dir = tempDir();
    const main = join(dir, "config.yaml");
    writeFileSync(main, `# a comment\n${body}\n`);
    const err = (await load({ configPath: main }).catch((e: unknown) => e)) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.exitCode).toBe(ExitCode.config);
    expect(err.code).toBe("config-invalid");
    expect(err.details.key).toBe(key);
    expect(err.message).toContain(`${main}:2: ${key}: `);
    expect(err.message).toMatch(allowed);
    expect(err.message).toMatch(/is not valid: expected /);
  });

  it.each([
    ["SLUICE_LOCK_TTL", "soon", "environment SLUICE_LOCK_TTL"],
    ["SLUICE_CONCURRENCY", "-1", "SLUICE_CONCURRENCY: concurrency"],
  ])("environment %s=%s", async (name, value, where) => {
    const err = (await loadConfig({ fs: nodeFs, env: { [name]: value }, dropinDir: "/nonexistent", configPath: undefined }).catch((e: unknown) => e)) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain(where.replace("environment ", ""));
  });

  it("a flag names itself", async () => {
    const err = (await loadConfig({ fs: nodeFs, env: {}, dropinDir: "/nonexistent", flags: { drainTimeout: "1 hour" } }).catch((e: unknown) => e)) as ConfigError;
    expect(err.message).toBe('--drain-timeout: drainTimeout: "1 hour" is not valid: expected a duration in Go syntax such as 90s, 5m or 1h30m, not negative');
  });

  it.each([
    ["lockTtl: [unclosed", /not valid YAML/],
    ["- just\n- a list", /must be a YAML mapping/],
    ["configuration: 5", /configuration must be a mapping/],
    ["a: 1\na: 2", /not valid YAML/],
  ])("malformed file %#", async (body, msg) => {
    const dir = tempDir();
    const main = join(dir, "config.yaml");
    writeFileSync(main, body);
    const err = (await load({ configPath: main }).catch((e: unknown) => e)) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(msg);
    expect(err.message.startsWith(main)).toBe(true);
  });

  it("never prints the credentials of a bad notification URL", async () => {
    const dir = tempDir();
    const main = join(dir, "config.yaml");
    writeFileSync(main, 'notifyUrl: "https://user:hunter2@[bad"\n');
    const err = (await load({ configPath: main }).catch((e: unknown) => e)) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).not.toContain("hunter2");
  });
});
