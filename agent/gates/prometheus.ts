/**
 * Firing Prometheus alerts as a reboot blocker, as kured does: one instant query of `ALERTS`
 * through the HTTP API (GET /api/v1/query), then kured's filter on the alert names. Prometheus's
 * answer is {"status":"success","data":{"resultType":"vector","result":[{"metric":{...},
 * "value":[<unix time>,"<value>"]}]}} or {"status":"error","errorType":…,"error":…}.
 */
import { errorMessage } from "../ports";
import type { GateResult } from "./types";

export interface AlertFilter {
  /** alertFilterRegexp: names matching it are ignored ("" ignores none). */
  regexp?: string;
  /** alertFilterMatchOnly: only names matching the regexp count. */
  matchOnly?: boolean;
  /** alertFiringOnly: pending alerts do not count. */
  firingOnly?: boolean;
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export type FetchLike = (url: string, init: { signal?: AbortSignal; headers?: Record<string, string> }) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

const QUERY_TIMEOUT_MS = 10_000;

/** kured's ActiveAlerts: the distinct names of the alerts that count, sorted. */
export function activeAlerts(samples: PromSample[], f: AlertFilter): string[] {
  const re = f.regexp ? new RegExp(f.regexp) : undefined;
  const names = new Set<string>();
  for (const s of samples) {
    const name = s.metric?.alertname;
    if (!name || Number(s.value?.[1]) === 0) continue;
    const matches = re ? re.test(name) : true;
    if (f.matchOnly ? !matches : re !== undefined && matches) continue;
    if (f.firingOnly && s.metric.alertstate !== "firing") continue;
    names.add(name);
  }
  return [...names].sort();
}

/** The vector of an instant-query answer, or an Error saying what was wrong with it. */
export function parseQueryAnswer(status: number, body: string): PromSample[] | Error {
  let j: { status?: string; errorType?: string; error?: string; data?: { resultType?: string; result?: unknown } };
  try {
    j = JSON.parse(body);
  } catch {
    return new Error(`HTTP ${status}, not a Prometheus API answer: ${body.slice(0, 120)}`);
  }
  if (j.status !== "success") return new Error(`HTTP ${status}, ${j.errorType ?? "error"}: ${j.error ?? "no error text"}`);
  if (j.data?.resultType !== "vector" || !Array.isArray(j.data.result)) return new Error(`unexpected result type ${j.data?.resultType ?? "none"} (want vector)`);
  return j.data.result as PromSample[];
}

export function queryUrl(base: string): string {
  const u = new URL(base.endsWith("/") ? base : `${base}/`);
  const q = new URL("api/v1/query", u);
  q.username = "";
  q.password = "";
  q.searchParams.set("query", "ALERTS");
  return q.toString();
}

/**
 * fetch refuses URLs with credentials; Go's HTTP client (kured) turns them into basic auth, so a
 * kured prometheusUrl like https://user:pass@prom/ keeps working here too.
 */
export function basicAuth(base: string): Record<string, string> {
  const u = new URL(base);
  if (!u.username && !u.password) return {};
  const pair = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
  return { Authorization: `Basic ${Buffer.from(pair).toString("base64")}` };
}

export async function prometheusAlerts(fetchFn: FetchLike, url: string, filter: AlertFilter, signal?: AbortSignal): Promise<GateResult> {
  const where = redactUrl(url);
  try {
    const timeout = AbortSignal.timeout(QUERY_TIMEOUT_MS);
    const res = await fetchFn(queryUrl(url), { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, headers: { Accept: "application/json", ...basicAuth(url) } });
    const parsed = parseQueryAnswer(res.status, await res.text());
    if (parsed instanceof Error) return { gate: "alerts", blocked: true, error: true, reasons: [`cannot evaluate Prometheus alerts at ${where}: ${parsed.message}`] };
    const names = activeAlerts(parsed, filter);
    return { gate: "alerts", blocked: names.length > 0, reasons: names.length ? [`active Prometheus alerts: ${names.join(", ")}`] : [] };
  } catch (err) {
    signal?.throwIfAborted();
    return { gate: "alerts", blocked: true, error: true, reasons: [`cannot reach Prometheus at ${where}: ${errorMessage(err)}`] };
  }
}

/** Credentials in a URL never reach a log line or an Event. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = "***";
      u.password = "";
    }
    return u.toString();
  } catch {
    return "(invalid URL)";
  }
}
