/**
 * The strategies' validation the recorded servers ran on what sluice writes: object names,
 * label keys and values (a `:` in a value is 422, so times belong in annotations), annotation
 * size, Node taints, Lease durations. Messages are apimachinery's; every failure is one 422.
 */
import type { ResourceDef } from "./resources";
import { type FieldError, invalid, invalidValue, requiredValue } from "./status";
import type { KObj } from "./store";

type Obj = Record<string, any>;

const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const nameMsg =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const valueMsg =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const subdomainMsg =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const labelMsg =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

/** IsQualifiedName: `[prefix/]name`, the prefix a DNS subdomain. Returns the problems, empty when fine. */
export function qualifiedNameProblems(key: string): string[] {
  const parts = key.split("/");
  let name = key;
  const out: string[] = [];
  if (parts.length === 2) {
    const [prefix, n] = parts;
    name = n;
    if (prefix.length === 0) out.push("prefix part must be non-empty");
    else {
      if (prefix.length > 253) out.push("prefix part must be no more than 253 characters");
      if (!DNS1123_SUBDOMAIN.test(prefix)) out.push(`prefix part ${subdomainMsg}`);
    }
  } else if (parts.length > 2) {
    return [
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) out.push("name part must be non-empty");
  else if (name.length > 63) out.push("name part must be no more than 63 characters");
  if (name.length && !NAME_PART.test(name)) out.push(nameMsg);
  return out;
}

export function labelValueProblems(value: string): string[] {
  const out: string[] = [];
  if (value.length > 63) out.push("must be no more than 63 characters");
  if (!LABEL_VALUE.test(value)) out.push(valueMsg);
  return out;
}

/** ValidateLabels/annotations/name of ObjectMeta. `repeat`: how often the strategy ran it (as recorded). */
export function metaErrors(def: ResourceDef, meta: Obj, repeat = 1): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries((meta.labels ?? {}) as Record<string, string>)) {
    for (const p of qualifiedNameProblems(k)) errs.push(invalidValue("metadata.labels", k, p));
    for (const p of labelValueProblems(String(v ?? ""))) errs.push(invalidValue("metadata.labels", String(v ?? ""), p));
  }
  let size = 0;
  for (const [k, v] of Object.entries((meta.annotations ?? {}) as Record<string, string>)) {
    for (const p of qualifiedNameProblems(k.toLowerCase())) errs.push(invalidValue("metadata.annotations", k, p));
    size += k.length + String(v ?? "").length;
  }
  if (size > 262_144) errs.push({ type: "FieldValueTooLong", field: "metadata.annotations", detail: "Too long: must have at most 262144 bytes" });
  const all: FieldError[] = [];
  for (let i = 0; i < repeat; i++) all.push(...errs);
  const name: string | undefined = meta.name;
  if (name && !def.group.startsWith("rbac.")) {
    const ok = def.kind === "Namespace" ? DNS1123_LABEL.test(name) && name.length <= 63 : DNS1123_SUBDOMAIN.test(name) && name.length <= 253;
    if (!ok) all.unshift(invalidValue("metadata.name", name, def.kind === "Namespace" ? labelMsg : subdomainMsg));
  }
  return all;
}

const EFFECTS = ["NoExecute", "NoSchedule", "PreferNoSchedule"];

/** validateNodeTaints; the recorded server names the field `metadata.taints` (sic). */
export function taintErrors(taints: unknown): FieldError[] {
  if (!Array.isArray(taints)) return [];
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  taints.forEach((t: Obj, i) => {
    const at = `metadata.taints[${i}]`;
    const key = typeof t?.key === "string" ? t.key : "";
    for (const p of qualifiedNameProblems(key)) errs.push(invalidValue(`${at}.key`, key, p));
    if (t?.value !== undefined && t.value !== null) for (const p of labelValueProblems(String(t.value))) errs.push(invalidValue(`${at}.value`, String(t.value), p));
    if (!t?.effect) errs.push(requiredValue(`${at}.effect`));
    else if (!EFFECTS.includes(t.effect)) {
      errs.push({ type: "FieldValueNotSupported", field: `${at}.effect`, detail: `Unsupported value: ${JSON.stringify(t.effect)}: supported values: ${EFFECTS.map((e) => JSON.stringify(e)).join(", ")}` });
    }
    const id = `${key}:${t?.effect ?? ""}`;
    if (t?.effect && seen.has(id)) errs.push({ type: "FieldValueDuplicate", field: at, detail: `Duplicate value: ${JSON.stringify(key)}: taints must be unique by key and effect pair` });
    seen.add(id);
  });
  return errs;
}

/** ValidateLeaseSpec. */
export function leaseErrors(lease: KObj): FieldError[] {
  const spec: Obj = lease.spec ?? {};
  const errs: FieldError[] = [];
  if (typeof spec.leaseDurationSeconds === "number" && spec.leaseDurationSeconds <= 0) errs.push(invalidValue("spec.leaseDurationSeconds", spec.leaseDurationSeconds, "must be greater than 0"));
  if (typeof spec.leaseTransitions === "number" && spec.leaseTransitions < 0) errs.push(invalidValue("spec.leaseTransitions", spec.leaseTransitions, "must be greater than or equal to 0"));
  return errs;
}

/**
 * Everything above for one object about to be stored. A Node's labels were validated four times
 * and its taints twice on update (ValidateNode twice, each with ObjectMeta twice), once/twice on
 * create: the causes list repeats as the recorded 422s do; the message names each once.
 */
export function validateObject(def: ResourceDef, obj: KObj, update: boolean): void {
  const node = def.kind === "Node";
  const errs = metaErrors(def, obj.metadata ?? {}, node ? (update ? 4 : 2) : 1);
  if (node) {
    const t = taintErrors(obj.spec?.taints);
    errs.push(...t, ...(update ? t : []));
  }
  if (def.kind === "Lease") errs.push(...leaseErrors(obj));
  if (!errs.length) return;
  const kindName = def.group ? `${def.kind}.${def.group}` : def.kind;
  throw invalid(kindName, obj.metadata?.name ?? "", def.kind, def.group, errs);
}
