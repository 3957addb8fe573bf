/**
 * The pods/eviction subresource as pkg/registry/core/pod/storage/eviction.go does it: the PDB
 * check against the PDB's status and its decrement (with disruptedPods, and the DisruptionAllowed
 * condition flipped when it reaches 0), then — in a second step that checks
 * deleteOptions.preconditions, so a mismatch answers 409 after the budget was spent — the
 * DisruptionTarget condition and a graceful delete. dryRun=All stops before any write.
 */
import type { Registry, Target } from "./registry";
import { isPodHealthy } from "./pdb";
import { selectorFromObject } from "./selectors";
import { type StatusBody, badRequest, failure, forbidden, notFound, tooManyRequests } from "./status";
import type { KObj } from "./store";
import { formatTime } from "./times";

type Obj = Record<string, any>;

const created: StatusBody = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 };

export function decodeEviction(body: unknown, podName: string, versions: string[]): Obj {
  const b = (body && typeof body === "object" && !Array.isArray(body) ? body : {}) as Obj;
  if (b.apiVersion !== undefined && !versions.includes(b.apiVersion)) {
    const version = String(b.apiVersion).split("/").pop();
    throw badRequest(
      `Eviction in version "${version}" cannot be handled as a Eviction: no kind "Eviction" is registered for version "${b.apiVersion}" in scheme "k8s.io/kubernetes/pkg/api/legacyscheme/scheme.go:30"`,
    );
  }
  if (b.kind !== undefined && b.kind !== "Eviction") throw badRequest(`the kind in the data (${b.kind}) does not match the expected kind (Eviction)`);
  if (b.metadata?.name && b.metadata.name !== podName) throw badRequest("name in URL does not match name in Eviction object");
  if (b.deleteOptions !== undefined && b.deleteOptions !== null && (typeof b.deleteOptions !== "object" || Array.isArray(b.deleteOptions))) {
    throw badRequest(`Eviction in version "${String(b.apiVersion ?? "v1").split("/").pop()}" cannot be handled as a Eviction: json: cannot unmarshal ${Array.isArray(b.deleteOptions) ? "array" : typeof b.deleteOptions} into Go struct field Eviction.deleteOptions of type v1.DeleteOptions`);
  }
  return b;
}

export interface EvictOptions {
  /** dryRun=All in the query (or deleteOptions.dryRun in the body). */
  dryRun: boolean;
}

export function evict(reg: Registry, t: Target, body: unknown, opts: EvictOptions): StatusBody {
  const profile = reg.profile;
  const eviction = decodeEviction(body, t.name, profile.evictionBodyVersions);
  const deleteOptions: Obj = eviction.deleteOptions ?? {};
  const dryRun = opts.dryRun || (Array.isArray(deleteOptions.dryRun) && deleteOptions.dryRun.includes("All"));
  const pod = reg.store.get("/pods", `${t.namespace}/${t.name}`);
  if (!pod) throw notFound({ group: "", resource: "pods" }, t.name);
  const grace = deleteOptions.gracePeriodSeconds as number | undefined;
  let preconditions: Obj | undefined = deleteOptions.preconditions ?? undefined;
  if (!canIgnorePdb(pod)) {
    const pdbs = matchingPdbs(reg, pod);
    if (pdbs.length > 1) throw failure(500, undefined, "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
    if (pdbs.length === 1) {
      const pdb = pdbs[0];
      const st: Obj = pdb.status ?? {};
      const policy = pdb.spec?.unhealthyPodEvictionPolicy ?? "IfHealthyBudget";
      const unhealthyGoes = !isPodHealthy(pod) && (policy === "AlwaysAllow" || ((st.currentHealthy ?? 0) >= (st.desiredHealthy ?? 0) && (st.desiredHealthy ?? 0) > 0));
      // An unhealthy pod goes without spending the budget, but only while it is unchanged.
      if (unhealthyGoes) preconditions = { resourceVersion: pod.metadata.resourceVersion, ...(preconditions ?? {}) };
      else checkAndDecrement(reg, pdb, pod.metadata.name, dryRun);
    }
  }
  if (dryRun) return created;
  let current = reg.store.get("/pods", `${t.namespace}/${t.name}`)!;
  reg.checkPreconditions(t, current, preconditions);
  if (profile.disruptionTarget) {
    const marked = withDisruptionTarget(current, formatTime(reg.clock.now()));
    if (marked) {
      current = reg.writeInternal("/pods", marked);
      if (preconditions?.resourceVersion) preconditions = { ...preconditions, resourceVersion: current.metadata.resourceVersion };
    }
  }
  reg.deletePod(current, grace);
  return created;
}

/** podutil.UpdatePodCondition with DisruptionTarget; undefined when the pod already has it as is. */
function withDisruptionTarget(pod: KObj, now: string): KObj | undefined {
  const conditions: Obj[] = [...(pod.status?.conditions ?? [])];
  const want = { type: "DisruptionTarget", status: "True", reason: "EvictionByEvictionAPI", message: "Eviction API: evicting" };
  const i = conditions.findIndex((c) => c.type === "DisruptionTarget");
  const old = i >= 0 ? conditions[i] : undefined;
  if (old && old.status === want.status && old.reason === want.reason && old.message === want.message) return undefined;
  const lastTransitionTime = old && old.status === want.status ? old.lastTransitionTime : now;
  const cond = { type: want.type, status: want.status, lastProbeTime: null, lastTransitionTime, reason: want.reason, message: want.message };
  if (i >= 0) conditions[i] = cond;
  else conditions.push(cond);
  return { ...pod, metadata: { ...pod.metadata }, status: { ...(pod.status ?? {}), conditions } };
}

/** Pending, finished or already-terminating pods are not protected by a PDB. */
function canIgnorePdb(pod: KObj): boolean {
  const phase = pod.status?.phase;
  return Boolean(pod.metadata.deletionTimestamp) || phase === "Pending" || phase === "Succeeded" || phase === "Failed" || !phase;
}

export function matchingPdbs(reg: Registry, pod: KObj): KObj[] {
  const emptyMatchesAll = reg.profile.emptySelectorMatchesAll;
  return reg.store.list("policy/poddisruptionbudgets", pod.metadata.namespace).filter((p) => selectorFromObject(p.spec?.selector, emptyMatchesAll)(pod.metadata.labels));
}

const violates = "Cannot evict pod as it would violate the pod's disruption budget.";

function checkAndDecrement(reg: Registry, pdb: KObj, podName: string, dryRun: boolean): void {
  const st: Obj = pdb.status ?? {};
  const name = pdb.metadata.name;
  if ((st.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0)) {
    // 1.26+ suggests a retry in 10 s (header and details); 1.20 said nothing.
    const err = tooManyRequests(violates, reg.profile.retryAfterUnobservedPdb ? 10 : undefined);
    err.body.details = { causes: [{ reason: "DisruptionBudget", message: `The disruption budget ${name} is still being processed by the server.` }], ...err.body.details };
    throw err;
  }
  const allowed: number = st.disruptionsAllowed ?? 0;
  const qr = { group: "policy", resource: "poddisruptionbudget" };
  if (allowed < 0) throw forbidden(qr, name, "pdb disruptions allowed is negative");
  if (Object.keys(st.disruptedPods ?? {}).length > 2000) throw forbidden(qr, name, "DisruptedPods map too big - too many evictions not confirmed by PDB controller");
  if (allowed === 0) {
    throw failure(429, "TooManyRequests", violates, { causes: [{ reason: "DisruptionBudget", message: `The disruption budget ${name} needs ${st.desiredHealthy ?? 0} healthy pods and has ${st.currentHealthy ?? 0} currently` }] });
  }
  if (dryRun) return;
  const now = formatTime(reg.clock.now());
  const status: Obj = { ...st, disruptionsAllowed: allowed - 1, disruptedPods: { ...(st.disruptedPods ?? {}), [podName]: now } };
  if (allowed - 1 === 0 && reg.profile.pdbConditionOnDecrement) status.conditions = insufficientPods(st.conditions ?? [], st.observedGeneration ?? 0, now);
  reg.writeInternal("policy/poddisruptionbudgets", { ...pdb, metadata: { ...pdb.metadata }, status });
}

/** pdbhelper.UpdateDisruptionAllowedCondition for 0 allowed, through apimeta.SetStatusCondition. */
function insufficientPods(conditions: Obj[], observedGeneration: number, now: string): Obj[] {
  const out = conditions.map((c) => ({ ...c }));
  const i = out.findIndex((c) => c.type === "DisruptionAllowed");
  const next = { type: "DisruptionAllowed", status: "False", observedGeneration, lastTransitionTime: now, reason: "InsufficientPods", message: "" };
  if (i < 0) return [...out, next];
  if (out[i].status === "False") next.lastTransitionTime = out[i].lastTransitionTime;
  out[i] = next;
  return out;
}
