/**
 * Every configuration key: its default, its parser and what it means. kured's keys keep kured's
 * names, defaults and meanings (except where DESIGN.md says otherwise, noted in `doc`); sluice's
 * own keys follow. The Settings type is derived from this table, so a key cannot be added
 * without a default and a parser.
 */
import * as v from "./values";
import type { Parser } from "./values";
import type { WindowSpec } from "../window/window";

interface KeyDef<T> {
  parse: Parser<T>;
  default: T;
  doc: string;
  /** Secret values are shown as *** by check-config. */
  secret?: boolean;
  /** How check-config shows the parsed value: as a Go duration, a time of day, or day names. */
  shownAs?: "duration" | "time-of-day" | "days";
}

const key = <T>(parse: Parser<T>, def: T, doc: string, extra: Partial<KeyDef<T>> = {}): KeyDef<T> => ({ parse, default: def, doc, ...extra });

/** A maintenance window as configured: the window module's own spec (agent/window/window.ts). */
export type WindowConfig = WindowSpec;

const ALL_DAYS = [0, 1, 2, 3, 4, 5, 6];

/** The largest leaseDurationSeconds the API server takes (int32; past it answers 400). */
export const MAX_LEASE_SECONDS = 2 ** 31 - 1;

/**
 * 0 or at least 3 s (the holder renews every third of it, which must survive a slow request), and
 * no longer than a Lease can say (leaseDurationSeconds is int32).
 */
const lockTtl: Parser<number> = (raw) => {
  const allowed = `0 (never expires) or a duration in Go syntax such as 30m, not negative, at least 3s and at most ${MAX_LEASE_SECONDS}s (leaseDurationSeconds is int32)`;
  let ms: number;
  try {
    ms = v.duration()(raw);
  } catch {
    throw new v.Invalid(allowed);
  }
  if ((ms > 0 && ms < 3000) || Math.ceil(ms / 1000) > MAX_LEASE_SECONDS) throw new v.Invalid(allowed);
  return ms;
};

export const SCHEMA = {
  // --- where and who
  nodeName: key(v.nodeName, "", "This node's Kubernetes name; empty means the host name."),
  namespace: key(v.dnsLabel(63, "a namespace name"), "sluice", "Namespace of the lock Leases."),
  // 63 is a label value's limit; "sluice-" + group + "-wait-" + a node name must also fit a Lease name (253).
  group: key(v.dnsLabel(63, "a group name"), "default", "Reboot group: nodes in one group share the slots (e.g. one group per zone)."),
  kubeconfig: key(v.absolutePath, "/etc/sluice/kubeconfig", "Kubeconfig of the sluice ServiceAccount (Leases; also node work unless nodeKubeconfig is set)."),
  nodeKubeconfig: key(v.absolutePath, "", "Optional kubeconfig with the node's own credentials (cordon, evictions, Events), e.g. /var/lib/kubelet/kubeconfig."),
  stateDir: key(v.absolutePath, "/var/lib/sluice", "Where state.json is kept (systemd StateDirectory)."),

  // --- when
  period: key(v.duration(1000), 60_000, "How often to re-check everything even without an event (kured: 1h; sluice is event-driven, this is only the safety net).", { shownAs: "duration" }),
  startTime: key(v.timeOfDay, 0, "Reboot window start, kured formats (8, 15, 3pm, 15:04, 15:04:05).", { shownAs: "time-of-day" }),
  endTime: key(v.timeOfDay, 23 * 3600 + 59 * 60 + 59, "Reboot window end, kured formats and kured's rule: the end second is inside the window; before startTime, the window crosses midnight.", { shownAs: "time-of-day" }),
  timeZone: key(v.timeZone, "UTC", "Zone of startTime/endTime: IANA name or Local."),
  rebootDays: key(v.weekdays, ALL_DAYS, "Days the window opens: su, mon, tuesday, 0-6 …", { shownAs: "days" }),
  windows: key<WindowConfig[]>(windowsParser(), [], "sluice's own windows: a list of {days, start, end | length, timeZone}; replaces startTime/endTime/rebootDays/timeZone."),

  // --- the lock
  concurrency: key(v.int(1, 10_000), 1, "How many nodes of the group may reboot at once."),
  lockTtl: key(lockTtl, 0, "Reclaim a slot whose Lease has not changed for this long (0: never; otherwise at least 3s, and it must exceed the longest reboot).", { shownAs: "duration" }),
  lockReleaseDelay: key(v.duration(), 0, "Keep the slot this long after the node is back, before handing it on.", { shownAs: "duration" }),
  renewDeadline: key(v.duration(1000), 30_000, "No drain step and no reboot starts unless the slot was last confirmed (renewed or read) within this; with lockTtl it must be shorter than lockTtl.", { shownAs: "duration" }),

  // --- the need and the reboot
  rebootSentinel: key(v.absolutePath, "/var/run/reboot-required", "A file whose existence means a reboot is needed."),
  rebootSentinelCommand: key(v.command, [] as string[], "A command; exit 0 means a reboot is needed (replaces nothing: all sources are combined)."),
  rebootSentinelCommandTimeout: key(v.duration(1000, 86_400_000), 30_000, "Kill rebootSentinelCommand after this long and count the run as \"not needed\", with a warning.", { shownAs: "duration" }),
  updateEngine: key(v.oneOf(["auto", "on", "off"] as const), "auto", "Watch Flatcar's update_engine over D-Bus: auto (if present), on (required), off."),
  rebootCommand: key(v.requiredCommand, ["systemctl", "reboot"], "Command that reboots the host."),
  rebootDelay: key(v.duration(), 0, "Wait this long after draining before rebooting.", { shownAs: "duration" }),
  rebootTimeout: key(v.duration(10_000), 600_000, "If the host is still up this long after rebootCommand, run it once more; still up after that: report and keep the slot (a person decides).", { shownAs: "duration" }),
  rebootCooldown: key(v.duration(), 0, "A node that completed a reboot does not take a slot again before this has passed.", { shownAs: "duration" }),
  windowMargin: key(v.duration(), 900_000, "Start a drain only if the window stays open at least this long.", { shownAs: "duration" }),
  inhibitPaths: key(v.list(v.absolutePath, "absolute directory paths"), ["/run/sluice/inhibit", "/etc/sluice/inhibit.d"], "Directories whose files each block taking a slot; a file's first line is the reason."),

  // --- the drain
  drainGracePeriod: key(v.int(-1, 86_400), -1, "Seconds each pod gets to terminate; -1 means the pod's own."),
  drainTimeout: key(v.duration(), 0, "Give up draining after this long (0: never).", { shownAs: "duration" }),
  drainDelay: key(v.duration(), 0, "Wait this long after cordoning before evicting.", { shownAs: "duration" }),
  drainPodSelector: key(v.selector, "", "Only evict pods matching this label selector."),
  skipWaitForDeleteTimeout: key(v.int(0, 86_400), 0, "Stop waiting for a pod whose deletionTimestamp is older than this many seconds (0: always wait)."),
  forceReboot: key(v.bool, false, "Reboot even if the drain failed or timed out."),

  // --- blockers
  blockingPodSelector: key(v.list(v.selector, "label selectors", true), [] as string[], "Do not reboot while pods on this node match any of these selectors (a YAML list; from env or a flag, one selector)."),
  prometheusUrl: key(v.url(["http", "https"]), "", "Prometheus to ask for firing alerts; empty disables the check."),
  alertFilterRegexp: key(v.regexp, "", "Alert names matching this are ignored (or, with alertFilterMatchOnly, the only ones considered)."),
  alertFilterMatchOnly: key(v.bool, false, "Consider only alerts matching alertFilterRegexp."),
  alertFiringOnly: key(v.bool, false, "Consider only firing alerts, not pending ones."),

  // --- marking the node
  annotateNodes: key(v.bool, false, "Annotate the node with the reboot in progress and the most recent need."),
  kuredAnnotations: key(v.bool, false, "With annotateNodes, also write kured's weave.works/kured-reboot-in-progress and weave.works/kured-most-recent-reboot-needed (for dashboards that read them)."),
  preRebootNodeLabels: key(v.list(v.label, "labels key=value"), [] as string[], "Labels set before cordoning."),
  postRebootNodeLabels: key(v.list(v.label, "labels key=value"), [] as string[], "Labels set after uncordoning."),
  preferNoScheduleTaint: key(v.taintKey, "", "Taint key set with PreferNoSchedule while a reboot is pending (empty: none)."),
  scaleDownProtection: key(v.bool, true, "While sluice holds the node, annotate it cluster-autoscaler.kubernetes.io/scale-down-disabled=true (removed afterwards if sluice set it)."),
  excludeFromLoadBalancers: key(v.bool, false, "While sluice holds the node, label it node.kubernetes.io/exclude-from-external-load-balancers (removed afterwards if sluice set it)."),

  // --- notifications
  notifyUrl: key(v.url(null), "", "Where to send notifications (Slack, Teams, Discord or a generic webhook; shoutrrr-style URLs).", { secret: true }),
  slackHookUrl: key(v.url(["https"]), "", "kured's deprecated Slack webhook; converted to notifyUrl slack://… as kured does, unless notifyUrl is set.", { secret: true }),
  messageTemplateDrain: key(v.str(), "Draining node %s", "Notification when the drain starts; %s is the node name."),
  messageTemplateReboot: key(v.str(), "Rebooting node %s", "Notification when the reboot starts."),
  messageTemplateUncordon: key(v.str(), "Node %s rebooted & uncordoned successfully!", "Notification when the node is back."),

  // --- observability
  metricsHost: key(v.listenHost, "127.0.0.1", "Address of the metrics listener (loopback by default; kured: all interfaces)."),
  metricsPort: key(v.int(0, 65_535), 9747, "Port of the metrics listener; 0 disables it."),
  kuredMetrics: key(v.bool, false, "Also export kured's kured_reboot_required{node}, so a migrating operator's dashboards and alerts keep working."),
  logFormat: key(v.oneOf(["text", "json"] as const), "text", "text or json (one object a line)."),
  logLevel: key(v.oneOf(["error", "warning", "notice", "info", "debug"] as const), "info", "Least important level logged."),
} as const;

export type ConfigKey = keyof typeof SCHEMA;
export type Settings = { -readonly [K in ConfigKey]: (typeof SCHEMA)[K]["default"] extends infer D ? (D extends readonly (infer E)[] ? E[] : D) : never };
export const CONFIG_KEYS = Object.keys(SCHEMA) as ConfigKey[];

export function defaults(): Settings {
  return structuredClone(Object.fromEntries(CONFIG_KEYS.map((k) => [k, SCHEMA[k].default]))) as Settings;
}

/**
 * kured keys that have no meaning for sluice. They are accepted (a kured values file must load
 * unchanged) and each one is named in a warning with the reason, never silently dropped.
 */
export const KURED_ONLY_KEYS: Record<string, string> = {
  dsName: "sluice has no DaemonSet: the lock is a set of Leases",
  dsNamespace: "sluice has no DaemonSet: the Leases live in `namespace`",
  lockAnnotation: "sluice keeps its lock in Leases, not in a DaemonSet annotation",
  useRebootSentinelHostPath: "sluice runs on the host and reads the sentinel directly",
  rebootMethod: "sluice always reboots with rebootCommand",
  rebootSignal: "sluice always reboots with rebootCommand",
  slackUsername: "deprecated in kured; give the name in notifyUrl",
  slackChannel: "deprecated in kured; give the channel in notifyUrl",
};

/** `SLUICE_LOCK_TTL` for lockTtl. */
export function envName(k: ConfigKey): string {
  return `SLUICE_${k.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()}`;
}

/** `--lock-ttl` for lockTtl. */
export function flagName(k: ConfigKey): string {
  return k.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

function windowsParser(): Parser<WindowConfig[]> {
  const allowed = "a list of windows, each {days: [mon, …], start: 22:00, end: 04:00 | length: 2h, timeZone: Europe/Berlin}";
  const fields = ["days", "start", "end", "length", "timeZone"];
  return (raw) => {
    if (raw === null || raw === undefined || raw === "") return [];
    if (!Array.isArray(raw)) throw new v.Invalid(allowed);
    return raw.map((w, i) => {
      if (!w || typeof w !== "object" || Array.isArray(w)) throw new v.Invalid(allowed);
      const o = w as Record<string, unknown>;
      const at = (what: string) => `window ${i + 1}: ${what}`;
      const unknown = Object.keys(o).filter((k) => !fields.includes(k));
      if (unknown.length) throw new v.Invalid(at(`unknown field ${unknown.join(", ")}; fields are ${fields.join(", ")}`));
      const sub = <T>(p: Parser<T>, val: unknown, name: string): T => {
        try {
          return p(val);
        } catch (e) {
          if (e instanceof v.Invalid) throw new v.Invalid(at(`${name} must be ${e.allowed}`));
          throw e;
        }
      };
      if (o.start === undefined) throw new v.Invalid(at("start is required"));
      if ((o.end === undefined) === (o.length === undefined)) throw new v.Invalid(at("exactly one of end and length is required"));
      const spec: WindowConfig = {
        days: o.days === undefined ? ALL_DAYS : sub(v.weekdays, o.days, "days"),
        startSec: sub(v.timeOfDay, o.start, "start"),
        timeZone: o.timeZone === undefined ? "UTC" : sub(v.timeZone, o.timeZone, "timeZone"),
      };
      if (o.end !== undefined) spec.endSec = sub(v.timeOfDay, o.end, "end");
      if (spec.endSec === spec.startSec) throw new v.Invalid(at("start and end are the same time; for a whole day write length: 24h"));
      if (o.length !== undefined) {
        const ms = sub(v.duration(60_000), o.length, "length");
        if (ms > 7 * 86_400_000) throw new v.Invalid(at("length must be at most 168h"));
        spec.lengthSec = Math.round(ms / 1000);
      }
      if (spec.days.length === 0) throw new v.Invalid(at("days must name at least one day"));
      return spec;
    });
  };
}
