/**
 * Kubernetes failures, classified once at the port's boundary so no caller inspects HTTP codes.
 * Every KubeError keeps the server's Status message, reason and details: "HTTP 403" alone tells
 * an operator nothing, the authorizer's sentence does.
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

/**
 * Seconds of a Retry-After header, on the answers where the server means it (429, 503). The
 * HTTP-date form is not used by kube-apiserver and is ignored rather than guessed at.
 */
export function retryAfterMs(httpStatus: number, header: string | undefined): number | undefined {
  if (header === undefined || (httpStatus !== 429 && httpStatus !== 503)) return undefined;
  const t = header.trim();
  if (!/^\d{1,6}$/.test(t)) return undefined;
  return Number(t) * 1000;
}

/** Builds the KubeError for a Status object (HTTP error body or a watch ERROR event). */
export function fromStatus(status: StatusLike, httpStatus: number | undefined, headers?: Record<string, string>, cause?: unknown): KubeError {
  const http = httpStatus ?? (typeof status.code === "number" ? status.code : 500);
  const message = typeof status.message === "string" && status.message ? status.message : http === 401 ? "Unauthorized" : `HTTP ${http}`;
  const reason = typeof status.reason === "string" ? status.reason : undefined;
  const details = typeof status.details === "object" && status.details !== null ? status.details : undefined;
  return new KubeError(codeForStatus(http, reason), message, {
    status: http,
    reason,
    details,
    retryAfterMs: retryAfterMs(http, headers?.["retry-after"] ?? headers?.["Retry-After"]),
    cause,
  });
}

/** A failure before any answer (refused, reset, TLS, DNS): the server is unavailable. */
export function networkError(err: unknown, what: string): KubeError {
  const e = err as NodeJS.ErrnoException;
  const detail = e?.code && !String(e.message).includes(e.code) ? `${e.code}: ${e.message}` : String(e?.message ?? err);
  return new KubeError("unavailable", `Kubernetes API unreachable (${what}): ${detail}`, { cause: err });
}

/**
 * Whatever a port call threw, as a KubeError. Recognised by shape, not instanceof: a KubeError
 * made by another bundle chunk's copy of this class is still one.
 */
export function classify(err: unknown): KubeError {
  if (isKubeError(err)) return err as KubeError;
  const message = err instanceof Error ? err.message : String(err);
  return new KubeError("unavailable", `Kubernetes API unreachable: ${message}`, { cause: err });
}

const CODES = new Set<string>(["not-found", "already-exists", "conflict", "too-many-requests", "forbidden", "unauthorized", "invalid", "bad-request", "gone", "unavailable"]);

/**
 * A KubeError from any chunk: an Error with one of our codes and KubeError's own fields. Not by
 * class name: a bundler may rename a class to keep two copies apart.
 */
export function isKubeError(err: unknown, code?: KubeErrorCode): err is KubeError {
  if (!(err instanceof Error)) return false;
  const e = err as Partial<KubeError>;
  return typeof e.code === "string" && CODES.has(e.code) && "status" in err && "retryAfterMs" in err && (code === undefined || e.code === code);
}
