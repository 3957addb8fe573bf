/**
 * Parsers for configuration values. Each takes what YAML, an environment variable or a flag
 * gave (strings from env and flags, anything from YAML) and returns the typed value, or throws
 * Invalid with a sentence saying what is allowed: the loader adds file, key and value.
 */
import { IANAZone } from "luxon";
import { isUtc } from "../window/calendar";
import { isIP } from "node:net";
import { GO_MAX_DURATION_MS, formatGoDuration, parseGoDuration } from "./duration";
import { re2ToJs } from "./re2";
import { splitShellWords } from "./shell-words";

export class Invalid extends Error {
  constructor(readonly allowed: string) {
    super(allowed);
  }
}

export type Parser<T> = (raw: unknown) => T;

function scalarText(raw: unknown, allowed: string): string {
  if (typeof raw === "string") return raw.trim();
  if (typeof raw === "number" || typeof raw === "boolean") return String(raw);
  throw new Invalid(allowed);
}

export const str =
  (allowed = "a string"): Parser<string> =>
  (raw) => {
    if (raw === null || raw === undefined) return "";
    return scalarText(raw, allowed);
  };

export const bool: Parser<boolean> = (raw) => {
  const allowed = "true or false";
  if (typeof raw === "boolean") return raw;
  const t = scalarText(raw, allowed).toLowerCase();
  if (["true", "1", "yes", "on"].includes(t)) return true;
  if (["false", "0", "no", "off"].includes(t)) return false;
  throw new Invalid(allowed);
};

export const int =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    const allowed = `a whole number from ${min} to ${max}`;
    const t = scalarText(raw, allowed);
    if (!/^[+-]?\d+$/.test(t)) throw new Invalid(allowed);
    const n = Number(t);
    if (n < min || n > max) throw new Invalid(allowed);
    return n;
  };

/**
 * A Go duration in milliseconds, from `minMs` to `maxMs`. The default ceiling is Go's own (int64
 * nanoseconds, about 2562047h): every duration up to it is honoured exactly (Clock.sleep chunks
 * what a timer cannot hold); keys whose value ends up somewhere narrower pass their own ceiling.
 */
export const duration =
  (minMs = 0, maxMs = GO_MAX_DURATION_MS): Parser<number> =>
  (raw) => {
    const range = `${minMs > 0 ? `at least ${formatGoDuration(minMs)}` : "not negative"}${maxMs < GO_MAX_DURATION_MS ? `, at most ${formatGoDuration(maxMs)}` : ""}`;
    const allowed = `a duration in Go syntax such as 90s, 5m or 1h30m, ${range}`;
    const t = scalarText(raw, allowed);
    const ms = parseGoDuration(t);
    if (ms === null || ms < minMs || ms < 0 || ms > maxMs) throw new Invalid(allowed);
    return ms;
  };

export const oneOf =
  <T extends string>(choices: readonly T[]): Parser<T> =>
  (raw) => {
    const allowed = `one of ${choices.join(", ")}`;
    const t = scalarText(raw, allowed).toLowerCase();
    const hit = choices.find((c) => c.toLowerCase() === t);
    if (!hit) throw new Invalid(allowed);
    return hit;
  };

/**
 * A list: a YAML sequence, or a comma-separated string (env, flags). With `wholeString`, a string
 * is one item: a label selector contains commas itself, as kured's repeated selector flag does.
 */
export const list =
  <T>(item: Parser<T>, allowedItem: string, wholeString = false): Parser<T[]> =>
  (raw) => {
    if (raw === null || raw === undefined || raw === "") return [];
    const text = Array.isArray(raw) ? "" : scalarText(raw, `a list of ${allowedItem}`);
    const parts = Array.isArray(raw) ? raw : wholeString ? [text] : text.split(",").map((s) => s.trim()).filter(Boolean);
    return parts.map((p) => {
      try {
        return item(p);
      } catch (e) {
        if (e instanceof Invalid) throw new Invalid(`a list of ${allowedItem} (item ${JSON.stringify(p)} is not)`);
        throw e;
      }
    });
  };

/**
 * A time of day in seconds since midnight, as kured parses it with Go's layouts "15:04",
 * "15:04:05", "03:04pm", "15", "03pm", "3pm": a 12-hour hour may be 0 to 12 (Go accepts "0pm",
 * which is 12:00, and "00am", which is 0:00); a 24-hour hour 0 to 23. sluice also takes 3:04pm,
 * upper case and spaces, which kured refuses, with the same meaning. 24:00 is refused, as kured
 * does: an end of 0:00 already means midnight.
 */
export const timeOfDay: Parser<number> = (raw) => {
  const allowed = "a time of day such as 8, 15, 3pm, 03:30pm, 15:04 or 15:04:05 (0:00 to 23:59:59; for midnight at the end use 0:00)";
  const t = scalarText(raw, allowed).toLowerCase().replace(/\s+/g, "");
  const m = /^(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?(am|pm)?$/.exec(t);
  if (!m) throw new Invalid(allowed);
  let h = Number(m[1]);
  const min = m[2] === undefined ? 0 : Number(m[2]);
  const sec = m[3] === undefined ? 0 : Number(m[3]);
  const ampm = m[4];
  if (ampm) {
    // Go: hour 0-12 with pm adds 12 below 12; 12am is midnight.
    if (h > 12 || m[3] !== undefined) throw new Invalid(allowed);
    if (ampm === "pm" && h < 12) h += 12;
    else if (ampm === "am" && h === 12) h = 0;
  }
  if (min > 59 || sec > 59 || h > 23) throw new Invalid(allowed);
  return h * 3600 + min * 60 + sec;
};

const DAY_NAMES: Record<string, number> = {};
["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"].forEach((name, i) => {
  DAY_NAMES[name] = i;
  DAY_NAMES[name.slice(0, 3)] = i;
  DAY_NAMES[name.slice(0, 2)] = i;
});

/** A weekday as kured reads it: su, sun, sunday (any case) or 0-6 with 0 = Sunday. */
export const weekday: Parser<number> = (raw) => {
  const allowed = "a day: su, sun, sunday … sa, sat, saturday, or 0-6 (0 = Sunday)";
  const t = scalarText(raw, allowed).toLowerCase();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (n <= 6) return n;
    throw new Invalid(allowed);
  }
  const d = DAY_NAMES[t];
  if (d === undefined) throw new Invalid(allowed);
  return d;
};

export const weekdays: Parser<number[]> = (raw) => {
  const days = list(weekday, "days (su, mon, tuesday, 0-6…)")(raw);
  return [...new Set(days)].sort((a, b) => a - b);
};

export const timeZone: Parser<string> = (raw) => {
  const allowed = "an IANA time zone such as UTC, Europe/Berlin or America/New_York, or Local";
  const t = scalarText(raw, allowed);
  if (t === "Local" || t === "local") return "local";
  // UTC needs no zone database (and checking it through Intl would load one: docs/development).
  if (isUtc(t)) return t;
  if (!IANAZone.isValidZone(t)) throw new Invalid(allowed);
  return t;
};

const LABEL_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** A node label as kured takes it: key=value (a Kubernetes label name and value). */
export const label: Parser<string> = (raw) => {
  const allowed = "a label key=value, with a Kubernetes label name (optionally prefix/) and a value of at most 63 characters";
  const t = scalarText(raw, allowed);
  const eq = t.indexOf("=");
  if (eq <= 0) throw new Invalid(allowed);
  const key = t.slice(0, eq);
  const value = t.slice(eq + 1);
  if (!LABEL_NAME.test(key) || key.split("/").pop()!.length > 63 || !LABEL_VALUE.test(value)) throw new Invalid(allowed);
  return `${key}=${value}`;
};

/** A label selector in kubectl syntax: a=b, a!=b, a in (x,y), !a, a. Checked loosely for shape. */
export const selector: Parser<string> = (raw) => {
  const allowed = "a Kubernetes label selector such as app=web, tier in (db,cache), !batch";
  const t = scalarText(raw, allowed);
  if (t === "") return "";
  const requirement = /^\s*(!?\s*[A-Za-z0-9./_-]+|[A-Za-z0-9./_-]+\s*(==?|!=)\s*[A-Za-z0-9._-]*|[A-Za-z0-9./_-]+\s+(in|notin)\s+\([A-Za-z0-9._,\s-]*\))\s*$/;
  // Split on commas outside parentheses.
  const parts: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of t) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  parts.push(cur);
  if (depth !== 0 || parts.some((p) => !requirement.test(p))) throw new Invalid(allowed);
  return t;
};

export const url =
  (protocols: readonly string[] | null): Parser<string> =>
  (raw) => {
    const allowed = protocols ? `a URL starting with ${protocols.map((p) => `${p}://`).join(" or ")}` : "a URL such as https://hooks.example.com/…";
    let t = scalarText(raw, allowed);
    // kured strips one pair of quotes around notifyUrl (a habit from shell-quoted flags).
    const quoted = /^"(.*)"$|^'(.*)'$/s.exec(t);
    if (quoted) t = (quoted[1] ?? quoted[2] ?? "").trim();
    if (t === "") return "";
    let u: URL;
    try {
      u = new URL(t);
    } catch {
      throw new Invalid(allowed);
    }
    if (protocols && !protocols.includes(u.protocol.replace(/:$/, ""))) throw new Invalid(allowed);
    return t;
  };

/**
 * An RE2 regular expression, as kured compiles alertFilterRegexp with Go's regexp package. It is
 * translated to a JavaScript pattern with the same meaning ((?i), \z, \Q…\E, [[:alpha:]] …);
 * what RE2 refuses (lookaround, backreferences) is refused, as kured refuses it at start.
 */
export const regexp: Parser<string> = (raw) => {
  const t = scalarText(raw, "a regular expression in RE2 syntax");
  if (t === "") return "";
  const r = re2ToJs(t);
  if (typeof r !== "string") throw new Invalid(`a regular expression in RE2 syntax, as kured (Go) reads it: ${r.error}`);
  return r;
};

/** A command as argv: a string split into words as kured does (shell quoting), or a YAML list. */
export const command: Parser<string[]> = (raw) => {
  const allowed = "a command: a string split into words as a shell would (quotes kept together), or a list of arguments, the first one not empty";
  if (raw === null || raw === undefined || raw === "") return [];
  const words = Array.isArray(raw) ? raw.map((a) => (typeof a === "string" ? a : scalarText(a, allowed))) : splitShellWords(scalarText(raw, allowed));
  if (words === null) throw new Invalid(`${allowed}; this one has an unterminated quote`);
  if (words.length > 0 && words[0]!.trim() === "") throw new Invalid(allowed);
  if (words.some((w) => w.includes("\0"))) throw new Invalid(`${allowed}, without NUL characters`);
  return words;
};

/** A command that must be given: kured refuses an empty rebootCommand at start. */
export const requiredCommand: Parser<string[]> = (raw) => {
  const words = command(raw);
  if (words.length === 0) throw new Invalid("a command that reboots the host, such as systemctl reboot (it cannot be empty)");
  return words;
};

/**
 * A DNS-1123 label (lower-case letters, digits and '-', at most `max` characters): what a
 * namespace must be, and what a group must be to fit both a Lease name (sluice-<group>-<i>) and
 * the value of the label sluice.dev/group.
 */
export const dnsLabel =
  (max: number, what: string): Parser<string> =>
  (raw) => {
    const allowed = `${what}: lower-case letters, digits and '-', starting and ending with a letter or digit, at most ${max} characters`;
    const t = scalarText(raw, allowed);
    if (t.length === 0 || t.length > max || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(t)) throw new Invalid(allowed);
    return t;
  };

export const absolutePath: Parser<string> = (raw) => {
  const allowed = "an absolute path";
  const t = scalarText(raw, allowed);
  if (t === "") return "";
  if (!t.startsWith("/")) throw new Invalid(allowed);
  return t;
};

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A Kubernetes node name (a DNS subdomain); empty means the host name. */
export const nodeName: Parser<string> = (raw) => {
  const allowed = "a Kubernetes node name: lower-case letters, digits, '-' and '.', at most 253 characters (empty: the host name)";
  const t = scalarText(raw, allowed);
  if (t !== "" && (t.length > 253 || !DNS_SUBDOMAIN.test(t))) throw new Invalid(allowed);
  return t;
};

/** A taint key has a label name's syntax (optionally prefix/name); empty means none. */
export const taintKey: Parser<string> = (raw) => {
  const allowed = "a taint key: a Kubernetes label name such as example.com/rebooting (empty: no taint)";
  const t = scalarText(raw, allowed);
  if (t !== "" && (!LABEL_NAME.test(t) || t.split("/").pop()!.length > 63 || (t.includes("/") && t.split("/")[0]!.length > 253))) throw new Invalid(allowed);
  return t;
};

/** An address to listen on: an IP address or a host name. */
export const listenHost: Parser<string> = (raw) => {
  const allowed = "an IP address such as 127.0.0.1, 0.0.0.0 or ::, or a host name";
  const t = scalarText(raw, allowed).replace(/^\[(.*)\]$/, "$1");
  if (isIP(t) === 0 && (t.length > 253 || !/^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*$/.test(t))) throw new Invalid(allowed);
  return t;
};
