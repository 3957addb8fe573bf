/**
 * Decoding a request body into the stored (internal) form, as the server's JSON decoder and
 * field validation do it: type and apiVersion checks, Go's int32/string typing of Lease fields,
 * MicroTime's fixed layout, unknown fields dropped with a Warning (or refused under
 * `fieldValidation=Strict`), events.k8s.io converted to the core shape both groups share.
 */
import { type ResourceDef, cleanMeta, groupVersion, pruneTopLevel } from "./resources";
import { ApiError, badRequest, failure } from "./status";
import type { KObj } from "./store";
import { parseMicroTime, parseTime } from "./times";
import type { VersionProfile } from "./version";

type Obj = Record<string, any>;

export type FieldValidation = "Ignore" | "Warn" | "Strict";

export interface DecodeOptions {
  profile: VersionProfile;
  fieldValidation: FieldValidation;
  /** Warning header values collected for the response. */
  warnings: string[];
}

const knownMeta = new Set([
  "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp",
  "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers", "managedFields",
]);

const leaseSpecFields = ["holderIdentity", "leaseDurationSeconds", "acquireTime", "renewTime", "leaseTransitions", "strategy", "preferredHolder"];

const eventCoreDef = {
  fields: ["involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count", "type", "eventTime", "series", "action", "related", "reportingComponent", "reportingInstance"],
} as ResourceDef;

/**
 * A 400 in the words of the server's decoder: `Lease in version "v1" cannot be handled as a
 * Lease: …`; `why` is kept for a patch, whose decode failure is worded differently (registry.ts).
 */
export function decodeError(def: ResourceDef, version: string, why: string, bare = why) {
  return Object.assign(badRequest(`${def.kind} in version "${version}" cannot be handled as a ${def.kind}: ${why}`), { why: bare });
}

/** Turns a request body into the stored form, or throws the 400 the server would. */
export function decodeBody(def: ResourceDef, version: string, body: unknown, opts?: DecodeOptions): KObj {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest(`the object provided is unrecognized (must be of type ${def.kind}): couldn't get version/kind; json parse error`);
  }
  const b = body as Obj;
  const gv = groupVersion(def.group, version);
  if (b.apiVersion !== undefined && b.apiVersion !== gv && !def.versions.some((v) => groupVersion(def.group, v) === b.apiVersion)) {
    throw badRequest(`the API version in the data (${b.apiVersion}) does not match the expected API version (${gv})`);
  }
  if (b.kind !== undefined && b.kind !== def.kind) {
    throw badRequest(`the kind in the data (${b.kind}) does not match the expected kind (${def.kind})`);
  }
  if (b.metadata !== undefined && b.metadata !== null && (typeof b.metadata !== "object" || Array.isArray(b.metadata))) {
    throw decodeError(def, version, `json: cannot unmarshal ${goJsonType(b.metadata)} into Go struct field ${def.kind}.metadata of type v1.ObjectMeta`);
  }
  checkMetaTypes(def, version, b.metadata ?? {});
  if (opts) fieldValidation(def, version, b, opts);
  let obj: Obj = b;
  if (def.group === "events.k8s.io") obj = eventFromEventsApi(b);
  const out = pruneTopLevel(def.group === "events.k8s.io" ? eventCoreDef : def, obj) as KObj;
  if (def.kind === "Lease") decodeLease(out, def, version, opts?.profile);
  if (def.kind === "Event") decodeEventTimes(out, def, version);
  return out;
}

/** Unknown fields: one Warning each (1.27+ default), a 400 naming them all under Strict. */
function fieldValidation(def: ResourceDef, version: string, b: Obj, opts: DecodeOptions): void {
  if (!opts.profile.fieldValidation || opts.fieldValidation === "Ignore") return;
  const unknown: string[] = [];
  const top = new Set(["apiVersion", "kind", "metadata", ...def.fields]);
  for (const k of Object.keys(b)) {
    if (!top.has(k)) unknown.push(k);
    else if (k === "metadata" && b.metadata && typeof b.metadata === "object") {
      for (const m of Object.keys(b.metadata)) if (!knownMeta.has(m)) unknown.push(`metadata.${m}`);
    } else if (k === "spec" && def.kind === "Lease" && b.spec && typeof b.spec === "object" && !Array.isArray(b.spec)) {
      for (const s of Object.keys(b.spec)) if (!leaseSpecFields.includes(s)) unknown.push(`spec.${s}`);
    }
  }
  if (!unknown.length) return;
  if (opts.fieldValidation === "Strict") throw decodeError(def, version, `strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(", ")}`);
  for (const f of unknown) opts.warnings.push(`299 - ${JSON.stringify(`unknown field "${f}"`)}`);
}

/** The words encoding/json uses for a JSON value's type. */
function goJsonType(v: unknown): string {
  if (typeof v === "number") return `number ${v}`;
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "array";
  if (v === null) return "null";
  return typeof v === "object" ? "object" : "string";
}

function checkMetaTypes(def: ResourceDef, version: string, meta: Obj): void {
  for (const f of ["name", "generateName", "namespace", "resourceVersion", "uid"]) {
    const v = meta[f];
    if (v !== undefined && v !== null && typeof v !== "string") {
      throw decodeError(def, version, `json: cannot unmarshal ${goJsonType(v).split(" ")[0]} into Go struct field ObjectMeta.metadata.${f} of type string`);
    }
  }
  for (const f of ["labels", "annotations"]) {
    const v = meta[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== "object" || Array.isArray(v)) throw decodeError(def, version, `json: cannot unmarshal ${goJsonType(v).split(" ")[0]} into Go struct field ObjectMeta.metadata.${f} of type map[string]string`);
    for (const x of Object.values(v)) {
      if (x !== null && typeof x !== "string") throw decodeError(def, version, `json: cannot unmarshal ${goJsonType(x).split(" ")[0]} into Go struct field ObjectMeta.metadata.${f} of type string`);
    }
  }
}

const INT32_MAX = 2_147_483_647;

function decodeLease(lease: KObj, def: ResourceDef, version: string, profile: VersionProfile | undefined): void {
  if (lease.spec === undefined || lease.spec === null) return;
  if (typeof lease.spec !== "object" || Array.isArray(lease.spec)) {
    throw decodeError(def, version, `json: cannot unmarshal ${goJsonType(lease.spec).split(" ")[0]} into Go struct field Lease.spec of type v1.LeaseSpec`);
  }
  const spec: Obj = {};
  for (const f of leaseSpecFields) if (lease.spec[f] !== undefined && lease.spec[f] !== null) spec[f] = lease.spec[f];
  for (const f of ["leaseDurationSeconds", "leaseTransitions"]) {
    const v = spec[f];
    if (v === undefined) continue;
    if (typeof v !== "number") throw decodeError(def, version, `json: cannot unmarshal ${goJsonType(v).split(" ")[0]} into Go struct field LeaseSpec.spec.${f} of type int32`);
    if (!Number.isInteger(v) || v > INT32_MAX || v < -INT32_MAX - 1) throw decodeError(def, version, `json: cannot unmarshal number ${v} into Go struct field LeaseSpec.spec.${f} of type int32`);
  }
  for (const f of ["holderIdentity", "strategy", "preferredHolder"]) {
    if (spec[f] !== undefined && typeof spec[f] !== "string") throw decodeError(def, version, `json: cannot unmarshal ${goJsonType(spec[f]).split(" ")[0]} into Go struct field LeaseSpec.spec.${f} of type string`);
  }
  for (const f of ["acquireTime", "renewTime"]) {
    if (spec[f] === undefined) continue;
    const parsed = typeof spec[f] === "string" ? parseMicroTime(spec[f]) : { ok: false as const, why: `json: cannot unmarshal ${typeof spec[f]} into Go value of type string` };
    if (!parsed.ok) {
      // 1.20's json-iterator named the Go field path; 1.24+ quotes only the time error.
      const path = profile?.jsonIterDecodeErrors ? `v1.Lease.Spec: v1.LeaseSpec.${f === "renewTime" ? "RenewTime" : "AcquireTime"}: unmarshalerDecoder: ` : "";
      throw decodeError(def, version, `${path}${parsed.why}`, parsed.why);
    }
    spec[f] = parsed.value;
  }
  lease.spec = spec;
}

function decodeEventTimes(ev: KObj, def: ResourceDef, version: string): void {
  for (const f of ["firstTimestamp", "lastTimestamp"]) {
    if (ev[f] === undefined || ev[f] === null) continue;
    const t = typeof ev[f] === "string" ? parseTime(ev[f]) : undefined;
    if (!t) throw decodeError(def, version, `parsing time ${JSON.stringify(ev[f])} as "2006-01-02T15:04:05Z07:00": cannot parse`);
    ev[f] = t;
  }
  for (const [holder, f] of [[ev, "eventTime"], [ev.series ?? {}, "lastObservedTime"]] as [Obj, string][]) {
    if (holder[f] === undefined || holder[f] === null) continue;
    const p = typeof holder[f] === "string" ? parseMicroTime(holder[f]) : { ok: false as const, why: "not a string" };
    if (!p.ok) throw decodeError(def, version, p.why);
    holder[f] = p.value;
  }
}

/** events.k8s.io → the core shape the store keeps (both groups share one storage, as upstream). */
function eventFromEventsApi(b: Obj): Obj {
  const o: Obj = { metadata: b.metadata };
  if (b.regarding !== undefined) o.involvedObject = b.regarding;
  if (b.note !== undefined) o.message = b.note;
  if (b.deprecatedSource !== undefined) o.source = b.deprecatedSource;
  if (b.deprecatedFirstTimestamp !== undefined) o.firstTimestamp = b.deprecatedFirstTimestamp;
  if (b.deprecatedLastTimestamp !== undefined) o.lastTimestamp = b.deprecatedLastTimestamp;
  if (b.deprecatedCount !== undefined) o.count = b.deprecatedCount;
  if (b.reportingController !== undefined) o.reportingComponent = b.reportingController;
  for (const f of ["reason", "type", "eventTime", "series", "action", "related", "reportingInstance"]) if (b[f] !== undefined) o[f] = b[f];
  return o;
}

/**
 * A patched object that does not decode is 422 Invalid on field `patch`, quoting the patched
 * object, with neither kind nor name in the details.
 */
export function patchDecodeFailure(err: unknown, patched: unknown): unknown {
  const why = (err as { why?: string }).why;
  if (!(err instanceof ApiError) || err.code !== 400 || why === undefined) return err;
  const { apiVersion, kind, ...rest } = (patched ?? {}) as Obj;
  const js = JSON.stringify({ apiVersion, kind, ...rest });
  const detail = `Invalid value: ${JSON.stringify(js)}: ${why}`;
  return failure(422, "Invalid", ` "" is invalid: patch: ${detail}`, { causes: [{ reason: "FieldValueInvalid", message: detail, field: "patch" }] });
}

export { cleanMeta };
