/**
 * Kubernetes `Status` bodies, worded as kube-apiserver words them (see shared/k8s-golden). Every
 * failure inside the sim is an ApiError so that the HTTP layer has exactly one way to answer.
 */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, unknown>;
  status: "Failure" | "Success";
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code?: number;
}

export class ApiError extends Error {
  readonly code: number;
  readonly body: StatusBody;
  /** Extra response headers, e.g. Retry-After for injected 429s. */
  readonly headers: Record<string, string>;

  constructor(body: StatusBody, headers: Record<string, string> = {}) {
    super(body.message ?? body.reason ?? "error");
    this.code = body.code ?? 500;
    this.body = body;
    this.headers = headers;
  }
}

/** What names a resource in messages: `leases.coordination.k8s.io`, or `pods` for the core group. */
export interface QualifiedResource {
  group: string;
  resource: string;
}

export function qualified(r: QualifiedResource): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

function details(r: QualifiedResource, name?: string): StatusDetails {
  const d: StatusDetails = {};
  if (name) d.name = name;
  if (r.group) d.group = r.group;
  d.kind = r.resource;
  return d;
}

export function failure(code: number, reason: string | undefined, message: string, det?: StatusDetails): ApiError {
  const body: StatusBody = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message };
  if (reason) body.reason = reason;
  if (det) body.details = det;
  body.code = code;
  return new ApiError(body);
}

export const notFound = (r: QualifiedResource, name: string) =>
  failure(404, "NotFound", `${qualified(r)} "${name}" not found`, details(r, name));

export const alreadyExists = (r: QualifiedResource, name: string) =>
  failure(409, "AlreadyExists", `${qualified(r)} "${name}" already exists`, details(r, name));

export const conflict = (r: QualifiedResource, name: string) =>
  failure(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualified(r)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    details(r, name),
  );

export interface FieldError {
  type: "FieldValueInvalid" | "FieldValueRequired" | "FieldValueNotSupported" | "FieldValueForbidden" | "FieldValueTooLong" | "FieldValueDuplicate";
  field: string;
  /** Already formatted, e.g. `Invalid value: "": does not match event.namespace`. */
  detail: string;
}

export function invalidValue(field: string, value: unknown, why: string): FieldError {
  return { type: "FieldValueInvalid", field, detail: `Invalid value: ${goValue(value)}: ${why}` };
}

export function requiredValue(field: string): FieldError {
  return { type: "FieldValueRequired", field, detail: "Required value" };
}

/** How Go's field.Invalid prints a value: strings quoted, numbers bare, a nil pointer as 0x0. */
function goValue(v: unknown): string {
  if (v === undefined || v === null) return "0x0";
  if (typeof v === "string") return JSON.stringify(v);
  return String(v);
}

/** 422 Invalid. `kindName` is what precedes the name: `Event` or `leases.coordination.k8s.io`. */
export function invalid(kindName: string, name: string, kindDetail: string, group: string, errs: FieldError[]): ApiError {
  // errs.ToAggregate() folds identical messages; the causes keep every one.
  const parts = [...new Set(errs.map((e) => `${e.field}: ${e.detail}`))];
  const summary = parts.length === 1 ? parts[0] : `[${parts.join(", ")}]`;
  const det: StatusDetails = { name };
  if (group) det.group = group;
  det.kind = kindDetail;
  det.causes = errs.map((e) => ({ reason: e.type, message: e.detail, field: e.field }));
  return failure(422, "Invalid", `${kindName} "${name}" is invalid: ${summary}`, det);
}

/**
 * A DeleteOptions precondition that does not hold (delete, eviction). These 409s name the kind
 * (`Lease.coordination.k8s.io`, details.kind `Lease`), not the resource as other conflicts do.
 */
export function preconditionFailed(kind: string, group: string, name: string, what: "UID" | "ResourceVersion", wanted: string, actual: string): ApiError {
  const tail = what === "UID" ? "The object might have been deleted and then recreated" : "The object might have been modified";
  const det: StatusDetails = { name };
  if (group) det.group = group;
  det.kind = kind;
  return failure(409, "Conflict", `Operation cannot be fulfilled on ${group ? `${kind}.${group}` : kind} "${name}": the ${what} in the precondition (${wanted}) does not match the ${what} in record (${actual}). ${tail}`, det);
}

export const badRequest = (message: string) => failure(400, "BadRequest", message);

export const unauthorized = () => failure(401, "Unauthorized", "Unauthorized");

export function forbidden(r: QualifiedResource, name: string | undefined, why: string): ApiError {
  const subject = name ? `${qualified(r)} "${name}"` : qualified(r);
  return failure(403, "Forbidden", `${subject} is forbidden: ${why}`, details(r, name));
}

export const resourceNotFound = () =>
  failure(404, "NotFound", "the server could not find the requested resource", {});

export const unsupportedMediaType = () =>
  failure(415, "UnsupportedMediaType", "415: Unsupported Media Type", {});

export const methodNotAllowed = () =>
  failure(405, "MethodNotAllowed", `the server does not allow this method on the requested resource`, {});

export const expired = (message: string) => failure(410, "Expired", message);

export const internalError = (message: string) => failure(500, "InternalError", message);

export function tooManyRequests(message: string, retryAfterSeconds?: number): ApiError {
  const err = failure(429, "TooManyRequests", message, retryAfterSeconds ? { retryAfterSeconds } : undefined);
  if (retryAfterSeconds) err.headers["Retry-After"] = String(retryAfterSeconds);
  return err;
}

export function success(r: QualifiedResource, name: string, uid: string): StatusBody {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { ...details(r, name), uid } };
}
