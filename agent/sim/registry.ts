/**
 * The generic REST registry: get, list, create, update, patch and delete with kube-apiserver's
 * semantics (preconditions, no-op updates that do not bump the resourceVersion, status
 * subresources, generation, graceful pod deletion, paged lists with continue tokens).
 */
import { randomUUID } from "node:crypto";
import type { Clock } from "../ports/clock";
import { type DecodeOptions, type FieldValidation, decodeBody, patchDecodeFailure } from "./decode";
import { ServiceAccountMissing, defaultOnCreate, normalizePodStatus, render, validateEvent } from "./kinds";
import { jsonPatch, mergePatch, strategicMergePatch } from "./patch";
import { type ResourceDef, groupVersion, resources } from "./resources";
import { fieldSelector, labelSelector } from "./selectors";
import {
  ApiError, alreadyExists, badRequest, conflict, expired, failure, forbidden, invalid, invalidValue, notFound,
  preconditionFailed, requiredValue, success, unsupportedMediaType,
} from "./status";
import { type KObj, Store, objectKey } from "./store";
import { formatTime } from "./times";
import { decodeContinue, encodeContinue } from "./continue-token";
import { deepEqual } from "./equal";
import { validateObject } from "./validate";
import { type VersionProfile, versionProfile } from "./version";

type Obj = Record<string, any>;

export interface Target {
  def: ResourceDef;
  version: string;
  namespace: string;
  name: string;
  subresource: string;
}

const nsDef = resources.find((r) => r.plural === "namespaces")!;
const saStorage = "/serviceaccounts";

/** What one request asks of a write besides its body. */
export interface WriteOptions {
  fieldValidation?: FieldValidation;
  /** Warning header values for the response (unknown fields). */
  warnings?: string[];
  /** dryRun=All: everything up to the write, nothing stored. */
  dryRun?: boolean;
  /** Admission on the object about to be stored (NodeRestriction); runs before validation, as mutating admission does. */
  admit?: (next: KObj, cur: KObj | undefined) => void;
}

export class Registry {
  constructor(
    readonly store: Store,
    readonly clock: Clock,
    readonly profile: VersionProfile = versionProfile(),
    /** Draws generateName suffixes: the names order lists, so a seeded run names its pods alike. */
    private readonly random: () => number = Math.random,
  ) {}

  private decodeOptions(w: WriteOptions): DecodeOptions {
    return { profile: this.profile, fieldValidation: w.fieldValidation ?? "Warn", warnings: w.warnings ?? [] };
  }

  /** Stores unless dry-run; a dry-run answer carries what would have been stored. */
  private write(t: Target, type: "ADDED" | "MODIFIED" | "DELETED", obj: KObj, w: WriteOptions): KObj {
    if (w.dryRun) return obj;
    return this.store.write(t.def.storage, type, obj);
  }

  qr(def: ResourceDef) {
    return { group: def.group, resource: def.plural };
  }

  key(def: ResourceDef, namespace: string, name: string): string {
    return def.namespaced ? `${namespace}/${name}` : name;
  }

  current(t: Target): KObj {
    const obj = this.store.get(t.def.storage, this.key(t.def, t.namespace, t.name));
    if (!obj) throw notFound(this.qr(t.def), t.name);
    return obj;
  }

  get(t: Target): Obj {
    return render(t.def, t.version, this.current(t));
  }

  list(t: Target, q: URLSearchParams): Obj {
    const labels = labelSelector(q.get("labelSelector"));
    const fields = fieldSelector(q.get("fieldSelector"), t.def.plural, t.def.kind, t.version);
    const rvParam = q.get("resourceVersion");
    if (q.get("resourceVersionMatch") === "Exact" && rvParam && Number(rvParam) < this.store.compactedRev) {
      throw expired("The resourceVersion for the provided list is too old.");
    }
    let listRv = this.store.currentRv();
    let start = "";
    const cont = q.get("continue");
    if (cont) {
      const tok = decodeContinue(cont);
      if (tok.rv < this.store.compactedRev) {
        const err = expired(
          "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
        );
        err.body.metadata = { continue: encodeContinue(-1, tok.start) };
        throw err;
      }
      listRv = tok.rv;
      start = tok.start;
    }
    const relKey = (o: KObj) => (t.namespace ? o.metadata.name : objectKey(o));
    let items = this.store.list(t.def.storage, t.def.namespaced && t.namespace ? t.namespace : undefined, (o) => relKey(o) >= start && labels(o.metadata.labels) && fields(o));
    const meta: Obj = { resourceVersion: String(listRv) };
    const limit = Number(q.get("limit") ?? 0);
    if (limit > 0 && items.length > limit) {
      const rest = items.length - limit;
      items = items.slice(0, limit);
      meta.continue = encodeContinue(listRv, relKey(items[items.length - 1]) + "\u0000");
      if (!q.get("labelSelector") && !q.get("fieldSelector")) meta.remainingItemCount = rest;
    }
    return {
      kind: `${t.def.kind}List`,
      apiVersion: groupVersion(t.def.group, t.version),
      metadata: meta,
      items: items.map((o) => render(t.def, t.version, o, false)),
    };
  }

  create(t: Target, body: unknown, w: WriteOptions = {}): Obj {
    const obj = decodeBody(t.def, t.version, body, this.decodeOptions(w));
    return this.createDecoded(t, obj, w);
  }

  private createDecoded(t: Target, obj: KObj, w: WriteOptions): Obj {
    const meta = obj.metadata;
    if (t.def.namespaced) {
      if (meta.namespace && meta.namespace !== t.namespace) throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
      meta.namespace = t.namespace;
    } else delete meta.namespace;
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomSuffix(this.random);
    if (!meta.name) throw invalid(t.def.group ? `${t.def.kind}.${t.def.group}` : t.def.kind, "", t.def.kind, t.def.group, [{ ...requiredValue("metadata.name"), detail: "Required value: name or generateName is required" }]);
    w.admit?.(obj, undefined);
    if (t.def.namespaced && !this.store.get(nsDef.storage, t.namespace)) throw notFound({ group: "", resource: "namespaces" }, t.namespace);
    if (this.store.get(t.def.storage, this.key(t.def, t.namespace, meta.name))) throw alreadyExists(this.qr(t.def), meta.name);
    try {
      defaultOnCreate(t.def, obj, {
        serviceAccountExists: (ns, name) => Boolean(this.store.get(saStorage, `${ns}/${name}`)),
        namespaceNameLabel: this.profile.namespaceNameLabel,
      });
    } catch (err) {
      if (err instanceof ServiceAccountMissing) throw forbidden(this.qr(t.def), meta.name, err.message);
      throw err;
    }
    validateObject(t.def, obj, false);
    if (t.def.kind === "Event") validateEvent(obj, t.def.group, t.version, this.profile.clusterEventsInDefault);
    meta.uid = randomUUID();
    meta.creationTimestamp = formatTime(this.clock.now());
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (t.def.hasGeneration) meta.generation = 1;
    else delete meta.generation;
    return render(t.def, t.version, this.write(t, "ADDED", obj, w));
  }

  /** PUT: the object as sent replaces the stored one, subject to its resourceVersion. */
  update(t: Target, body: unknown, w: WriteOptions = {}): { code: number; body: Obj } {
    const incoming = decodeBody(t.def, t.version, body, this.decodeOptions(w));
    const name = incoming.metadata.name ?? t.name;
    if (name !== t.name) throw badRequest(`the name of the object (${name}) does not match the name on the URL (${t.name})`);
    const existing = this.store.get(t.def.storage, this.key(t.def, t.namespace, t.name));
    // AllowCreateOnUpdate (Leases, Events, RBAC): a PUT to a missing object creates it, whatever
    // resourceVersion it carries — a holder renewing with PUT revives a Lease an admin deleted.
    if (!existing && t.def.allowCreateOnUpdate) {
      incoming.metadata.name = t.name;
      return { code: 201, body: this.createDecoded(t, incoming, w) };
    }
    const cur = this.current(t);
    const rv = incoming.metadata.resourceVersion;
    if (!rv && !t.def.allowUnconditionalUpdate) {
      throw invalid(`${t.def.plural}${t.def.group ? "." + t.def.group : ""}`, t.name, t.def.plural, t.def.group, [
        invalidValue("metadata.resourceVersion", undefined, "must be specified for an update"),
      ]);
    }
    if (rv && rv !== cur.metadata.resourceVersion) throw conflict(this.qr(t.def), t.name);
    return { code: 200, body: this.commit(t, cur, incoming, w) };
  }

  patch(t: Target, body: unknown, contentType: string, w: WriteOptions = {}): Obj {
    const cur = this.current(t);
    const base = render(t.def, t.version, cur);
    let patched: unknown;
    switch (contentType) {
      case "application/merge-patch+json":
        patched = mergePatch(base, body);
        break;
      case "application/strategic-merge-patch+json":
        patched = strategicMergePatch(base, body);
        break;
      case "application/json-patch+json":
        patched = jsonPatch(base, body);
        break;
      default:
        throw unsupportedMediaType();
    }
    let incoming: KObj;
    try {
      incoming = decodeBody(t.def, t.version, patched, this.decodeOptions(w));
    } catch (err) {
      throw patchDecodeFailure(err, patched);
    }
    const rv = incoming.metadata.resourceVersion;
    if (rv && rv !== cur.metadata.resourceVersion) throw conflict(this.qr(t.def), t.name);
    return this.commit(t, cur, incoming, w);
  }

  /** Writes `incoming` over `cur` unless nothing changed (then, like the real server, no new resourceVersion). */
  private commit(t: Target, cur: KObj, incoming: KObj, w: WriteOptions): Obj {
    const next: KObj = { ...structuredClone(cur) };
    const keep = ["uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds", "namespace", "name", "resourceVersion"];
    const meta: Obj = { ...incoming.metadata };
    for (const k of keep) {
      if (cur.metadata[k] !== undefined) meta[k] = cur.metadata[k];
      else delete meta[k];
    }
    if (t.subresource === "status") {
      next.status = incoming.status;
    } else {
      for (const k of Object.keys(next)) if (k !== "status" && k !== "metadata") delete next[k];
      for (const [k, v] of Object.entries(incoming)) if (k !== "status" && k !== "metadata") next[k] = v;
      if (!t.def.subresources.includes("status") && incoming.status !== undefined) next.status = incoming.status;
      next.metadata = meta;
      if (t.def.hasGeneration && !deepEqual(cur.spec, next.spec)) next.metadata.generation = (cur.metadata.generation ?? 0) + 1;
    }
    if (t.def.kind === "Pod" && next.status) next.status = normalizePodStatus(next.status);
    if (t.def.kind === "Namespace" && this.profile.namespaceNameLabel) next.metadata.labels = { ...(next.metadata.labels ?? {}), "kubernetes.io/metadata.name": next.metadata.name };
    w.admit?.(next, cur);
    validateObject(t.def, next, true);
    if (t.def.kind === "Event") validateEvent(next, t.def.group, t.version, this.profile.clusterEventsInDefault);
    if (deepEqual(next, cur)) return render(t.def, t.version, cur);
    return render(t.def, t.version, this.write(t, "MODIFIED", next, w));
  }

  /** DeleteOptions.preconditions, as the store checks them: uid first, then resourceVersion. */
  checkPreconditions(t: Target, cur: KObj, pre: Obj | undefined): void {
    if (!pre || typeof pre !== "object") return;
    if (pre.uid && pre.uid !== cur.metadata.uid) throw preconditionFailed(t.def.kind, t.def.group, t.name, "UID", pre.uid, cur.metadata.uid);
    if (pre.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion) {
      throw preconditionFailed(t.def.kind, t.def.group, t.name, "ResourceVersion", pre.resourceVersion, cur.metadata.resourceVersion);
    }
  }

  delete(t: Target, q: URLSearchParams, body: unknown, w: WriteOptions = {}): { code: number; body: Obj } {
    const cur = this.current(t);
    const opts = (body && typeof body === "object" ? body : {}) as Obj;
    this.checkPreconditions(t, cur, opts.preconditions);
    if (t.def.kind !== "Pod") {
      this.write(t, "DELETED", { ...cur, metadata: { ...cur.metadata } }, w);
      return { code: 200, body: success(this.qr(t.def), t.name, cur.metadata.uid) };
    }
    const qGrace = q.get("gracePeriodSeconds");
    let grace = qGrace !== null ? Number(qGrace) : typeof opts.gracePeriodSeconds === "number" ? opts.gracePeriodSeconds : undefined;
    return { code: 200, body: render(t.def, t.version, this.deletePod(cur, grace)) };
  }

  /**
   * Graceful deletion as the pod strategy does it: unbound or finished pods go at once; a bound
   * pod is marked Terminating until its kubelet confirms (the sim's kubelet, or grace 0).
   */
  deletePod(cur: KObj, requestedGrace: number | undefined): KObj {
    let grace = requestedGrace ?? cur.spec?.terminationGracePeriodSeconds ?? 30;
    if (grace < 0) grace = 1;
    const phase = cur.status?.phase;
    if (!cur.spec?.nodeName || phase === "Succeeded" || phase === "Failed") grace = 0;
    const existing = cur.metadata.deletionGracePeriodSeconds;
    if (cur.metadata.deletionTimestamp && grace !== 0 && existing !== undefined && grace >= existing) return cur;
    const now = this.clock.now();
    const next: KObj = { ...cur, metadata: { ...cur.metadata, deletionGracePeriodSeconds: grace } };
    if (grace === 0) {
      next.metadata.deletionTimestamp = formatTime(now);
      return this.store.write("/pods", "DELETED", next);
    }
    next.metadata.deletionTimestamp = formatTime(now + grace * 1000);
    return this.store.write("/pods", "MODIFIED", next);
  }

  /** For controllers: replace a stored object without the HTTP layer (bumps the resourceVersion). */
  writeInternal(storage: string, obj: KObj): KObj {
    return this.store.write(storage, "MODIFIED", obj);
  }
}

/** apiserver's names.SimpleNameGenerator: 5 characters from utilrand's alphabet. */
function randomSuffix(random: () => number): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  let s = "";
  // Clamped: a scripted source may answer 1, or anything, and a name must still come out.
  for (let i = 0; i < 5; i++) s += alphabet[Math.min(alphabet.length - 1, Math.max(0, Math.floor(random() * alphabet.length) || 0))];
  return s;
}

export { ApiError };
