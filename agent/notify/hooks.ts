/** Webhook-style targets: gotify, shoutrrr's generic webhook, and a plain https:// URL. */
import { type Query, type Target, basicAuth, invalid, ok2xx, postJson, yes } from "./request";

/**
 * gotify://host[:port][/path]/token → POST /path/message. The token goes in the X-Gotify-Key
 * header rather than the query (shoutrrr's way), so it never lands in a proxy's access log.
 */
export function gotify(url: URL, q: Query): Target {
  const segments = url.pathname.split("/").filter(Boolean);
  const token = decodeURIComponent(segments.pop() ?? "");
  if (!url.host || !token) throw invalid("gotify", "expected gotify://host[:port][/path]/token");
  const scheme = yes(q("disabletls"), false) ? "http" : "https";
  const priority = Number(q("priority") ?? 0);
  const title = q("title") ?? "sluice";
  const target = `${scheme}://${url.host}${segments.length ? `/${segments.join("/")}` : ""}/message`;
  return {
    service: "gotify",
    describe: `gotify at ${url.host}`,
    secrets: [token],
    requests: (message) => [postJson(target, { message, title, priority: Number.isInteger(priority) ? priority : 0 }, ok2xx, { "X-Gotify-Key": token })],
  };
}

const GENERIC_KEYS = new Set(["contenttype", "disabletls", "template", "title", "titlekey", "messagekey", "method"]);

/**
 * generic://host/path?… (https unless disabletls=yes) and generic+https:// / generic+http://.
 * As in shoutrrr: the body is the bare message unless template=json, which sends
 * {"title":…,"message":…} (keys renamed by titlekey/messagekey, more fields by $key=value);
 * @Header=value adds a header; every other query parameter stays on the webhook URL.
 */
export function generic(url: URL, scheme: string, q: Query): Target {
  if (!url.host) throw invalid(scheme, "expected generic://host/path or generic+https://host/path");
  const headers: Record<string, string> = {};
  const extra: Record<string, string> = {};
  const kept = new URLSearchParams();
  for (const [k, v] of url.searchParams) {
    if (k.startsWith("@") && k.length > 1) headers[headerName(k.slice(1))] = v;
    else if (k.startsWith("$") && k.length > 1) extra[k.slice(1)] = v;
    else if (!GENERIC_KEYS.has(k.toLowerCase())) kept.append(k, v);
  }
  const web =
    scheme === "generic+http" || (scheme === "generic" && yes(q("disabletls"), false)) ? "http" : "https";
  const method = (q("method") ?? "POST").toUpperCase();
  if (!/^[A-Z]+$/.test(method)) throw invalid(scheme, "method= must be an HTTP method");
  const template = q("template") ?? "";
  if (template && !/^json$/i.test(template)) throw invalid(scheme, `template=${template} is not supported (only json, or none for the bare message)`);
  const contentType = q("contenttype") ?? "application/json";
  const title = q("title");
  const titleKey = q("titlekey") ?? "title";
  const messageKey = q("messagekey") ?? "message";
  const auth = basicAuth(url);
  const query = kept.toString();
  const target = `${web}://${url.host}${url.pathname}${query ? `?${query}` : ""}`;
  const pathParts = url.pathname.split("/").filter((p) => p.length >= 6);
  return {
    service: "generic",
    describe: `generic webhook at ${url.host}`,
    // A webhook's path and query often are its credential: none of them is ever repeated.
    secrets: [...pathParts, ...[...kept.values()].filter((v) => v.length >= 6), ...Object.values(headers), decodeURIComponent(url.password), decodeURIComponent(url.username)].filter(Boolean),
    requests: (message) => [
      {
        url: target,
        method,
        headers: { "Content-Type": contentType, Accept: contentType, ...auth, ...headers },
        body: template ? JSON.stringify({ ...extra, ...(title ? { [titleKey]: title } : {}), [messageKey]: message }) : message,
        check: ok2xx,
      },
    ],
  };
}

/** shoutrrr's header keys: `@XApiKey` → `X-Api-Key`, `@x-custom` → `X-Custom`. */
function headerName(key: string): string {
  let out = "";
  for (let i = 0; i < key.length; i++) {
    const c = key[i]!;
    if (c >= "A" && c <= "Z") out += i > 0 && key[i - 1] !== "-" ? `-${c}` : c;
    else out += i === 0 || key[i - 1] === "-" ? c.toUpperCase() : c;
  }
  return out;
}

/** A plain https:// URL: {"text": message}, which Slack, Mattermost, Teams and Google Chat webhooks accept. */
export function webhook(url: URL): Target {
  const auth = basicAuth(url);
  const clean = new URL(url.href);
  clean.username = "";
  clean.password = "";
  return {
    service: "webhook",
    describe: `webhook at ${url.host}`,
    secrets: [...url.pathname.split("/").filter((p) => p.length >= 6), ...[...url.searchParams.values()].filter((v) => v.length >= 6), decodeURIComponent(url.password)].filter(Boolean),
    requests: (message) => [postJson(clean.href, { text: message }, ok2xx, auth)],
  };
}
