/**
 * Backoff for failed requests: exponential from 100 ms, capped at 10 s, with full jitter so that
 * many agents failing together do not retry together; a server's Retry-After wins when longer.
 */
export function retryDelayMs(attempt: number, retryAfterMs?: number, random: () => number = Math.random): number {
  const cap = Math.min(10_000, 100 * 2 ** Math.max(0, attempt - 1));
  const jittered = cap / 2 + (random() * cap) / 2;
  return Math.max(jittered, retryAfterMs ?? 0);
}

/** Errors after which the same request may succeed later. */
export function isTransient(code: string | undefined): boolean {
  return code === "unavailable" || code === "too-many-requests";
}
