/**
 * Credentials must never reach a log line, an Event, an error or command output; this file is the
 * one rule every output path applies. What is recognised: fields whose name says they hold a
 * secret (their text values; a number under `pass` counts drain passes and is kept), URLs that
 * carry one (user info, secret-looking query parameters, the token path segments of Slack,
 * Discord and Teams webhooks, shoutrrr-style service URLs), `Bearer …`, `token: …`-style text
 * (a kubeconfig quoted in a parser's message) and command-line arguments that follow a secret
 * flag.
 */
const SECRET_KEY = /(pass(word)?|secret|token|authorization|bearer|api[-_]?key|credential|private[-_]?key|cookie)/i;
const SECRET_QUERY = /^(access_token|token|key|api[-_]?key|secret|password|pass|sig|signature|code|auth)$/i;
const URL_IN_TEXT = /\b([a-z][a-z0-9+.-]*):\/\/[^\s"'<>]+/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
/** `token: abc`, `password=abc`, `client-key-data: …` inside free text; numbers are kept. */
const SECRET_PAIR = /\b([\w.-]*(?:password|passwd|secret|token|api[-_]?key|key-data|credential)[\w.-]*)(["']?\s*[:=]\s*["']?)([^\s"',;}]+)/gi;

export const REDACTED = "***";

/** Path prefixes after which every segment is a credential. */
const TOKEN_PATHS: Array<{ host: RegExp; keep: number }> = [
  { host: /(^|\.)hooks\.slack\.com$/i, keep: 1 }, // /services/T…/B…/secret
  { host: /(^|\.)discord(app)?\.com$/i, keep: 3 }, // /api/webhooks/<id>/<token>
  { host: /(^|\.)webhook\.office\.com$/i, keep: 1 }, // /webhookb2/…
  { host: /(^|\.)logic\.azure\.com$/i, keep: 99 }, // workflow URLs carry sig= in the query
];

export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Not a URL the WHATWG parser accepts, but it may still carry user:password@.
    return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#\s]*@/i, `$1${REDACTED}@`);
  }
  // shoutrrr-style URLs (slack://token@channel, teams://group@tenant/…) put secrets in user info.
  if (url.username) url.username = REDACTED;
  if (url.password) url.password = REDACTED;
  if (!/^(https?|wss?):$/.test(url.protocol)) {
    // A service URL (slack://T…/B…/token, gotify://host/token): every path segment is a token,
    // and so is a "host" that is not a host name (slack://tokenA/tokenB/tokenC).
    const host = url.hostname.includes(".") ? url.host : REDACTED;
    const path = url.pathname.split("/").map((seg) => (seg === "" ? seg : REDACTED)).join("/");
    return `${url.protocol}//${url.username ? `${REDACTED}@` : ""}${host}${path}${url.search ? "?…" : ""}`;
  }
  for (const key of [...url.searchParams.keys()]) {
    if (SECRET_QUERY.test(key) || SECRET_KEY.test(key)) url.searchParams.set(key, REDACTED);
  }
  const rule = TOKEN_PATHS.find((r) => r.host.test(url.hostname));
  if (rule) {
    const segments = url.pathname.split("/");
    // segments[0] is "" (leading slash); keep the first `keep` real segments.
    url.pathname = segments.map((s, i) => (i === 0 || i <= rule.keep || s === "" ? s : REDACTED)).join("/");
  }
  let out = url.toString();
  if (!raw.endsWith("/") && out.endsWith("/") && url.pathname === "/") out = out.slice(0, -1);
  return out.replaceAll(encodeURIComponent(REDACTED), REDACTED);
}

export function redactText(text: string): string {
  return text
    .replace(URL_IN_TEXT, (m) => redactUrl(m))
    .replace(BEARER, (_m, kind: string) => `${kind} ${REDACTED}`)
    .replace(SECRET_PAIR, (m, k: string, sep: string, v: string) => (/^(\d+|\*\*\*)$/.test(v) ? m : `${k}${sep}${REDACTED}`));
}

/**
 * A command line as it may be shown: `--password=x`, the word after `--token` or `-p`, and
 * `Authorization: …` headers are masked; the rest goes through redactText.
 */
export function redactArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  let maskNext = false;
  for (const arg of argv) {
    if (maskNext) {
      out.push(REDACTED);
      maskNext = false;
      continue;
    }
    const flag = /^(--?[\w.-]+)(=(.*))?$/s.exec(arg);
    if (flag && (SECRET_KEY.test(flag[1]!) || flag[1] === "-p" || flag[1] === "-u" || flag[1] === "--user")) {
      if (flag[2] !== undefined) out.push(`${flag[1]}=${REDACTED}`);
      else {
        out.push(arg);
        maskNext = true;
      }
      continue;
    }
    out.push(/^\s*(authorization|x-api-key|private-token|cookie)\s*:/i.test(arg) ? arg.replace(/:.*$/s, `: ${REDACTED}`) : redactText(arg));
  }
  return out;
}

/** Deep copy of `value` with secrets replaced. Cycles are cut, errors become their message. */
export function redactValue(value: unknown, key = "", seen = new WeakSet<object>()): unknown {
  if (typeof value === "string") return key && SECRET_KEY.test(key) && value !== "" ? REDACTED : redactText(value);
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { message: redactText(value.message), ...(code !== undefined ? { code } : {}) };
  }
  if (seen.has(value)) return "[cycle]";
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, key, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // Only text is a credential: `pass: 3` (a drain pass), `tokens: 12` or `secret: false` are not.
    out[k] = SECRET_KEY.test(k) && (typeof v === "string" ? v !== "" : v !== null && typeof v === "object") ? REDACTED : redactValue(v, k, seen);
  }
  return out;
}
