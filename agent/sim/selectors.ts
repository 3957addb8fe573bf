/**
 * Label and field selectors as the API server parses them from query strings, and the
 * LabelSelector objects (matchLabels/matchExpressions) that PDBs carry.
 */
import { badRequest } from "./status";

export type Labels = Record<string, string> | undefined;

export interface Requirement {
  key: string;
  op: "=" | "!=" | "in" | "notin" | "exists" | "!";
  values: string[];
}

export type Selector = (labels: Labels) => boolean;

export const everything: Selector = () => true;
export const nothing: Selector = () => false;

/** Parses `a=b,c!=d,e in (x,y),!f,g` (the query-string syntax). Throws a 400 ApiError when malformed. */
export function parseLabelSelector(text: string | null | undefined): Requirement[] {
  if (!text || !text.trim()) return [];
  const reqs: Requirement[] = [];
  for (const part of splitTopLevel(text)) {
    const s = part.trim();
    if (!s) throw badRequest(`unable to parse requirement: found '', expected: identifier`);
    let m: RegExpMatchArray | null;
    if ((m = s.match(/^([^\s!=(),]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      reqs.push({ key: checkKey(m[1]), op: m[2] as "in" | "notin", values: m[3].split(",").map((v) => v.trim()).filter(Boolean) });
    } else if ((m = s.match(/^!\s*([^\s!=(),]+)$/))) {
      reqs.push({ key: checkKey(m[1]), op: "!", values: [] });
    } else if ((m = s.match(/^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/))) {
      reqs.push({ key: checkKey(m[1]), op: m[2] === "!=" ? "!=" : "=", values: [m[3]] });
    } else if ((m = s.match(/^([^\s!=(),]+)$/))) {
      reqs.push({ key: checkKey(m[1]), op: "exists", values: [] });
    } else {
      throw badRequest(`unable to parse requirement: ${s}`);
    }
  }
  return reqs;
}

function checkKey(key: string): string {
  if (!/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(key)) {
    throw badRequest(`unable to parse requirement: invalid label key "${key}"`);
  }
  return key;
}

function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export function matchRequirements(reqs: Requirement[], labels: Labels): boolean {
  const l = labels ?? {};
  for (const r of reqs) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case "=":
        if (!has || v !== r.values[0]) return false;
        break;
      case "!=":
        if (has && v === r.values[0]) return false;
        break;
      case "in":
        if (!has || !r.values.includes(v)) return false;
        break;
      case "notin":
        if (has && r.values.includes(v)) return false;
        break;
      case "exists":
        if (!has) return false;
        break;
      case "!":
        if (has) return false;
        break;
    }
  }
  return true;
}

export function labelSelector(text: string | null | undefined): Selector {
  const reqs = parseLabelSelector(text);
  return reqs.length === 0 ? everything : (labels) => matchRequirements(reqs, labels);
}

export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/**
 * A LabelSelector object. `emptyMatches` is the one place where API versions differ:
 * policy/v1 PDBs treat an empty selector as "every pod", policy/v1beta1 as "no pod".
 */
export function selectorFromObject(sel: LabelSelectorObject | null | undefined, emptyMatches: boolean): Selector {
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) reqs.push({ key: k, op: "=", values: [v] });
  for (const e of sel?.matchExpressions ?? []) {
    const op = { In: "in", NotIn: "notin", Exists: "exists", DoesNotExist: "!" }[e.operator] as Requirement["op"] | undefined;
    if (!op) return nothing;
    reqs.push({ key: e.key, op, values: e.values ?? [] });
  }
  if (!sel || reqs.length === 0) return emptyMatches ? everything : nothing;
  return (labels) => matchRequirements(reqs, labels);
}

/** Fields a field selector may name, per resource, and how to read them. */
export type FieldGetter = (obj: Record<string, any>) => string | undefined;

const commonFields: Record<string, FieldGetter> = {
  "metadata.name": (o) => o.metadata?.name,
  "metadata.namespace": (o) => o.metadata?.namespace ?? "",
};

export const fieldsByResource: Record<string, Record<string, FieldGetter>> = {
  pods: {
    "spec.nodeName": (o) => o.spec?.nodeName ?? "",
    "spec.restartPolicy": (o) => o.spec?.restartPolicy,
    "spec.schedulerName": (o) => o.spec?.schedulerName,
    "spec.serviceAccountName": (o) => o.spec?.serviceAccountName ?? "",
    "status.phase": (o) => o.status?.phase ?? "",
    "status.podIP": (o) => o.status?.podIP ?? "",
    "status.nominatedNodeName": (o) => o.status?.nominatedNodeName ?? "",
  },
  nodes: { "spec.unschedulable": (o) => String(Boolean(o.spec?.unschedulable)) },
  events: {
    "involvedObject.kind": (o) => o.involvedObject?.kind ?? "",
    "involvedObject.name": (o) => o.involvedObject?.name ?? "",
    "involvedObject.namespace": (o) => o.involvedObject?.namespace ?? "",
    "involvedObject.uid": (o) => o.involvedObject?.uid ?? "",
    reason: (o) => o.reason ?? "",
    source: (o) => o.source?.component ?? "",
    type: (o) => o.type ?? "",
  },
};

export type ObjectSelector = (obj: Record<string, any>) => boolean;

/** `spec.nodeName=node-a,status.phase!=Running`. Unknown fields answer 400 as the real server does. */
export function fieldSelector(text: string | null | undefined, resource: string, kind: string, version: string): ObjectSelector {
  if (!text || !text.trim()) return () => true;
  const fields = { ...commonFields, ...(fieldsByResource[resource] ?? {}) };
  const tests: ObjectSelector[] = [];
  for (const part of text.split(",")) {
    const m = part.trim().match(/^([^=!]+?)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
    const getter = fields[m[1]];
    if (!getter) throw badRequest(`field label not supported: ${m[1]}`);
    const want = m[3];
    const neg = m[2] === "!=";
    tests.push((o) => (getter(o) === want) !== neg);
  }
  void kind;
  void version;
  return (o) => tests.every((t) => t(o));
}
