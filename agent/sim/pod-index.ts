/**
 * What the simulated scheduler and kubelets ask about pods, kept up to date from the store's pod
 * events: the live pods bound to each node and the ReplicaSet pods waiting for one. Asking the
 * store instead meant listing (and sorting) every pod per question, and the scheduler asked once
 * per candidate node: a reschedule cost O(nodes × pods log pods), seconds at 2000 nodes.
 * An index rather than one counting pass per reschedule: the pass is still O(pods) per pod
 * moved, O(pods²) over a rollout of the whole fleet, while the events arrive anyway.
 */
import type { KObj, StoreEvent } from "./store";
import { objectKey } from "./store";

const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export const ownedByReplicaSet = (pod: KObj): boolean => (pod.metadata.ownerReferences ?? []).some((o: any) => o.controller && o.kind === "ReplicaSet");

export class PodIndex {
  /** Live (bound, not terminating) pods: key → node, and node → keys. */
  private readonly nodeOf = new Map<string, string>();
  private readonly onNode = new Map<string, Set<string>>();
  /** ReplicaSet pods with no node yet (the scheduler found none schedulable). */
  private readonly unbound = new Set<string>();

  constructor(pods: Iterable<KObj> = []) {
    for (const p of pods) this.place(objectKey(p), p);
  }

  /** Call with every pod event, in order. */
  observe(ev: StoreEvent): void {
    this.place(objectKey(ev.obj), ev.type === "DELETED" ? undefined : ev.obj);
  }

  /** Live pods on `node`: what a kubelet runs and what the scheduler's spreading counts. */
  count(node: string): number {
    return this.onNode.get(node)?.size ?? 0;
  }

  /** Keys of the live pods on `node`, in key order (as a list answers). */
  keysOn(node: string): string[] {
    return [...(this.onNode.get(node) ?? [])].sort(byKey);
  }

  /** Keys of the ReplicaSet pods waiting for a node, in key order. */
  pendingKeys(): string[] {
    return [...this.unbound].sort(byKey);
  }

  private place(key: string, pod: KObj | undefined): void {
    const was = this.nodeOf.get(key);
    if (was !== undefined) {
      this.nodeOf.delete(key);
      const keys = this.onNode.get(was)!;
      keys.delete(key);
      if (keys.size === 0) this.onNode.delete(was);
    }
    this.unbound.delete(key);
    if (!pod || pod.metadata.deletionTimestamp) return;
    const node = pod.spec?.nodeName;
    if (node) {
      this.nodeOf.set(key, node);
      let keys = this.onNode.get(node);
      if (!keys) this.onNode.set(node, (keys = new Set()));
      keys.add(key);
    } else if (ownedByReplicaSet(pod)) this.unbound.add(key);
  }
}

export const isReady = (n: KObj): boolean => (n.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");

/**
 * The scheduler, reduced: a Ready, schedulable node, one other than `avoid` if there is one, then
 * the fewest pods, then the first name (so a seed replays). One pass, in whatever order `nodes` come.
 */
export function chooseNode(nodes: Iterable<KObj>, podCount: (node: string) => number, avoid: string | undefined): string | undefined {
  let best: { name: string; avoided: number; pods: number } | undefined;
  for (const n of nodes) {
    if (n.spec?.unschedulable || !isReady(n)) continue;
    const name = String(n.metadata.name);
    const c = { name, avoided: Number(name === avoid), pods: podCount(name) };
    if (!best || c.avoided < best.avoided || (c.avoided === best.avoided && (c.pods < best.pods || (c.pods === best.pods && c.name < best.name)))) best = c;
  }
  return best?.name;
}
