/**
 * Marking the node around a reboot, as kured does, with sluice's own annotation keys (kured's
 * `weave.works/` keys on request, for dashboards that read them). The patches are pure functions;
 * the I/O below applies them in the order operators rely on: pre-reboot labels before the cordon,
 * post-reboot labels after the uncordon — also when the node was cordoned by someone else, where
 * kured skips them (kubereboot/kured: labels missing after reboot of a cordoned node).
 */
import { KubeError, type NodePatch, type V1Taint } from "../kube";
import { uncordon } from "./cordon";
import type { DrainDeps } from "./types";

export const ANNOTATION_IN_PROGRESS = "sluice.dev/reboot-in-progress";
export const ANNOTATION_MOST_RECENT_NEED = "sluice.dev/most-recent-reboot-needed";
export const KURED_ANNOTATION_IN_PROGRESS = "weave.works/kured-reboot-in-progress";
export const KURED_ANNOTATION_MOST_RECENT_NEED = "weave.works/kured-most-recent-reboot-needed";

export interface MarkOptions {
  preRebootNodeLabels?: string[];
  postRebootNodeLabels?: string[];
  annotateNodes?: boolean;
  /** Also write kured's weave.works/kured-* annotations (config key kuredAnnotations). */
  kuredAnnotations?: boolean;
  /** Taint key set with effect PreferNoSchedule while a reboot is pending; "" for none. */
  preferNoScheduleTaint?: string;
}

type Deps = Pick<DrainDeps, "kube" | "log" | "events" | "clock">;

/** ["a=b", "c="] → {a: "b", c: ""}; entries were validated by agent/config. */
export function labelsPatch(labels: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) {
    const eq = l.indexOf("=");
    if (eq > 0) out[l.slice(0, eq)] = l.slice(eq + 1);
  }
  return out;
}

function keys(kured: boolean | undefined): { inProgress: string[]; need: string[] } {
  return {
    inProgress: kured ? [ANNOTATION_IN_PROGRESS, KURED_ANNOTATION_IN_PROGRESS] : [ANNOTATION_IN_PROGRESS],
    need: kured ? [ANNOTATION_MOST_RECENT_NEED, KURED_ANNOTATION_MOST_RECENT_NEED] : [ANNOTATION_MOST_RECENT_NEED],
  };
}

/**
 * Annotations to set when the reboot starts (RFC 3339 time, as kured). Like kured, nothing is
 * rewritten while a reboot is already marked in progress: a restarted agent keeps the first time.
 */
export function beforeRebootAnnotations(existing: Record<string, string> | undefined, nowMs: number, kured?: boolean): Record<string, string> {
  const k = keys(kured);
  const ts = new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, "Z");
  const out: Record<string, string> = {};
  for (const i in k.inProgress) {
    if (existing?.[k.inProgress[i]] !== undefined) continue;
    out[k.inProgress[i]] = ts;
    out[k.need[i]] = ts;
  }
  return out;
}

/** After the reboot the in-progress mark goes; the most recent need stays, as in kured. */
export function afterRebootAnnotations(kured?: boolean): Record<string, null> {
  return Object.fromEntries(keys(kured).inProgress.map((k) => [k, null]));
}

/** The taint list with (present) or without the PreferNoSchedule taint `key`; undefined if unchanged. */
export function withPreferNoSchedule(taints: V1Taint[] | undefined, key: string, present: boolean): V1Taint[] | undefined {
  const list = taints ?? [];
  const has = list.some((t) => t.key === key && t.effect === "PreferNoSchedule");
  if (has === present) return undefined;
  return present ? [...list, { key, effect: "PreferNoSchedule" }] : list.filter((t) => !(t.key === key && t.effect === "PreferNoSchedule"));
}

/** Pre-reboot labels and, with annotateNodes, the in-progress annotations. Call before cordon(). */
export async function markBeforeReboot(deps: Deps, node: string, o: MarkOptions): Promise<void> {
  const labels = labelsPatch(o.preRebootNodeLabels);
  let annotations: Record<string, string> = {};
  if (o.annotateNodes) annotations = beforeRebootAnnotations((await deps.kube.getNode(node)).metadata?.annotations, deps.clock.now(), o.kuredAnnotations);
  if (!Object.keys(labels).length && !Object.keys(annotations).length) return;
  await deps.kube.patchNode(node, { labels, annotations });
  deps.log.info("marked the node for its reboot", { node, labels, annotations });
  await deps.events.record({ node, type: "Normal", reason: "MarkedForReboot", message: describe("set", labels, annotations) });
}

/**
 * After the boot: uncordon (unless the node was unschedulable before sluice cordoned it), then
 * the post-reboot labels and removal of the in-progress annotations — in both cases.
 */
export async function markAfterReboot(deps: Deps, node: string, o: MarkOptions, wasUnschedulable: boolean): Promise<void> {
  await uncordon(deps, node, wasUnschedulable);
  const labels = labelsPatch(o.postRebootNodeLabels);
  const annotations = o.annotateNodes ? afterRebootAnnotations(o.kuredAnnotations) : {};
  if (!Object.keys(labels).length && !Object.keys(annotations).length) return;
  await deps.kube.patchNode(node, { labels, annotations });
  deps.log.info("marked the node as rebooted", { node, labels });
  await deps.events.record({ node, type: "Normal", reason: "MarkedRebooted", message: describe("set", labels, {}) + (Object.keys(annotations).length ? "; reboot-in-progress annotation removed" : "") });
}

/**
 * Sets or removes the PreferNoSchedule taint (kured: while a reboot is needed). The taint list is
 * replaced whole, so the write carries the resourceVersion just read and re-reads on conflict.
 */
export async function setPendingTaint(deps: Deps, node: string, key: string, pending: boolean): Promise<void> {
  if (!key) return;
  for (let attempt = 1; ; attempt++) {
    const n = await deps.kube.getNode(node);
    const taints = withPreferNoSchedule(n.spec?.taints, key, pending);
    if (!taints) return;
    try {
      await deps.kube.patchNode(node, { taints, resourceVersion: n.metadata?.resourceVersion });
      deps.log.info(pending ? "tainted the node PreferNoSchedule" : "removed the PreferNoSchedule taint", { node, key });
      return;
    } catch (err) {
      if (!(err instanceof KubeError && err.code === "conflict") || attempt >= 5) throw err;
    }
  }
}

function describe(verb: string, labels: Record<string, string>, annotations: Record<string, string>): string {
  const parts = [
    ...Object.entries(labels).map(([k, v]) => `label ${k}=${v}`),
    ...Object.keys(annotations).map((k) => `annotation ${k}`),
  ];
  return parts.length ? `sluice ${verb} ${parts.join(", ")}` : "no labels to set";
}

// ---- marks the agent keeps on the Node around the machine (DESIGN.md "Around the machine") ----

export const NEED_LABEL = "sluice.dev/reboot-needed";
export const NEED_SINCE_ANNOTATION = "sluice.dev/reboot-needed-since";
export const SCALE_DOWN_ANNOTATION = "cluster-autoscaler.kubernetes.io/scale-down-disabled";
export const EXCLUDE_LB_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers";
/** Which of the two marks above sluice added (comma-separated), written in the same patch: only those are removed. */
export const ADDED_MARKS_ANNOTATION = "sluice.dev/added-marks";

interface NodeMeta {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/**
 * The patch that makes the backlog mark say `needed` (label `sluice.dev/reboot-needed=true` and
 * the since annotation, so `kubectl get nodes -l sluice.dev/reboot-needed` lists the backlog), or
 * undefined when the node already says so. A time goes in an annotation: a label value may not
 * contain ':' (422).
 */
export function needMarkPatch(meta: NodeMeta | undefined, needed: boolean, sinceMs?: number): Pick<NodePatch, "labels" | "annotations"> | undefined {
  const has = meta?.labels?.[NEED_LABEL] !== undefined || meta?.annotations?.[NEED_SINCE_ANNOTATION] !== undefined;
  if (!needed) return has ? { labels: { [NEED_LABEL]: null }, annotations: { [NEED_SINCE_ANNOTATION]: null } } : undefined;
  const since = rfc3339(sinceMs ?? 0);
  if (meta?.labels?.[NEED_LABEL] === "true" && meta?.annotations?.[NEED_SINCE_ANNOTATION] === since) return undefined;
  return { labels: { [NEED_LABEL]: "true" }, annotations: { [NEED_SINCE_ANNOTATION]: since } };
}

export interface HoldMarkOptions {
  scaleDownProtection: boolean;
  excludeFromLoadBalancers: boolean;
}

/** While held: the autoscaler must not remove the node, and (optionally) load balancers skip it. Only what is absent is added, and recorded. */
export function holdMarkPatch(meta: NodeMeta | undefined, o: HoldMarkOptions): Pick<NodePatch, "labels" | "annotations"> | undefined {
  const added = new Set((meta?.annotations?.[ADDED_MARKS_ANNOTATION] ?? "").split(",").filter(Boolean));
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  if (o.scaleDownProtection && meta?.annotations?.[SCALE_DOWN_ANNOTATION] === undefined) {
    annotations[SCALE_DOWN_ANNOTATION] = "true";
    added.add("scale-down-disabled");
  }
  if (o.excludeFromLoadBalancers && meta?.labels?.[EXCLUDE_LB_LABEL] === undefined) {
    labels[EXCLUDE_LB_LABEL] = "true";
    added.add("exclude-from-load-balancers");
  }
  if (!Object.keys(labels).length && !Object.keys(annotations).length) return undefined;
  annotations[ADDED_MARKS_ANNOTATION] = [...added].sort().join(",");
  return { labels, annotations };
}

/** Removes what sluice recorded as added, and the record; undefined when there is nothing. */
export function unholdMarkPatch(meta: NodeMeta | undefined): Pick<NodePatch, "labels" | "annotations"> | undefined {
  const rec = meta?.annotations?.[ADDED_MARKS_ANNOTATION];
  if (rec === undefined) return undefined;
  const added = new Set(rec.split(","));
  const labels: Record<string, null> = {};
  const annotations: Record<string, null> = { [ADDED_MARKS_ANNOTATION]: null };
  if (added.has("scale-down-disabled")) annotations[SCALE_DOWN_ANNOTATION] = null;
  if (added.has("exclude-from-load-balancers")) labels[EXCLUDE_LB_LABEL] = null;
  return { labels, annotations };
}
