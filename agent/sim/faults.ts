/**
 * Fault injection (off unless rules are set) and per-verb/resource request counters, so tests and
 * benchmarks can make the server misbehave like a loaded real one and count what clients sent.
 */
import { ApiError, conflict, failure, tooManyRequests } from "./status";

export interface FaultRule {
  /** get, list, watch, create, update, patch, delete, deletecollection; undefined = any. */
  verb?: string;
  /** Resource with subresource, e.g. "leases", "pods/eviction"; undefined = any. */
  resource?: string;
  /** Probability in [0, 1] that a matching request fails with `code`. */
  errorRate?: number;
  code?: 500 | 429 | 409;
  /** For 429: the Retry-After header and details.retryAfterSeconds. */
  retryAfterSeconds?: number;
  /** Added latency before the request is served (on the server's clock). */
  latencyMs?: number;
  /** Watches matching the rule are closed by the server after this long. */
  closeWatchAfterMs?: number;
}

export class Faults {
  rules: FaultRule[] = [];
  private readonly counts = new Map<string, number>();

  constructor(private readonly random: () => number = Math.random) {}

  count(verb: string, resource: string): void {
    const k = `${verb} ${resource}`;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }

  /** Requests served so far, keyed "verb resource" (e.g. "create pods/eviction"). */
  counters(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  resetCounters(): void {
    this.counts.clear();
  }

  private matching(verb: string, resource: string): FaultRule[] {
    return this.rules.filter((r) => (!r.verb || r.verb === verb) && (!r.resource || r.resource === resource));
  }

  latencyMs(verb: string, resource: string): number {
    return this.matching(verb, resource).reduce((ms, r) => ms + (r.latencyMs ?? 0), 0);
  }

  closeWatchAfterMs(resource: string): number | null {
    const r = this.matching("watch", resource).find((x) => x.closeWatchAfterMs !== undefined);
    return r?.closeWatchAfterMs ?? null;
  }

  /** The injected error for this request, if any. */
  injectedError(verb: string, resource: string, name: string): ApiError | undefined {
    for (const r of this.matching(verb, resource)) {
      if (!r.errorRate || this.random() >= r.errorRate) continue;
      const [plural, ...rest] = resource.split("/");
      void rest;
      switch (r.code ?? 500) {
        case 429:
          return tooManyRequests("the server has received too many requests and has asked us to try again later", r.retryAfterSeconds ?? 1);
        case 409:
          return conflict({ group: "", resource: plural }, name || plural);
        default:
          return failure(500, "InternalError", "Internal error occurred: injected fault");
      }
    }
    return undefined;
  }
}
