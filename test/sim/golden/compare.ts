/**
 * Comparison of a recorded response body with the sim's, field by field. Volatile values are not
 * ignored blindly: resourceVersions, uids and continue tokens are mapped recorded→actual and must
 * stay consistent (a bijection) across the whole replay; timestamps are checked for shape only.
 */
export class Mapping {
  private readonly fwd = new Map<string, string>();
  private readonly back = new Map<string, string>();

  /** Records rec→act, or reports the inconsistency. */
  learn(kind: string, rec: string, act: string): string | undefined {
    const k = `${kind}:${rec}`;
    const seen = this.fwd.get(k);
    if (seen !== undefined) return seen === act ? undefined : `${kind} ${rec} was ${seen} before, now ${act}`;
    const other = this.back.get(`${kind}:${act}`);
    if (other !== undefined) return `${kind} ${act} stands for both ${other} and ${rec}`;
    this.fwd.set(k, act);
    this.back.set(`${kind}:${act}`, rec);
    return undefined;
  }

  get(kind: string, rec: string): string | undefined {
    return this.fwd.get(`${kind}:${rec}`);
  }
}

export type Loosen = (path: string, expected: unknown, actual: unknown) => string | undefined | "ok";

/** In a synthesised expectation: any string is fine here (a volatile value not worth mapping). */
export const ANY = "<any>";

const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const timeKeys = new Set(["creationTimestamp", "deletionTimestamp", "expirationTimestamp"]);

/**
 * Returns the differences; empty when equal. `loosen` may accept a path (returns "ok") or explain.
 * `sent`: every string the transcript's requests carried. A timestamp the client sent must come
 * back exactly; one the server made (not in `sent`: a DisruptionTarget or DisruptionAllowed
 * transition, a disruptedPods entry) is checked for shape only.
 */
export function compareBodies(expected: unknown, actual: unknown, map: Mapping, loosen?: Loosen, sent: ReadonlySet<string> = new Set()): string[] {
  const diffs: string[] = [];
  walk(expected, actual, "", diffs, map, loosen, sent);
  return diffs;
}

const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** A precondition 409 quotes uids and resourceVersions: the recorded ones, mapped to the replay's. */
function mapMessage(message: string, map: Mapping): string {
  return message
    .replace(UUID_RE, (u) => map.get("uid", u) ?? u)
    .replace(/(ResourceVersion in the precondition|ResourceVersion in record) \((\d+)\)/g, (_m, what: string, rv: string) => `${what} (${map.get("rv", rv) ?? rv})`);
}

function walk(e: unknown, a: unknown, path: string, diffs: string[], map: Mapping, loosen: Loosen | undefined, sent: ReadonlySet<string>): void {
  const l = loosen?.(path, e, a);
  if (l === "ok") return;
  if (typeof l === "string") return void diffs.push(`${path}: ${l}`);
  const key = path.split(".").pop() ?? "";
  const parent = path.split(".").slice(-2, -1)[0] ?? "";
  if (typeof e === "string" && typeof a === "string") {
    if (e === ANY) return;
    if (key === "resourceVersion") return note(diffs, path, map.learn("rv", e, a));
    if (key === "uid" && parent !== "ownerReferences" && !/ownerReferences\[\d+\]$/.test(path.split(".").slice(0, -1).join("."))) return note(diffs, path, map.learn("uid", e, a));
    if (key === "continue") return note(diffs, path, map.learn("continue", e, a));
    if (timeKeys.has(key) || /disruptedPods\./.test(path) || (TIME_RE.test(e) && !sent.has(e))) {
      if (!TIME_RE.test(a)) diffs.push(`${path}: ${JSON.stringify(a)} is not a metav1.Time`);
      return;
    }
    if (key === "token" && path.endsWith("status.token")) return;
    if (key === "message" && e !== a && mapMessage(e, map) === a) return;
  }
  if (e === null || a === null || typeof e !== "object" || typeof a !== "object") {
    if (e !== a) diffs.push(`${path || "(body)"}: expected ${JSON.stringify(e)}, got ${JSON.stringify(a)}`);
    return;
  }
  if (Array.isArray(e) !== Array.isArray(a)) return void diffs.push(`${path}: array vs object`);
  if (Array.isArray(e)) {
    const aa = a as unknown[];
    if (e.length !== aa.length) diffs.push(`${path}: expected ${e.length} items, got ${aa.length}`);
    for (let i = 0; i < Math.min(e.length, aa.length); i++) walk(e[i], aa[i], `${path}[${i}]`, diffs, map, loosen, sent);
    return;
  }
  const eo = e as Record<string, unknown>;
  const ao = a as Record<string, unknown>;
  for (const k of new Set([...Object.keys(eo), ...Object.keys(ao)])) {
    const p = path ? `${path}.${k}` : k;
    if (!(k in ao)) {
      if (loosen?.(p, eo[k], undefined) !== "ok") diffs.push(`${p}: missing (expected ${JSON.stringify(eo[k])})`);
    } else if (!(k in eo)) {
      if (loosen?.(p, undefined, ao[k]) !== "ok") diffs.push(`${p}: unexpected ${JSON.stringify(ao[k])}`);
    } else walk(eo[k], ao[k], p, diffs, map, loosen, sent);
  }
}

function note(diffs: string[], path: string, problem: string | undefined): void {
  if (problem) diffs.push(`${path}: ${problem}`);
}
