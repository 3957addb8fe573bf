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
    expect(cfg.windows).toEqual([{ days: [1, 2, 3, 4], startSec: 8 * 3600, endSec: 15 * 3600, timeZone: "UTC" }]);
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
    expect(at("2026-11-26T15:00:00Z")).toBe(false); // end is exclusive
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
  ["rebootDays: []", "rebootDays", /at least one day/],
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
