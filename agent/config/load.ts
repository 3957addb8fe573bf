/**
 * Loading, in order, later winning key by key: defaults, /etc/sluice/config.yaml,
 * /etc/sluice/config.d/*.yaml (lexical order), SLUICE_* environment variables, flags. Every
 * value remembers where it came from, for `sluice check-config` and for error messages.
 */
import { dirname, join } from "node:path";
import { LineCounter, isMap, isNode, isPair, isScalar, parseDocument, type Pair } from "yaml";
import { redactText } from "../log";
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
  const text = typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return redactText(text);
}

interface RawEntry {
  key: string;
  value: unknown;
  where: string;
}

/** Key/value entries of one YAML file, with the line of each key. */
function readYaml(text: string, path: string, warnings: string[]): RawEntry[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line;
    throw new ConfigError(`${path}${line ? `:${line}` : ""}: not valid YAML: ${e.message.split("\n")[0]}`, { where: path });
  }
  if (doc.contents === null) return [];
  if (!isMap(doc.contents)) throw new ConfigError(`${path}: must be a YAML mapping of keys to values, not ${typeof doc.toJS()}`, { where: path });
  const lineOf = (p: Pair) => {
    const range = (p.key as { range?: [number, number, number] } | null)?.range;
    return range ? `${path}:${lines.linePos(range[0]).line}` : path;
  };
  const entries = (items: Pair[]): RawEntry[] =>
    items.map((p) => ({
      key: isScalar(p.key) ? String(p.key.value) : String(p.key),
      value: isNode(p.value) ? p.value.toJS(doc) : p.value,
      where: lineOf(p),
    }));

  const top = doc.contents.items.filter(isPair);
  const block = top.find((p) => isScalar(p.key) && p.key.value === "configuration");
  const out = entries(top.filter((p) => p !== block));
  if (!block) return out;
  // A kured Helm values file: the keys live under `configuration:`; other top-level keys belong
  // to the chart (image, resources, …) and are named once, not silently skipped.
  if (block.value !== null && !isMap(block.value)) throw new ConfigError(`${lineOf(block)}: configuration must be a mapping of keys to values`, { where: lineOf(block) });
  const chartKeys = out.filter((e) => !(e.key in SCHEMA) && !(e.key in KURED_ONLY_KEYS));
  if (chartKeys.length > 0) warnings.push(`${path}: ignored keys outside configuration: (Helm chart values): ${chartKeys.map((e) => e.key).join(", ")}`);
  const inner = block.value && isMap(block.value) ? entries(block.value.items.filter(isPair)) : [];
  return [...out.filter((e) => !chartKeys.includes(e)), ...inner];
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

  const explicit = opts.configPath ?? env.SLUICE_CONFIG;
  const mainPath = explicit ?? DEFAULT_CONFIG_PATH;
  const dropinDir = opts.dropinDir ?? join(dirname(mainPath), "config.d");

  const set = (key: ConfigKey, raw: unknown, origin: Origin) => {
    settings[key] = parseValue(key, raw, origin.where ?? key);
    origins[key] = origin;
  };

  const applyFile = async (path: string) => {
    let text: string;
    try {
      text = await fs.readFile(path);
    } catch (e) {
      throw new ConfigError(`${path}: cannot be read: ${(e as Error).message}`, { where: path });
    }
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

  const dropins = (await fs.list(dropinDir)).filter((f) => f.endsWith(".yaml") || f.endsWith(".yml")).sort();
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
  return [{ days: s.rebootDays, startSec: s.startTime, endSec: s.endTime, timeZone: s.timeZone }];
}

export function originText(o: Origin): string {
  return o.kind === "default" ? "default" : `${o.kind} ${o.where ?? ""}`.trim();
}

/** A value as it may be shown to a person or a log: secret keys have their credentials masked. */
export function publicValue(key: ConfigKey, value: unknown): unknown {
  if ((SCHEMA[key] as { secret?: boolean }).secret && value) return redactText(String(value));
  return value;
}
