/**
 * The Notifier port over a notification URL. `send` only enqueues: a slow, failing or hanging
 * receiver never delays a transition. One message at a time leaves the bounded queue; each
 * request gets a timeout and a few retries with exponential backoff (network errors, timeouts,
 * 408, 429 and 5xx; any other refusal is final). Nothing it logs names the URL's secrets.
 */
import { type Logger, redactText } from "../log";
import { type Clock, type Notifier, errorMessage } from "../ports";
import type { HttpRequest, Target } from "./request";
import { MAX_MESSAGE_LENGTH, truncate } from "./template";
import { parseNotifyUrl } from "./url";

export interface NotifyResponse {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}
export type NotifyFetch = (url: string, init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal }) => Promise<NotifyResponse>;

export interface NotifierOptions {
  log: Logger;
  clock: Clock;
  fetch?: NotifyFetch;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  /** Further attempts after the first (default 3). */
  retries?: number;
  /** First backoff (default 2 s), doubled each retry up to maxBackoffMs (default 60 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Messages waiting; when full, the oldest is dropped (default 32). */
  queueSize?: number;
}

export interface NotifyService extends Notifier {
  /** The service and its public host, for logs and `sluice status`. */
  readonly target: string;
  /** Resolves once the queue is empty and nothing is in flight (tests, and a clean stop). */
  idle(): Promise<void>;
  /** Stops: cancels what is in flight and drops what waits. */
  close(): void;
}

/** Where backoff doubling starts and stops; pure so the table test can read it. */
export function retryDelay(attempt: number, baseMs: number, maxMs: number, retryAfter: string | null): number {
  const header = retryAfter === null ? Number.NaN : Number(retryAfter);
  if (Number.isFinite(header) && header >= 0) return Math.min(maxMs, header * 1000);
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

const RETRYABLE = (status: number) => status === 408 || status === 429 || status >= 500;

/** A notifier for `notifyUrl`; "" means none configured. Throws SluiceError notify-url-invalid. */
export function createNotifier(url: string, o: NotifierOptions): NotifyService {
  if (url.trim() === "") return { target: "none", send: async () => {}, idle: async () => {}, close: () => {} };
  return new QueueNotifier(parseNotifyUrl(url), o);
}

class QueueNotifier implements NotifyService {
  readonly target: string;
  private readonly queue: string[] = [];
  private readonly stop = new AbortController();
  private running = false;
  private dropped = 0;
  private waiters: Array<() => void> = [];
  private readonly log: Logger;
  private readonly fetch: NotifyFetch;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly queueSize: number;
  private readonly secrets: string[];

  constructor(
    private readonly t: Target,
    private readonly o: NotifierOptions,
  ) {
    this.target = t.describe;
    this.log = o.log.child({ component: "notify", target: t.describe });
    this.fetch = o.fetch ?? (globalThis.fetch as unknown as NotifyFetch);
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.retries = Math.max(0, o.retries ?? 3);
    this.backoffMs = o.backoffMs ?? 2_000;
    this.maxBackoffMs = o.maxBackoffMs ?? 60_000;
    this.queueSize = Math.max(1, o.queueSize ?? 32);
    // Longest first, so a secret that contains another is hidden whole.
    this.secrets = [...new Set(t.secrets.filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length);
  }

  async send(message: string): Promise<void> {
    if (this.stop.signal.aborted) return;
    if (this.queue.length >= this.queueSize) {
      this.queue.shift();
      if (this.dropped++ === 0) this.log.warning("notification queue full: dropping the oldest message", { queueSize: this.queueSize });
    }
    this.queue.push(truncate(String(message), MAX_MESSAGE_LENGTH));
    if (!this.running) void this.pump();
  }

  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  close(): void {
    this.queue.length = 0;
    this.stop.abort(new Error("notifier closed"));
  }

  private async pump(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.stop.signal.aborted) {
        const message = this.queue.shift()!;
        for (const req of this.t.requests(message)) await this.deliver(req);
      }
    } finally {
      this.running = false;
      if (this.dropped > 1) this.log.warning(`dropped ${this.dropped} notifications: the receiver could not keep up`);
      this.dropped = 0;
      for (const w of this.waiters.splice(0)) w();
    }
  }

  /** Never throws: a notification that cannot be delivered is a warning, nothing more. */
  private async deliver(req: HttpRequest): Promise<void> {
    const attempts = this.retries + 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const r = await this.attempt(req);
      if (r.ok) {
        this.log.debug("notification sent", { attempt });
        return;
      }
      if (this.stop.signal.aborted) return;
      if (!r.retry || attempt === attempts) {
        this.log.warning(`notification not delivered: ${this.scrub(r.error)}`, { attempts: attempt });
        return;
      }
      const delay = retryDelay(attempt, this.backoffMs, this.maxBackoffMs, r.retryAfter);
      this.log.debug(`notification failed, retrying in ${delay} ms: ${this.scrub(r.error)}`, { attempt });
      try {
        await this.o.clock.sleep(delay, this.stop.signal);
      } catch {
        return;
      }
    }
  }

  private async attempt(req: HttpRequest): Promise<{ ok: true } | { ok: false; retry: boolean; error: string; retryAfter: string | null }> {
    const abort = new AbortController();
    const timerStop = new AbortController();
    const onStop = () => abort.abort(this.stop.signal.reason);
    this.stop.signal.addEventListener("abort", onStop, { once: true });
    this.o.clock.sleep(this.timeoutMs, timerStop.signal).then(
      () => abort.abort(new Error(`no answer within ${this.timeoutMs} ms`)),
      () => {},
    );
    try {
      const res = await this.fetch(req.url, { method: req.method, headers: req.headers, body: req.method === "GET" ? undefined : req.body, signal: abort.signal });
      const body = (await res.text()).slice(0, 4096);
      const problem = req.check(res.status, body);
      if (problem === null) return { ok: true };
      return { ok: false, retry: RETRYABLE(res.status), error: problem, retryAfter: res.headers.get("retry-after") };
    } catch (err) {
      const why = abort.signal.aborted ? errorMessage(abort.signal.reason) : describeFetchError(err);
      return { ok: false, retry: true, error: why, retryAfter: null };
    } finally {
      timerStop.abort();
      this.stop.signal.removeEventListener("abort", onStop);
    }
  }

  /** Error texts may echo the request URL or a token: hide every known secret, then any URL credential. */
  private scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join("***");
    return redactText(out);
  }
}

/** fetch says "fetch failed" and keeps the reason (ECONNREFUSED, a DNS failure) in `cause`. */
function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const detail = cause?.code ?? cause?.message;
  return detail ? `${errorMessage(err)} (${detail})` : errorMessage(err);
}
