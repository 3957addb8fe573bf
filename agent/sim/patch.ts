/**
 * The three patch formats the API server accepts, applied to plain JSON. Strategic merge is
 * modelled for the lists sluice and its tests touch (keyed lists below); every other list is
 * replaced whole, as for a list without a patchMergeKey.
 */
import { badRequest, failure } from "./status";

type Json = unknown;
type Obj = Record<string, Json>;

const isObj = (v: Json): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) return structuredClone(patch);
  const out: Obj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/**
 * patchMergeKey of the lists that have one, by field name (as in the Go types' struct tags).
 * Node `spec.taints` and pod `containerStatuses` have none: a strategic merge patch replaces
 * them whole (shared/k8s-golden/v1.28/24), so a client must send the complete taint list.
 */
export const mergeKeys: Record<string, string> = {
  conditions: "type",
  containers: "name",
  initContainers: "name",
  ownerReferences: "uid",
  addresses: "type",
  volumes: "name",
  env: "name",
  ports: "containerPort",
  imagePullSecrets: "name",
  podIPs: "ip",
};

/** Lists whose elements are scalars merged as a set (patchStrategy=merge without a key). */
const scalarSetLists = new Set(["finalizers"]);

export function strategicMergePatch(target: Json, patch: Json, field = ""): Json {
  if (!isObj(patch)) return structuredClone(patch);
  if (patch.$patch === "replace") {
    const rest = { ...patch };
    delete rest.$patch;
    return structuredClone(rest);
  }
  if (patch.$patch === "delete") return undefined;
  const out: Obj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === "$patch" || k.startsWith("$setElementOrder/") || k.startsWith("$deleteFromPrimitiveList/")) continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v) && mergeKeys[k]) {
      out[k] = mergeKeyedList(Array.isArray(out[k]) ? (out[k] as Json[]) : [], v, mergeKeys[k]);
    } else if (Array.isArray(v) && scalarSetLists.has(k)) {
      const cur = Array.isArray(out[k]) ? (out[k] as Json[]) : [];
      out[k] = [...cur, ...v.filter((x) => !cur.includes(x))];
    } else {
      const merged = strategicMergePatch(out[k], v, k);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith("$deleteFromPrimitiveList/") && Array.isArray(v)) {
      const name = k.slice("$deleteFromPrimitiveList/".length);
      if (Array.isArray(out[name])) out[name] = (out[name] as Json[]).filter((x) => !v.includes(x));
    }
  }
  void field;
  return out;
}

function mergeKeyedList(current: Json[], patch: Json[], key: string): Json[] {
  if (patch.some((p) => isObj(p) && p.$patch === "replace")) {
    return patch.filter((p) => !(isObj(p) && p.$patch === "replace")).map((p) => structuredClone(p));
  }
  const out = current.map((c) => structuredClone(c));
  for (const p of patch) {
    if (!isObj(p)) {
      out.push(p);
      continue;
    }
    const idx = out.findIndex((c) => isObj(c) && c[key] === p[key]);
    if (p.$patch === "delete") {
      if (idx >= 0) out.splice(idx, 1);
    } else if (idx >= 0) {
      out[idx] = strategicMergePatch(out[idx], p);
    } else {
      const fresh = { ...p };
      delete fresh.$patch;
      out.push(fresh);
    }
  }
  return out;
}

interface JsonPatchOp {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

/** RFC 6902 JSON patch; a failed `test` answers 422 as the real server does, a bad path 500. */
export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
  let doc = structuredClone(target);
  for (const raw of ops as JsonPatchOp[]) {
    const path = parsePointer(raw.path);
    switch (raw.op) {
      case "add":
        doc = setAt(doc, path, structuredClone(raw.value), "add");
        break;
      case "replace":
        getAt(doc, path);
        doc = setAt(doc, path, structuredClone(raw.value), "replace");
        break;
      case "remove":
        getAt(doc, path);
        doc = removeAt(doc, path);
        break;
      case "move": {
        const from = parsePointer(raw.from ?? "");
        const v = getAt(doc, from);
        doc = setAt(removeAt(doc, from), path, v, "add");
        break;
      }
      case "copy":
        doc = setAt(doc, path, structuredClone(getAt(doc, parsePointer(raw.from ?? ""))), "add");
        break;
      case "test":
        if (JSON.stringify(getAt(doc, path)) !== JSON.stringify(raw.value)) {
          throw failure(422, "Invalid", `the server rejected our request due to an error in our request`);
        }
        break;
      default:
        throw failure(500, undefined, `Unexpected kind: ${raw.op}`);
    }
  }
  return doc;
}

function parsePointer(p: string): string[] {
  if (p === "") return [];
  if (!p.startsWith("/")) throw failure(500, undefined, `invalid JSON pointer: ${p}`);
  return p.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function getAt(doc: Json, path: string[]): Json {
  let cur = doc;
  for (const seg of path) {
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (isObj(cur) && seg in cur) cur = cur[seg];
    else throw failure(500, undefined, `doc is missing path: "/${path.join("/")}": missing value`);
    if (cur === undefined) throw failure(500, undefined, `doc is missing path: "/${path.join("/")}": missing value`);
  }
  return cur;
}

function setAt(doc: Json, path: string[], value: Json, mode: "add" | "replace"): Json {
  if (path.length === 0) return value;
  const parent = getAt(doc, path.slice(0, -1));
  const last = path[path.length - 1];
  if (Array.isArray(parent)) {
    const i = last === "-" ? parent.length : Number(last);
    if (mode === "add") parent.splice(i, 0, value);
    else parent[i] = value;
  } else if (isObj(parent)) parent[last] = value;
  else throw failure(500, undefined, `doc is missing path: "/${path.join("/")}"`);
  return doc;
}

function removeAt(doc: Json, path: string[]): Json {
  const parent = getAt(doc, path.slice(0, -1));
  const last = path[path.length - 1];
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (isObj(parent)) delete parent[last];
  return doc;
}
