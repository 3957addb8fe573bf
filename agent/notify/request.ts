/** What a notification URL becomes (a Target) and the small helpers every service shares. */
import { SluiceError } from "../ports";
import { truncate } from "./template";

export const NOTIFY_URL_INVALID = "notify-url-invalid";

export interface HttpRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  /**
   * Judges an answer: null when delivered, else what went wrong. Slack's API and Telegram
   * answer 200 with `ok: false` when they refuse a message.
   */
  check(status: number, body: string): string | null;
}

export interface Target {
  /** slack, teams, discord, generic, gotify, telegram or webhook. */
  service: string;
  /** For logs and status: the service and a public host, never a token or a webhook path. */
  describe: string;
  /** Every secret part of the URL, so that no error text repeats one (see notifier.ts). */
  secrets: string[];
  requests(message: string): HttpRequest[];
}

export const SUPPORTED = "slack://, teams://, discord://, generic://, generic+https://, gotify://, telegram://, or an https:// webhook";

export function invalid(scheme: string, why: string): SluiceError {
  return new SluiceError(NOTIFY_URL_INVALID, `notifyUrl (${scheme}://…) is not valid: ${why}`);
}

export const ok2xx = (status: number, body: string) => (status >= 200 && status < 300 ? null : `HTTP ${status}${body ? `: ${truncate(body.trim(), 200)}` : ""}`);


export type Query = (key: string, ...aliases: string[]) => string | undefined;
export const yes = (v: string | undefined, dflt: boolean) => (v === undefined ? dflt : /^(1|y|yes|true|on)$/i.test(v));

export function postJson(url: string, payload: unknown, check = ok2xx, headers: Record<string, string> = {}): HttpRequest {
  return { url, method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(payload), check };
}


export function basicAuth(url: URL): Record<string, string> {
  if (!url.username && !url.password) return {};
  return { Authorization: `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString("base64")}` };
}
