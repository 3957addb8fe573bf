/**
 * The pods/eviction subresource (pkg/registry/core/pod/storage/eviction.go): PDB checks against the
 * PDB's status, the decrement and disruptedPods record, then a graceful delete of the pod.
 */
import type { Registry, Target } from "./registry";
import { isPodHealthy } from "./pdb";
import { selectorFromObject } from "./selectors";
import { type StatusBody, badRequest, failure, notFound } from "./status";
import type { KObj } from "./store";
import { formatTime } from "./times";

type Obj = Record<string, any>;

/** Current Kubernetes accepts both; 1.20 knew only policy/v1beta1 (see test/sim golden replay). */
export const evictionVersions = ["policy/v1", "policy/v1beta1"];

const created: StatusBody = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 };

export function decodeEviction(body: unknown, podName: string, versions = evictionVersions): Obj {
  const b = (body && typeof body === "object" ? body : {}) as Obj;
  if (b.apiVersion !== undefined && !versions.includes(b.apiVersion)) {
    const version = String(b.apiVersion).split("/").pop();
    throw badRequest(
      `Eviction in version "${version}" cannot be handled as a Eviction: no kind "Eviction" is registered for version "${b.apiVersion}" in scheme "pkg/api/legacyscheme/scheme.go:30"`,
    );
  }
  if (b.kind !== undefined && b.kind !== "Eviction") throw badRequest(`the kind in the data (${b.kind}) does not match the expected kind (Eviction)`);
  if (b.metadata?.name && b.metadata.name !== podName) throw badRequest("name in URL does not match name in Eviction object");
  return b;
}

export function evict(reg: Registry, t: Target, body: unknown, versions = evictionVersions): StatusBody {
  const eviction = decodeEviction(body, t.name, versions);
  const pod = reg.store.get("/pods", `${t.namespace}/${t.name}`);
  if (!pod) throw notFound({ group: "", resource: "pods" }, t.name);
  const grace = eviction.deleteOptions?.gracePeriodSeconds as number | undefined;
  // As v1.28 (golden 17): a UID precondition is checked at the delete, after the PDB's budget was spent.
  const uid = eviction.deleteOptions?.preconditions?.uid as string | undefined;
  const deletePod = () => {
    if (uid && uid !== pod.metadata.uid) {
      throw failure(409, "Conflict", `Operation cannot be fulfilled on Pod "${t.name}": the UID in the precondition (${uid}) does not match the UID in record (${pod.metadata.uid}). The object might have been deleted and then recreated`, { name: t.name, kind: "Pod" });
    }
    reg.deletePod(pod, grace);
  };
  if (canIgnorePdb(pod)) {
    deletePod();
    return created;
  }
  const pdbs = matchingPdbs(reg, pod);
  if (pdbs.length > 1) throw failure(500, undefined, "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
  if (pdbs.length === 1) {
    const pdb = pdbs[0];
    const st: Obj = pdb.status ?? {};
    const healthyBudget = (st.currentHealthy ?? 0) >= (st.desiredHealthy ?? 0) && (st.observedGeneration ?? 0) >= (pdb.metadata.generation ?? 0);
    const unready = !isPodHealthy(pod);
    const policy = pdb.spec?.unhealthyPodEvictionPolicy ?? "IfHealthyBudget";
    // A Running pod that is not Ready may go without spending the budget (IfHealthyBudget/AlwaysAllow).
    if (unready && (policy === "AlwaysAllow" || healthyBudget)) {
      reg.deletePod(pod, grace);
      return created;
    }
    checkAndDecrement(reg, pdb, pod.metadata.name);
  }
  deletePod();
  return created;
}

/** Pending, finished or already-terminating pods are not protected by a PDB. */
function canIgnorePdb(pod: KObj): boolean {
  const phase = pod.status?.phase;
  return Boolean(pod.metadata.deletionTimestamp) || phase === "Pending" || phase === "Succeeded" || phase === "Failed" || !phase;
}

export function matchingPdbs(reg: Registry, pod: KObj): KObj[] {
  return reg.store
    .list("policy/poddisruptionbudgets", pod.metadata.namespace)
    .filter((p) => selectorFromObject(p.spec?.selector, true)(pod.metadata.labels));
}

function tooMany(cause: string) {
  return failure(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.", {
    causes: [{ reason: "DisruptionBudget", message: cause }],
  });
}

function checkAndDecrement(reg: Registry, pdb: KObj, podName: string): void {
  const st: Obj = pdb.status ?? {};
  const name = pdb.metadata.name;
  if ((st.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0)) throw tooMany(`The disruption budget ${name} is still being processed by the server.`);
  const allowed: number = st.disruptionsAllowed ?? 0;
  if (allowed < 0) throw failure(403, "Forbidden", "pdb disruptions allowed is negative");
  if (Object.keys(st.disruptedPods ?? {}).length > 2000) throw failure(403, "Forbidden", "DisruptedPods map too big - too many evictions not confirmed by PDB controller");
  if (allowed === 0) throw tooMany(`The disruption budget ${name} needs ${st.desiredHealthy ?? 0} healthy pods and has ${st.currentHealthy ?? 0} currently`);
  const next: KObj = {
    ...pdb,
    metadata: { ...pdb.metadata },
    status: { ...st, disruptionsAllowed: allowed - 1, disruptedPods: { ...(st.disruptedPods ?? {}), [podName]: formatTime(reg.clock.now()) } },
  };
  reg.writeInternal("policy/poddisruptionbudgets", next);
}
