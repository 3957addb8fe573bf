/**
 * Per-kind behaviour of the registry: Event validation, defaults applied on create (the admission
 * plugins and defaulters the recorded server ran), and rendering an object for the version a
 * client asked for. Decoding a body is in decode.ts, metadata and Node validation in validate.ts.
 */
import { type ResourceDef, cleanMeta, groupVersion } from "./resources";
import { ApiError, type FieldError, invalid, invalidValue, requiredValue } from "./status";
import type { KObj } from "./store";

type Obj = Record<string, any>;

/**
 * ValidateEventCreate. An Event with eventTime about a cluster-scoped object may live in
 * kube-system, and since 1.22 (`clusterEventsInDefault`) in default as well.
 */
export function validateEvent(ev: KObj, group: string, version: string, clusterEventsInDefault = true): void {
  const errs: FieldError[] = [];
  const involvedNs: string = ev.involvedObject?.namespace ?? "";
  const ns: string = ev.metadata.namespace ?? "";
  if (!ev.eventTime) {
    if (involvedNs === "" ? ns !== "" && ns !== "default" : ns !== involvedNs) {
      errs.push(invalidValue("involvedObject.namespace", involvedNs, "does not match event.namespace"));
    }
  } else {
    if (involvedNs === "" ? (ns !== "default" || !clusterEventsInDefault) && ns !== "kube-system" : ns !== involvedNs) {
      errs.push(invalidValue("involvedObject.namespace", involvedNs, "does not match event.namespace"));
    }
    if (!ev.reportingComponent) errs.push(requiredValue("reportingController"));
    if (!ev.reportingInstance) errs.push(requiredValue("reportingInstance"));
    if (!ev.action) errs.push(requiredValue("action"));
  }
  if (group === "events.k8s.io" && version === "v1") {
    if (!ev.eventTime) errs.push(requiredValue("eventTime"));
    if (ev.type !== "Normal" && ev.type !== "Warning") errs.push(invalidValue("type", "", `has invalid value: ${ev.type ?? ""}`));
    if (ev.firstTimestamp) errs.push(invalidValue("firstTimestamp", "", "needs to be unset"));
    if (ev.lastTimestamp) errs.push(invalidValue("lastTimestamp", "", "needs to be unset"));
    if (ev.count) errs.push(invalidValue("count", "", "needs to be unset"));
    if (ev.source?.component || ev.source?.host) errs.push(invalidValue("source", "", "needs to be unset"));
  }
  if (errs.length) throw invalid("Event", ev.metadata.name ?? "", "Event", "", errs);
}

export interface CreateContext {
  /** Does this namespace have a `default` ServiceAccount (ServiceAccount admission)? */
  serviceAccountExists(namespace: string, name: string): boolean;
  /** NamespaceDefaultLabelName (1.21+). */
  namespaceNameLabel?: boolean;
}

/** Defaulters and admission plugins of the recorded server (DefaultTolerationSeconds, TaintNodesByCondition, …). */
export function defaultOnCreate(def: ResourceDef, obj: KObj, ctx: CreateContext): void {
  switch (def.kind) {
    case "Namespace":
      obj.spec = { finalizers: ["kubernetes"], ...(obj.spec ?? {}) };
      obj.status = { phase: "Active" };
      if (ctx.namespaceNameLabel) obj.metadata.labels = { ...(obj.metadata.labels ?? {}), "kubernetes.io/metadata.name": obj.metadata.name };
      break;
    case "Node": {
      obj.spec = { ...(obj.spec ?? {}) };
      const taints: Obj[] = [...(obj.spec.taints ?? [])];
      if (!taints.some((t) => t.key === "node.kubernetes.io/not-ready" && t.effect === "NoSchedule")) {
        taints.push({ key: "node.kubernetes.io/not-ready", effect: "NoSchedule" });
      }
      obj.spec.taints = taints;
      break;
    }
    case "Pod":
      defaultPod(obj, ctx);
      break;
    case "PodDisruptionBudget":
      obj.status = {};
      break;
  }
}

function defaultPod(pod: KObj, ctx: CreateContext): void {
  const spec: Obj = { ...(pod.spec ?? {}) };
  const mirror = Boolean(pod.metadata.annotations?.["kubernetes.io/config.mirror"]);
  if (!mirror) {
    const sa = spec.serviceAccountName || spec.serviceAccount || "default";
    if (!ctx.serviceAccountExists(pod.metadata.namespace, sa)) {
      throw new ServiceAccountMissing(pod.metadata.namespace, sa);
    }
    spec.serviceAccountName = sa;
    spec.serviceAccount = sa;
  }
  const containers = (spec.containers ?? []).map((c: Obj) => {
    const image: string = c.image ?? "";
    const tag = image.includes("@") ? "digest" : (image.split("/").pop() ?? "").split(":")[1];
    return {
      ...c,
      resources: c.resources ?? {},
      terminationMessagePath: c.terminationMessagePath ?? "/dev/termination-log",
      terminationMessagePolicy: c.terminationMessagePolicy ?? "File",
      imagePullPolicy: c.imagePullPolicy ?? (tag === undefined || tag === "latest" ? "Always" : "IfNotPresent"),
    };
  });
  const tolerations: Obj[] = [...(spec.tolerations ?? [])];
  for (const key of ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]) {
    if (!tolerations.some((t) => (t.key === key || (t.operator === "Exists" && !t.key)) && (t.effect === "NoExecute" || !t.effect))) {
      tolerations.push({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 });
    }
  }
  const out: Obj = {
    volumes: spec.volumes,
    initContainers: spec.initContainers,
    containers,
    restartPolicy: spec.restartPolicy ?? "Always",
    terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds ?? 30,
    activeDeadlineSeconds: spec.activeDeadlineSeconds,
    dnsPolicy: spec.dnsPolicy ?? "ClusterFirst",
    nodeSelector: spec.nodeSelector,
    serviceAccountName: spec.serviceAccountName,
    serviceAccount: spec.serviceAccount,
    nodeName: spec.nodeName,
    hostNetwork: spec.hostNetwork,
    securityContext: spec.securityContext ?? {},
    affinity: spec.affinity,
    schedulerName: spec.schedulerName ?? "default-scheduler",
    tolerations,
    priorityClassName: spec.priorityClassName,
    priority: spec.priority ?? 0,
    enableServiceLinks: spec.enableServiceLinks ?? true,
    preemptionPolicy: spec.preemptionPolicy ?? "PreemptLowerPriority",
  };
  for (const [k, v] of Object.entries(spec)) if (!(k in out)) out[k] = v;
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  pod.spec = out;
  pod.status = normalizePodStatus({ phase: "Pending", ...(pod.status ?? {}), qosClass: qosClass(containers) });
}

export class ServiceAccountMissing extends Error {
  constructor(
    readonly namespace: string,
    readonly account: string,
  ) {
    super(`error looking up service account ${namespace}/${account}: serviceaccount "${account}" not found`);
  }
}

function qosClass(containers: Obj[]): string {
  const rs = containers.map((c) => c.resources ?? {});
  if (rs.every((r) => !r.requests && !r.limits)) return "BestEffort";
  const guaranteed = rs.every(
    (r) => r.limits?.cpu && r.limits?.memory && (!r.requests || (r.requests.cpu ?? r.limits.cpu) === r.limits.cpu && (r.requests.memory ?? r.limits.memory) === r.limits.memory),
  );
  return guaranteed ? "Guaranteed" : "Burstable";
}

/** Fields of PodCondition/ContainerStatus that Go marshals even when empty. */
export function normalizePodStatus(status: Obj): Obj {
  const s = { ...status };
  if (Array.isArray(s.conditions)) {
    s.conditions = s.conditions.map((c: Obj) => ({ type: c.type, status: c.status, lastProbeTime: c.lastProbeTime ?? null, lastTransitionTime: c.lastTransitionTime ?? null, ...stripNil(c, ["type", "status", "lastProbeTime", "lastTransitionTime"]) }));
  }
  for (const f of ["containerStatuses", "initContainerStatuses"]) {
    if (!Array.isArray(s[f])) continue;
    s[f] = s[f].map((c: Obj) => ({
      name: c.name,
      state: c.state ?? {},
      lastState: c.lastState ?? {},
      ready: c.ready ?? false,
      restartCount: c.restartCount ?? 0,
      image: c.image ?? "",
      imageID: c.imageID ?? "",
      ...stripNil(c, ["name", "state", "lastState", "ready", "restartCount", "image", "imageID"]),
    }));
  }
  return s;
}

function stripNil(o: Obj, skip: string[]): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (!skip.includes(k) && v !== undefined && v !== null) out[k] = v;
  return out;
}

const emptyNodeInfo = {
  machineID: "", systemUUID: "", bootID: "", kernelVersion: "", osImage: "", containerRuntimeVersion: "",
  kubeletVersion: "", kubeProxyVersion: "", operatingSystem: "", architecture: "",
};

/** The object as a client of `version` sees it; `typeMeta` false for list items. */
export function render(def: ResourceDef, version: string, obj: KObj, typeMeta = true): Obj {
  const out: Obj = typeMeta ? { kind: def.kind, apiVersion: groupVersion(def.group, version) } : {};
  out.metadata = cleanMeta(obj.metadata);
  if (def.group === "events.k8s.io") return Object.assign(out, renderEventsApi(obj));
  for (const [k, v] of Object.entries(obj)) if (k !== "metadata" && k !== "kind" && k !== "apiVersion") out[k] = v;
  switch (def.kind) {
    case "Node":
      out.spec = out.spec ?? {};
      out.status = { ...(out.status ?? {}) };
      out.status.daemonEndpoints ??= { kubeletEndpoint: { Port: 0 } };
      out.status.nodeInfo ??= emptyNodeInfo;
      break;
    case "Event":
      Object.assign(out, renderCoreEvent(obj));
      break;
    case "PodDisruptionBudget": {
      const st = obj.status ?? {};
      const status: Obj = {};
      if (st.observedGeneration) status.observedGeneration = st.observedGeneration;
      if (st.disruptedPods && Object.keys(st.disruptedPods).length) status.disruptedPods = st.disruptedPods;
      status.disruptionsAllowed = st.disruptionsAllowed ?? 0;
      status.currentHealthy = st.currentHealthy ?? 0;
      status.desiredHealthy = st.desiredHealthy ?? 0;
      status.expectedPods = st.expectedPods ?? 0;
      if (st.conditions?.length) status.conditions = st.conditions;
      out.status = status;
      break;
    }
  }
  return out;
}

function renderCoreEvent(ev: KObj): Obj {
  const o: Obj = {};
  o.involvedObject = ev.involvedObject ?? {};
  if (ev.reason !== undefined) o.reason = ev.reason;
  if (ev.message !== undefined) o.message = ev.message;
  o.source = ev.source ?? {};
  o.firstTimestamp = ev.firstTimestamp ?? null;
  o.lastTimestamp = ev.lastTimestamp ?? null;
  if (ev.count) o.count = ev.count;
  if (ev.type !== undefined) o.type = ev.type;
  o.eventTime = ev.eventTime ?? null;
  if (ev.series) o.series = ev.series;
  if (ev.action) o.action = ev.action;
  if (ev.related) o.related = ev.related;
  o.reportingComponent = ev.reportingComponent ?? "";
  o.reportingInstance = ev.reportingInstance ?? "";
  return o;
}

function renderEventsApi(ev: KObj): Obj {
  const o: Obj = { eventTime: ev.eventTime ?? null };
  if (ev.series) o.series = ev.series;
  if (ev.reportingComponent) o.reportingController = ev.reportingComponent;
  if (ev.reportingInstance) o.reportingInstance = ev.reportingInstance;
  if (ev.action) o.action = ev.action;
  if (ev.reason) o.reason = ev.reason;
  o.regarding = ev.involvedObject ?? {};
  if (ev.related) o.related = ev.related;
  if (ev.message) o.note = ev.message;
  if (ev.type) o.type = ev.type;
  o.deprecatedSource = ev.source ?? {};
  o.deprecatedFirstTimestamp = ev.firstTimestamp ?? null;
  o.deprecatedLastTimestamp = ev.lastTimestamp ?? null;
  if (ev.count) o.deprecatedCount = ev.count;
  return o;
}

export { ApiError };
