/**
 * The simulated cluster's indexes, kept from store events, against what listing every pod answers
 * (the code they replaced): a seeded sequence of pod and PDB writes of every kind, compared after
 * each write. And the scheduler's choice, table-tested.
 */
import { describe, expect, it } from "vitest";
import { DisruptionIndex, PDBS } from "../../agent/sim/disruption";
import { isPodHealthy, pdbFigures } from "../../agent/sim/pdb";
import { PodIndex, chooseNode } from "../../agent/sim/pod-index";
import { selectorFromObject } from "../../agent/sim/selectors";
import { type KObj, Store } from "../../agent/sim/store";
import { seededRandom } from "../helpers/sim";

const node = (name: string, o: { ready?: boolean | "none"; cordoned?: boolean } = {}): KObj => ({
  metadata: { name },
  spec: o.cordoned ? { unschedulable: true } : {},
  status: o.ready === "none" ? {} : { conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }] },
});

describe("chooseNode (the simulated scheduler)", () => {
  const pods: Record<string, number> = { a: 2, b: 1, c: 1, d: 0 };
  const count = (n: string) => pods[n] ?? 0;
  it.each([
    ["fewest pods, then the first name", [node("a"), node("c"), node("b")], undefined, "b"],
    ["not the node it left, if another will do", [node("a"), node("b"), node("c")], "b", "c"],
    ["the node it left, when it is the only one", [node("a", { cordoned: true }), node("b")], "b", "b"],
    ["never a cordoned node", [node("d", { cordoned: true }), node("a")], undefined, "a"],
    ["never a NotReady node", [node("d", { ready: false }), node("a")], undefined, "a"],
    ["never a node with no Ready condition", [node("d", { ready: "none" }), node("c")], undefined, "c"],
    ["nothing when no node is schedulable", [node("a", { cordoned: true }), node("b", { ready: false })], undefined, undefined],
    ["nothing when there are no nodes", [], "a", undefined],
  ] as const)("%s", (_, nodes, avoid, want) => {
    expect(chooseNode(nodes, count, avoid)).toBe(want);
    expect(chooseNode([...nodes].reverse(), count, avoid)).toBe(want);
  });
});

/** What the cluster computed before the indexes: everything from a list of every pod. */
function listed(store: Store) {
  const pods = store.list("/pods");
  const live = (n: string) => pods.filter((p) => p.spec?.nodeName === n && !p.metadata.deletionTimestamp).map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
  const pending = pods.filter((p) => !p.spec?.nodeName && !p.metadata.deletionTimestamp && (p.metadata.ownerReferences ?? []).some((o: any) => o.controller && o.kind === "ReplicaSet")).map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
  const pdbStatus = (pdb: KObj) => {
    const mine = store.list("/pods", pdb.metadata.namespace).filter((p) => p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed").filter((p) => selectorFromObject(pdb.spec?.selector, true)(p.metadata.labels));
    const disruptedPods: Record<string, string> = {};
    for (const [name, at] of Object.entries((pdb.status?.disruptedPods ?? {}) as Record<string, string>)) {
      const p = mine.find((x) => x.metadata.name === name);
      if (p && !p.metadata.deletionTimestamp) disruptedPods[name] = at;
    }
    return { ...pdbFigures(pdb.spec ?? {}, mine.length, mine.filter((p) => isPodHealthy(p) && !disruptedPods[p.metadata.name]).length), disruptedPods };
  };
  return { live, pending, pdbStatus };
}

describe("the pod and disruption indexes", () => {
  it("answer what a list of every pod answers, after every write of a seeded mix", () => {
    const store = new Store(100);
    const random = seededRandom(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const nodes = ["n1", "n2", "n3"];
    const namespaces = ["apps", "other"];
    const apps = ["web", "db"];
    const rs = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "web", uid: "u", controller: true };
    // Objects stored before the indexes exist are indexed too.
    store.write("/pods", "ADDED", { metadata: { name: "early", namespace: "apps", labels: { app: "web" } }, spec: { nodeName: "n1" } });
    store.write(PDBS, "ADDED", { metadata: { name: "web", namespace: "apps" }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: "web" } } } });
    const pods = new PodIndex(store.values("/pods"));
    const budgets = new DisruptionIndex(store);
    store.subscribe("/pods", (ev) => (pods.observe(ev), budgets.observePod(ev)));
    store.subscribe(PDBS, (ev) => budgets.observePdb(ev));

    const kinds: Record<string, number> = {};
    for (let step = 0; step < 600; step++) {
      const existing = store.list("/pods");
      const p = existing.length ? pick(existing) : undefined;
      const kind = !p || random() < 0.25 ? "create" : pick(["ready", "unready", "delete", "terminate", "bind", "relabel", "finish", "disrupt", "pdb"]);
      kinds[kind] = (kinds[kind] ?? 0) + 1;
      const now = `2026-01-01T00:00:${String(step % 60).padStart(2, "0")}Z`;
      const withStatus = (q: KObj, ready: boolean) => ({ ...q, status: { ...q.status, phase: "Running", conditions: [{ type: "Ready", status: ready ? "True" : "False" }] } });
      switch (kind) {
        case "create":
          store.write("/pods", "ADDED", { metadata: { name: `p${step}`, namespace: pick(namespaces), labels: { app: pick(apps) }, ...(random() < 0.7 ? { ownerReferences: [rs] } : {}) }, spec: random() < 0.8 ? { nodeName: pick(nodes) } : {} });
          break;
        case "ready":
        case "unready":
          store.write("/pods", "MODIFIED", withStatus(p!, kind === "ready"));
          break;
        case "delete":
          store.write("/pods", "DELETED", p!);
          break;
        case "terminate":
          store.write("/pods", "MODIFIED", { ...p!, metadata: { ...p!.metadata, deletionTimestamp: now } });
          break;
        case "bind":
          store.write("/pods", "MODIFIED", { ...p!, spec: { ...p!.spec, nodeName: pick(nodes) } });
          break;
        case "relabel":
          store.write("/pods", "MODIFIED", { ...p!, metadata: { ...p!.metadata, labels: { app: pick(apps) } } });
          break;
        case "finish":
          store.write("/pods", "MODIFIED", { ...p!, status: { ...p!.status, phase: pick(["Succeeded", "Failed"]) } });
          break;
        case "disrupt": {
          // The eviction API records the pod; and a name that is not (or no longer) there.
          const pdb = store.get(PDBS, "apps/web")!;
          store.write(PDBS, "MODIFIED", { ...pdb, status: { ...pdb.status, disruptedPods: { ...pdb.status?.disruptedPods, [p!.metadata.name]: now, gone: now } } });
          break;
        }
        case "pdb": {
          const pdb = store.get(PDBS, "apps/web")!;
          const spec = random() < 0.5 ? { minAvailable: "50%", selector: { matchLabels: { app: pick(apps) } } } : { maxUnavailable: 1, selector: { matchExpressions: [{ key: "app", operator: "In", values: ["web", "db"] }] } };
          store.write(PDBS, "MODIFIED", { ...pdb, spec });
          break;
        }
      }
      const want = listed(store);
      for (const n of nodes) {
        expect(pods.keysOn(n), `step ${step} (${kind}): pods on ${n}`).toEqual(want.live(n));
        expect(pods.count(n)).toBe(want.live(n).length);
      }
      expect(pods.pendingKeys(), `step ${step} (${kind}): pending`).toEqual(want.pending);
      const pdb = store.get(PDBS, "apps/web")!;
      expect(budgets.status(pdb), `step ${step} (${kind}): PDB status`).toEqual(want.pdbStatus(pdb));
    }
    // Every kind of write happened often enough to matter.
    for (const k of ["create", "ready", "unready", "delete", "terminate", "bind", "relabel", "finish", "disrupt", "pdb"]) expect(kinds[k]).toBeGreaterThan(10);
    // A deleted PDB is forgotten; a new one of that name starts from the pods as they are.
    const pdb = store.get(PDBS, "apps/web")!;
    store.write(PDBS, "DELETED", pdb);
    const again = store.write(PDBS, "ADDED", { metadata: { name: "web", namespace: "apps" }, spec: { maxUnavailable: 0, selector: { matchLabels: { app: "db" } } } });
    expect(budgets.status(again)).toEqual(listed(store).pdbStatus(again));
  });
});
