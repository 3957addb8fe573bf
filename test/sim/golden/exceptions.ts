/**
 * Every golden step the sim does not answer exactly as recorded, with the reason, per set:
 * `exceptions120` for the top-level v1.20.2 transcripts (replayed against the sim's "1.20" mode)
 * and `exceptions128` for v1.28/ (the default mode). "not-modelled": the sim does not serve it.
 * "loosened": named fields compared loosely. Every other field, status code, Retry-After and
 * Warning header is compared.
 */
import type { Loosen } from "./compare";

export interface Recorded {
  status: number;
  body: any;
}

export interface StepException {
  kind: "not-modelled" | "loosened";
  reason: string;
  /** What the sim must answer instead, derived from the recording (everything else still compared). */
  expect?: (rec: Recorded, golden: (file: string, step: number) => Recorded) => Recorded;
  loosen?: Loosen;
}

/** json-iterator (1.20) quoted request bytes in decode errors; the bad value must still be named. */
const decodeMessage: Loosen = (path, e, a) => {
  if (path !== "message") return undefined;
  const quoted = /parsing time (".*?")/.exec(String(e))?.[1];
  const ok = typeof a === "string" && a.startsWith('Lease in version "v1" cannot be handled as a Lease: ') && Boolean(quoted) && a.includes(quoted!);
  return ok ? "ok" : `message ${JSON.stringify(a)} does not name the bad value ${quoted}`;
};

/** metadata.name of a generateName object is random: generateName plus 5 characters. */
const generatedName = (prefix: string, path = "metadata.name"): Loosen => (p, e, a) =>
  p === path ? (typeof a === "string" && new RegExp(`^${prefix.replace(".", "\\.")}[a-z0-9]{5}$`).test(a) ? "ok" : `bad generated name ${String(a)} for ${String(e)}`) : undefined;

/** What the sim serves in core/v1; the recordings list every core resource of a full server. */
const servedCore = new Set([
  "events", "namespaces", "namespaces/status", "nodes", "nodes/status", "pods", "pods/eviction", "pods/status",
  "secrets", "serviceaccounts", "serviceaccounts/token",
]);

const onlyServedCore = (r: Recorded): Recorded => ({ status: 200, body: { ...r.body, resources: r.body.resources.filter((x: any) => servedCore.has(x.name)) } });

export const exceptions120: Record<string, StepException> = {
  "02#1": { kind: "loosened", reason: "400 decode-error message: json-iterator's byte snippets are not reproduced (README: match code/reason); the bad value must still be quoted", loosen: decodeMessage },
  "02#2": { kind: "loosened", reason: "400 decode-error message, loosened as in 02#1", loosen: decodeMessage },
  "02#3": { kind: "loosened", reason: "400 decode-error message, loosened as in 02#1", loosen: decodeMessage },
  "13#4": { kind: "loosened", reason: "metadata.name of a generateName object is random (volatile in the file): generateName plus 5 characters", loosen: generatedName("node-a.") },
  "11#6": {
    kind: "not-modelled",
    reason: "PodSecurityPolicy is not served (removed in 1.25); the PDB entries are compared",
    expect: (r) => ({ status: 200, body: { ...r.body, resources: r.body.resources.filter((x: any) => !x.name.startsWith("podsecuritypolicies")) } }),
  },
  "11#7": { kind: "not-modelled", reason: "only the core resources the sim serves are listed; those entries are compared (pods/eviction as policy/v1beta1)", expect: onlyServedCore },
};

/** The 422 of a merge patch with a bad MicroTime quotes the whole patched object, managedFields and all. */
const patchQuote: Loosen = (path, e, a) => {
  if (path !== "message" && path !== "details.causes[0].message") return undefined;
  const tail = /": (parsing time .*)$/.exec(String(e))?.[1];
  const start = path === "message" ? ' "" is invalid: patch: Invalid value: "' : 'Invalid value: "';
  const ok = typeof a === "string" && Boolean(tail) && a.startsWith(start) && a.endsWith(`": ${tail}`) && a.includes('\\"renewTime\\":\\"2026-11-25T03:40:16.123Z\\"');
  return ok ? "ok" : `${JSON.stringify(a)} is not the patch 422 quoting the patched Lease and ending ${JSON.stringify(tail)}`;
};

export const exceptions128: Record<string, StepException> = {
  "11#8": { kind: "not-modelled", reason: "only the core resources the sim serves are listed; those entries are compared", expect: onlyServedCore },
  "13#4": { kind: "loosened", reason: "metadata.name of a generateName object is random (volatile in the file): generateName plus 5 characters", loosen: generatedName("node-a.") },
  "22#10": { kind: "loosened", reason: "the list holds 13#4's generateName Event, whose name is random", loosen: generatedName("node-a.", "items[5].metadata.name") },
  "21#10": {
    kind: "loosened",
    reason: "the 422 quotes the patched object as the server holds it, with managedFields the sim does not keep (volatile in the file); the quote must hold the bad renewTime and end with the parse error",
    loosen: patchQuote,
  },
};
