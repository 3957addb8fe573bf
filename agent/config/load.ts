/**
 * Loading, in order, later winning key by key: defaults, /etc/sluice/config.yaml,
 * /etc/sluice/config.d/*.yaml (lexical order), SLUICE_* environment variables, flags. Every
 * value remembers where it came from, for `sluice check-config` and for error messages.
 */
import { dirname, join } from "node:path";
import { LineCounter, isAlias, isMap, isNode, isPair, isScalar, isSeq, parseDocument, type Pair, type YAMLMap } from "yaml";
import { redactArgv, redactText, redactValue } from "../log";
import { ExitCode, ExitError, type Fs } from "../ports";
import { CONFIG_KEYS, KURED_ONLY_KEYS, SCHEMA, defaults, envName, flagName, type ConfigKey, type Settings, type WindowConfig } from "./schema";
import { closest } from "./suggest";
import { Invalid } from "./values";

export const DEFAULT_CONFIG_PATH = "/etc/sluice/config.yaml";

export interface Origin {
  kind: "default" | "file" | "env" | "flag";
  /** "path:line", "SLUICE_LOCK_TTL" or "--lock-ttl". */
  where?: string;
}

export interface LoadOptions {
  fs: Fs;
  env: Record<string, string | undefined>;
  /** Raw flag values by key, as strings (commander gives strings). */
  flags?: Partial<Record<ConfigKey, string>>;
  /** Main file; when given explicitly it must exist. */
  configPath?: string;
  /** Drop-in directory; default: config.d beside the main file. */
  dropinDir?: string;
}

export interface LoadedConfig {
  settings: Settings;
  origins: Record<ConfigKey, Origin>;
  /** The windows in force: `windows`, or the one window kured's keys describe. */
  windows: WindowConfig[];
  warnings: string[];
  /** Files read, in order. */
  files: string[];
}

export class ConfigError extends ExitError {
  constructor(
    message: string,
    readonly details: { where: string; key?: string; value?: string; allowed?: string },
  ) {
    super(ExitCode.config, "config-invalid", message);
  }
}

function show(value: unknown): string {
  // JSON has no .inf or .nan: show them as YAML wrote them, not as null.
  if (typeof value === "number" && !Number.isFinite(value)) return Number.isNaN(value) ? ".nan" : value > 0 ? ".inf" : "-.inf";
  const text = JSON.stringify(value) ?? String(value);
  return redactText(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}

/** Larger configuration files are refused before parsing: a config file is a few kilobytes. */
export const MAX_CONFIG_BYTES = 1 << 20;
/** YAML aliases expanded per file; a billion-laughs file needs thousands. */
const MAX_ALIASES = 1000;

/**
 * kured's Helm chart ships "" and [] for every unset value: in a file or the environment they
 * mean "not set", so the key keeps its default (or an earlier file's value), never "disable".
 */
export function isUnset(raw: unknown): boolean {
  return raw === null || raw === undefined || (typeof raw === "string" && raw.trim() === "") || (Array.isArray(raw) && raw.length === 0);
}

/** Keys for which an empty value cannot mean "keep the default": kured refuses them at start. */
const EMPTY_REFUSED = new Set<ConfigKey>(["rebootCommand"]);

interface RawEntry {
  key: string;
  value: unknown;
  where: string;
}

/** Key/value entries of one YAML file, with the line of each key. */
function readYaml(text: string, path: string, warnings: string[]): RawEntry[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, merge: true });
  const lineAt = (offset: number | undefined) => (offset === undefined ? path : `${path}:${lines.linePos(offset).line}`);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    // The first line of the message only: the parser's code frame would print the file's text
    // (a token in it, say) into logs.
    throw new ConfigError(`${lineAt(e.pos?.[0])}: not valid YAML: ${redactText(e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, ""))}`, { where: path });
  }
  if (doc.contents === null) return [];
  const toJS = (node: unknown, where: string): unknown => {
    if (!isNode(node)) return node;
    try {
      return node.toJS(doc, { maxAliasCount: MAX_ALIASES });
    } catch (e) {
      throw new ConfigError(`${where}: not usable: ${(e as Error).message} (at most ${MAX_ALIASES} alias expansions)`, { where });
    }
  };
  if (!isMap(doc.contents)) throw new ConfigError(`${path}: must be a YAML mapping of keys to values, not ${Array.isArray(toJS(doc.contents, path)) ? "a list" : "a single value"}`, { where: path });
  const lineOf = (p: Pair) => lineAt((p.key as { range?: [number, number, number] } | null)?.range?.[0]);
  // With `merge: true` the parser marks a plain << key with a symbol value; a quoted "<<" is a key.
  const isMerge = (p: Pair) => isScalar(p.key) && typeof p.key.value === "symbol";
  /** The pairs of a mapping with YAML merge keys (<<) expanded: explicit keys win, then earlier merges. */
  const pairsOf = (map: YAMLMap, depth = 0): Pair[] => {
    const own = map.items.filter((p) => isPair(p) && !isMerge(p));
    const seen = new Set(own.map((p) => keyText(p)));
    const out = [...own];
    for (const m of map.items.filter(isMerge)) {
      const sources = isSeq(m.value) ? m.value.items : [m.value];
      for (const src of sources) {
        const target = isAlias(src) ? src.resolve(doc) : src;
        if (!isMap(target) || depth > 20) throw new ConfigError(`${lineOf(m)}: a merge key (<<) must refer to a mapping`, { where: lineOf(m) });
        for (const p of pairsOf(target, depth + 1)) {
          if (seen.has(keyText(p))) continue;
          seen.add(keyText(p));
          out.push(p);
        }
      }
    }
    return out;
  };
  const entries = (items: Pair[]): RawEntry[] => items.map((p) => ({ key: keyText(p), value: toJS(p.value, lineOf(p)), where: lineOf(p) }));

  const top = pairsOf(doc.contents);
  const block = top.find((p) => keyText(p) === "configuration");
  const out = entries(top.filter((p) => p !== block));
  if (!block) return out;
  // A kured Helm values file: the keys live under `configuration:`; other top-level keys belong
  // to the chart (image, resources, …) and are named once, not silently skipped.
  const inner = isAlias(block.value) ? block.value.resolve(doc) : block.value;
  if (inner !== null && inner !== undefined && !isMap(inner)) throw new ConfigError(`${lineOf(block)}: configuration must be a mapping of keys to values`, { where: lineOf(block) });
  const chartKeys = out.filter((e) => !(e.key in SCHEMA) && !(e.key in KURED_ONLY_KEYS));
  if (chartKeys.length > 0) warnings.push(`${path}: ignored keys outside configuration: (Helm chart values): ${chartKeys.map((e) => e.key).join(", ")}`);
  return [...out.filter((e) => !chartKeys.includes(e)), ...(inner && isMap(inner) ? entries(pairsOf(inner)) : [])];
}

function keyText(p: Pair): string {
  return isScalar(p.key) ? String(p.key.value) : String(p.key);
}

function parseValue(key: ConfigKey, raw: unknown, where: string): unknown {
  try {
    return SCHEMA[key].parse(raw);
  } catch (e) {
    if (!(e instanceof Invalid)) throw e;
    const value = show(raw);
    throw new ConfigError(`${where}: ${key}: ${value} is not valid: expected ${e.allowed}`, { where, key, value, allowed: e.allowed });
  }
}

export async function loadConfig(opts: LoadOptions): Promise<LoadedConfig> {
  const { fs, env } = opts;
  const settings = defaults() as Record<ConfigKey, unknown>;
  const origins = Object.fromEntries(CONFIG_KEYS.map((k) => [k, { kind: "default" } as Origin])) as Record<ConfigKey, Origin>;
  const warnings: string[] = [];
  const files: string[] = [];

  // An empty path is a mistake (an unset shell variable), never "no file": it would silently skip
  // /etc/sluice/config.yaml and read ./config.d from the working directory.
  const emptyPath = (where: string, what: string) =>
    new ConfigError(`${where}: the ${what} path is empty; give a path or leave it out`, { where, value: '""', allowed: "an absolute or relative path" });
  if (opts.configPath !== undefined && opts.configPath.trim() === "") throw emptyPath("--config", "configuration file");
  if (opts.configPath === undefined && env.SLUICE_CONFIG !== undefined && env.SLUICE_CONFIG.trim() === "") throw emptyPath("SLUICE_CONFIG", "configuration file");
  if (opts.dropinDir !== undefined && opts.dropinDir.trim() === "") throw emptyPath("--config-dir", "drop-in directory");
  const explicit = opts.configPath ?? env.SLUICE_CONFIG;
  const mainPath = explicit ?? DEFAULT_CONFIG_PATH;
  const dropinDir = opts.dropinDir ?? join(dirname(mainPath), "config.d");

  const set = (key: ConfigKey, raw: unknown, origin: Origin) => {
    const where = origin.where ?? key;
    if (isUnset(raw)) {
      if (EMPTY_REFUSED.has(key)) parseValue(key, raw, where);
      // On the command line an empty value is a slip, not a kured chart default.
      if (origin.kind === "flag") throw new ConfigError(`${where}: ${key}: an empty value is not valid: leave the flag out to keep the default`, { where, key, value: '""', allowed: "a value" });
      return;
    }
    settings[key] = parseValue(key, raw, where);
    origins[key] = origin;
  };

  const applyFile = async (path: string) => {
    let text: string;
    try {
      text = await fs.readFile(path);
    } catch (e) {
      throw new ConfigError(`${path}: cannot be read: ${errnoText(e)}`, { where: path });
    }
    if (text.length > MAX_CONFIG_BYTES) throw new ConfigError(`${path}: is ${text.length} bytes; a configuration file may have at most ${MAX_CONFIG_BYTES}`, { where: path });
    files.push(path);
    for (const entry of readYaml(text, path, warnings)) {
      if (entry.key in SCHEMA) set(entry.key as ConfigKey, entry.value, { kind: "file", where: entry.where });
      else if (entry.key in KURED_ONLY_KEYS) warnings.push(`${entry.where}: kured key ${entry.key} has no effect: ${KURED_ONLY_KEYS[entry.key]}`);
      else {
        const hint = closest(entry.key, CONFIG_KEYS);
        warnings.push(`${entry.where}: unknown key ${entry.key} is ignored${hint ? ` (did you mean ${hint}?)` : ""}`);
      }
    }
  };

  if (await fs.exists(mainPath)) await applyFile(mainPath);
  else if (explicit) throw new ConfigError(`${mainPath}: configuration file does not exist`, { where: mainPath });

  let listed: string[];
  try {
    listed = await fs.list(dropinDir);
  } catch (e) {
    throw new ConfigError(`${dropinDir}: the drop-in directory cannot be read: ${errnoText(e)}`, { where: dropinDir });
  }
  const dropins = listed.filter((f) => f.endsWith(".yaml") || f.endsWith(".yml")).sort();
  for (const name of dropins) await applyFile(join(dropinDir, name));

  const envKeys = new Map(CONFIG_KEYS.map((k) => [envName(k), k]));
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith("SLUICE_") || raw === undefined || name === "SLUICE_CONFIG") continue;
    const k = envKeys.get(name);
    if (k) set(k, raw, { kind: "env", where: name });
    else {
      const hint = closest(name, [...envKeys.keys(), "SLUICE_CONFIG"]);
      warnings.push(`environment: unknown variable ${name} is ignored${hint ? ` (did you mean ${hint}?)` : ""}`);
    }
  }

  for (const k of CONFIG_KEYS) {
    const raw = opts.flags?.[k];
    if (raw !== undefined) set(k, raw, { kind: "flag", where: `--${flagName(k)}` });
  }

  const s = settings as Settings;
  // kured turns its deprecated slackHookUrl into a shoutrrr slack:// URL when notifyUrl is unset.
  if (s.slackHookUrl) {
    if (s.notifyUrl) warnings.push(`${origins.slackHookUrl.where}: slackHookUrl is ignored: notifyUrl is set (as kured does)`);
    else {
      const token = slackToken(s.slackHookUrl);
      const where = origins.slackHookUrl.where ?? "slackHookUrl";
      if (!token) throw new ConfigError(`${where}: slackHookUrl: ${show(s.slackHookUrl)} is not valid: expected https://hooks.slack.com/services/T…/B…/…`, { where, key: "slackHookUrl", allowed: "a Slack incoming webhook URL" });
      s.notifyUrl = `slack://${token}`;
      origins.notifyUrl = origins.slackHookUrl;
      warnings.push(`${where}: slackHookUrl is deprecated (in kured too); using notifyUrl slack://… instead`);
    }
  }
  if (origins.stateDir.kind !== "default" || (await fs.exists(s.stateDir))) {
    try {
      await fs.list(s.stateDir);
    } catch (e) {
      const where = origins.stateDir.where ?? "stateDir";
      throw new ConfigError(`${where}: stateDir: ${s.stateDir} is not a usable directory: ${errnoText(e)}`, { where, key: "stateDir", value: s.stateDir, allowed: "a directory (or a path where one may be created)" });
    }
  }
  // Left at its default, renewDeadline follows a short lockTtl (client-go's 10 s of 15 s); set by
  // hand, it must leave the holder time to stop before its peers may reclaim the slot.
  if (s.lockTtl > 0 && origins.renewDeadline.kind === "default") s.renewDeadline = Math.min(s.renewDeadline, Math.floor((s.lockTtl * 2) / 3));
  if (s.lockTtl > 0 && s.renewDeadline >= s.lockTtl) {
    const where = origins.renewDeadline.where ?? "renewDeadline";
    throw new ConfigError(`${where}: renewDeadline (${s.renewDeadline / 1000}s) must be shorter than lockTtl (${s.lockTtl / 1000}s): a holder must stop before its peers may reclaim its slot`, {
      where, key: "renewDeadline", value: String(s.renewDeadline), allowed: "a duration shorter than lockTtl",
    });
  }
  const windows = effectiveWindows(s, origins);
  return { settings: s, origins, windows, warnings, files };
}

/** kured's startTime/endTime/rebootDays/timeZone describe one window; `windows` replaces them. */
function effectiveWindows(s: Settings, origins: Record<ConfigKey, Origin>): WindowConfig[] {
  const kuredKeys = (["startTime", "endTime", "rebootDays", "timeZone"] as const).filter((k) => origins[k].kind !== "default");
  if (s.windows.length > 0) {
    if (kuredKeys.length > 0) {
      const where = origins.windows.where ?? "windows";
      throw new ConfigError(`${where}: windows cannot be combined with ${kuredKeys.join(", ")} (set at ${kuredKeys.map((k) => origins[k].where).join(", ")}): use one or the other`, {
        where,
        key: "windows",
        allowed: "either windows or kured's startTime/endTime/rebootDays/timeZone",
      });
    }
    return s.windows;
  }
  if (s.rebootDays.length === 0) {
    const where = origins.rebootDays.where ?? "rebootDays";
    throw new ConfigError(`${where}: rebootDays: [] is not valid: expected at least one day (an empty list would never reboot)`, { where, key: "rebootDays", value: "[]", allowed: "at least one day" });
  }
  if (s.startTime === s.endTime) {
    const where = origins.endTime.where ?? origins.startTime.where ?? "endTime";
    throw new ConfigError(`${where}: startTime and endTime are both ${s.endTime}s after midnight: kured opens such a window for one second, which is surely not meant; for the whole day use startTime 0:00 and endTime 23:59:59`, {
      where, key: "endTime", allowed: "an endTime other than startTime",
    });
  }
  return [{ days: s.rebootDays, startSec: s.startTime, endSec: s.endTime, timeZone: s.timeZone, kured: true }];
}

export function originText(o: Origin): string {
  return o.kind === "default" ? "default" : `${o.kind} ${o.where ?? ""}`.trim();
}

/** A value as it may be shown to a person or a log: the one redaction rule (agent/log/redact). */
export function publicValue(key: ConfigKey, value: unknown): unknown {
  if (Array.isArray(value) && (key === "rebootCommand" || key === "rebootSentinelCommand")) return redactArgv(value as string[]);
  return redactValue(value, key);
}

/** The three tokens of a Slack incoming webhook (…/services/T…/B…/secret), or null. */
function slackToken(hook: string): string | null {
  const m = /^https:\/\/hooks\.slack\.com\/services\/([^/?#]+)\/([^/?#]+)\/([^/?#]+)\/?$/.exec(hook);
  return m ? `${m[1]}/${m[2]}/${m[3]}` : null;
}

function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const known: Record<string, string> = { ENOENT: "it does not exist", ENOTDIR: "it is not a directory", EISDIR: "it is a directory", EACCES: "permission denied", ELOOP: "too many symbolic links" };
  return (code && known[code]) ?? redactText((e as Error).message);
}
