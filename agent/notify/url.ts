/**
 * kured's notifyUrl: shoutrrr-style URLs turned into the HTTP requests each service expects.
 * Pure: parsing a URL gives a Target that knows how to describe itself without secrets, which of
 * its parts are secrets, and the request(s) one message becomes. The formats follow shoutrrr
 * 0.8 (what kured links), read from its documentation; plain https:// is sluice's own.
 */
import { SluiceError } from "../ports";
import { discord, slack, teams, telegram } from "./chat";
import { generic, gotify, webhook } from "./hooks";
import { NOTIFY_URL_INVALID, SUPPORTED, type Target, invalid } from "./request";

/** kured strips quotes an operator left around the URL (`--notify-url="slack://…"` in a values file). */
export function stripQuotes(raw: string): string {
  const t = raw.trim();
  return t.length >= 2 && (t[0] === '"' || t[0] === "'") && t.at(-1) === t[0] ? t.slice(1, -1) : t;
}

export function parseNotifyUrl(raw: string): Target {
  const text = stripQuotes(raw);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (!scheme) throw new SluiceError(NOTIFY_URL_INVALID, `notifyUrl is not a URL; expected ${SUPPORTED}`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(scheme, "it cannot be parsed as a URL");
  }
  const q = (key: string, ...aliases: string[]) => {
    for (const k of [key, ...aliases]) for (const [name, v] of url.searchParams) if (name.toLowerCase() === k.toLowerCase()) return v;
    return undefined;
  };
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  switch (scheme) {
    case "slack":
      return slack(url, user, pass, q);
    case "teams":
      return teams(url, user, pass, q);
    case "discord":
      return discord(url, user, q);
    case "gotify":
      return gotify(url, q);
    case "telegram":
      return telegram(url, user, pass, q);
    case "generic":
    case "generic+https":
    case "generic+http":
      return generic(url, scheme, q);
    case "https":
    case "http":
      return webhook(url);
    case "smtp":
      throw invalid(scheme, "e-mail is not supported by sluice; use a chat service or a webhook");
    default:
      throw new SluiceError(NOTIFY_URL_INVALID, `notifyUrl scheme ${scheme}:// is not supported; use ${SUPPORTED}`);
  }
}

