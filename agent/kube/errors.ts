/**
 * Kubernetes failures, classified once at the port's boundary so no caller inspects HTTP codes.
 * client-node 2.x throws ApiException {code, body (JSON text), headers}; network failures are
 * plain errors (fetch/undici), which count as `unavailable`.
 */
import { SluiceError } from "../ports/errors";

export type KubeErrorCode =
  | "not-found"
  | "already-exists"
  | "conflict"
  | "too-many-requests"
  | "forbidden"
  | "unauthorized"
  | "invalid"
  | "bad-request"
  | "gone"
  | "unavailable";

export interface StatusLike {
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; group?: string; kind?: string; causes?: { reason?: string; message?: string; field?: string }[]; retryAfterSeconds?: number };
}

export class KubeError extends SluiceError {
  declare readonly code: KubeErrorCode;
  /** HTTP status, when there was a response. */
  readonly status: number | undefined;
  readonly reason: string | undefined;
  readonly details: StatusLike["details"];
  /** From the Retry-After header (or details.retryAfterSeconds) of a 429/5xx. */
  readonly retryAfterMs: number | undefined;

  constructor(code: KubeErrorCode, message: string, extra: { status?: number; reason?: string; details?: StatusLike["details"]; retryAfterMs?: number; cause?: unknown } = {}) {
    super(code, message, { cause: extra.cause });
    this.status = extra.status;
    this.reason = extra.reason;
    this.details = extra.details;
    this.retryAfterMs = extra.retryAfterMs;
  }
}

export function codeForStatus(status: number, reason?: string): KubeErrorCode {
  switch (status) {
    case 400:
      return "bad-request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not-found";
    case 409:
      return reason === "AlreadyExists" ? "already-exists" : "conflict";
    case 410:
      return "gone";
    case 422:
      return "invalid";
    case 429:
      return "too-many-requests";
    default:
      return "unavailable";
  }
}

/** Builds the KubeError for a Status object (HTTP error body or a watch ERROR event). */
export function fromStatus(status: StatusLike, httpStatus: number | undefined, headers?: Record<string, string>, cause?: unknown): KubeError {
  const http = httpStatus ?? status.code ?? 500;
  const retryHeader = headers?.["retry-after"] ?? headers?.["Retry-After"];
  const retryS = retryHeader !== undefined && /^\d+$/.test(retryHeader.trim()) ? Number(retryHeader) : status.details?.retryAfterSeconds;
  return new KubeError(codeForStatus(http, status.reason), status.message ?? `HTTP ${http}`, {
    status: http,
    reason: status.reason,
    details: status.details,
    retryAfterMs: retryHeader !== undefined && retryS !== undefined ? retryS * 1000 : undefined,
    cause,
  });
}

/** The one place that turns whatever client-node threw into a KubeError. */
export function classify(err: unknown): KubeError {
  if (err instanceof KubeError) return err;
  const e = err as { code?: unknown; body?: unknown; headers?: Record<string, string>; statusCode?: unknown };
  const http = typeof e?.code === "number" ? e.code : typeof e?.statusCode === "number" ? e.statusCode : undefined;
  if (http !== undefined && http >= 100) {
    let status: StatusLike = {};
    if (typeof e.body === "string") {
      try {
        status = JSON.parse(e.body) as StatusLike;
      } catch {
        status = { message: e.body };
      }
    } else if (e.body && typeof e.body === "object") status = e.body as StatusLike;
    if (!status.message) status.message = http === 401 ? "Unauthorized" : `HTTP ${http}`;
    return fromStatus(status, http, e.headers, err);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new KubeError("unavailable", `Kubernetes API unreachable: ${message}`, { cause: err });
}
