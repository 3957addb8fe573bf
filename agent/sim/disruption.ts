/**
 * The disruption controller's view of the pods, kept per PodDisruptionBudget from the store's
 * events: which pods it selects (not Succeeded or Failed; terminating ones included, as the real
 * controller's expected count is the owners' scale) and which of those are healthy. A status is
 * then a few set sizes; listing the namespace's pods for every pod write was O(pods) per event,
 * O(pods²) over a rollout (2000 pods: 2000 × ~5 writes × a sorted list of 2000).
 */
import { deepEqual } from "./equal";
import { type PdbStatusFigures, isPodHealthy, pdbFigures } from "./pdb";
import { selectorFromObject } from "./selectors";
import type { KObj, Store, StoreEvent } from "./store";

export const PDBS = "policy/poddisruptionbudgets";

interface Budget {
  /** The spec.selector the sets were built for: another one rebuilds them. */
  selector: unknown;
  matches: (labels: Record<string, string> | undefined) => boolean;
  /** Names of the selected pods, and of those healthy. */
  pods: Set<string>;
  healthy: Set<string>;
}

export interface PdbStatus extends PdbStatusFigures {
  /** Disrupted pods still selected and not yet terminating: the rest are forgotten. */
  disruptedPods: Record<string, string>;
}

const terminal = (pod: KObj) => pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";

export class DisruptionIndex {
  /** namespace → PDB name → its sets. */
  private readonly budgets = new Map<string, Map<string, Budget>>();

  constructor(private readonly store: Store) {
    for (const pdb of store.values(PDBS)) this.track(pdb);
  }

  /** Call with every pod event, in order. */
  observePod(ev: StoreEvent): void {
    const budgets = this.budgets.get(ev.obj.metadata.namespace);
    if (!budgets) return;
    for (const b of budgets.values()) place(b, ev.obj, ev.type === "DELETED");
  }

  /** Call with every PDB event, in order. */
  observePdb(ev: StoreEvent): void {
    if (ev.type === "DELETED") this.budgets.get(ev.obj.metadata.namespace)?.delete(ev.obj.metadata.name);
    else this.track(ev.obj);
  }

  /** The figures for `pdb` from its sets and its recorded disruptedPods. */
  status(pdb: KObj): PdbStatus {
    const ns = pdb.metadata.namespace as string;
    const b = this.budgets.get(ns)?.get(pdb.metadata.name) ?? this.build(pdb);
    const disruptedPods: Record<string, string> = {};
    let disruptedHealthy = 0;
    for (const [name, at] of Object.entries((pdb.status?.disruptedPods ?? {}) as Record<string, string>)) {
      if (!b.pods.has(name) || this.store.get("/pods", `${ns}/${name}`)?.metadata.deletionTimestamp) continue;
      disruptedPods[name] = at;
      if (b.healthy.has(name)) disruptedHealthy += 1;
    }
    return { ...pdbFigures(pdb.spec ?? {}, b.pods.size, b.healthy.size - disruptedHealthy), disruptedPods };
  }

  private track(pdb: KObj): void {
    const ns = pdb.metadata.namespace as string;
    const cur = this.budgets.get(ns)?.get(pdb.metadata.name);
    if (cur && deepEqual(cur.selector, pdb.spec?.selector)) return;
    let budgets = this.budgets.get(ns);
    if (!budgets) this.budgets.set(ns, (budgets = new Map()));
    budgets.set(pdb.metadata.name, this.build(pdb));
  }

  private build(pdb: KObj): Budget {
    const b: Budget = { selector: pdb.spec?.selector, matches: selectorFromObject(pdb.spec?.selector, true), pods: new Set(), healthy: new Set() };
    for (const p of this.store.values("/pods")) if (p.metadata.namespace === pdb.metadata.namespace) place(b, p, false);
    return b;
  }
}

function place(b: Budget, pod: KObj, deleted: boolean): void {
  const name = pod.metadata.name as string;
  b.pods.delete(name);
  b.healthy.delete(name);
  if (deleted || terminal(pod) || !b.matches(pod.metadata.labels)) return;
  b.pods.add(name);
  if (isPodHealthy(pod)) b.healthy.add(name);
}
