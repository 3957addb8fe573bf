/**
 * The one table of legal transitions. `commit` refuses anything not in it; docs/usage/agent.md
 * draws the machine from it (a test keeps the drawing equal to this table). Each edge names the
 * Event it writes on the Node (reason in CamelCase, as `kubectl describe node` shows it) and,
 * where kured sends one, which notification.
 */
import type { Phase } from "./state";

export type EdgeName =
  | "need"
  | "need-gone"
  | "slot-taken"
  | "drained"
  | "forced"
  | "abort"
  | "requeue"
  | "abandon"
  | "retry-reboot"
  | "booted"
  | "recovered"
  | "released";

/** kured's three message templates, plus sluice's own. */
export type NotifyKind = "drain" | "reboot" | "uncordon" | "abort" | "retry";

export interface Edge {
  name: EdgeName;
  from: Phase;
  to: Phase;
  event: { reason: string; type: "Normal" | "Warning" };
  notify?: NotifyKind;
  /** For the drawing and the docs. */
  label: string;
}

const e = (name: EdgeName, from: Phase, to: Phase, reason: string, type: "Normal" | "Warning", label: string, notify?: NotifyKind): Edge => ({
  name, from, to, event: { reason, type }, label, ...(notify ? { notify } : {}),
});

export const EDGES: readonly Edge[] = [
  e("need", "idle", "pending", "RebootRequired", "Normal", "reboot needed"),
  e("need-gone", "pending", "idle", "RebootNoLongerRequired", "Normal", "need gone"),
  e("slot-taken", "pending", "draining", "RebootSlotTaken", "Normal", "window fits, not blocked, slot taken", "drain"),
  e("drained", "draining", "rebooting", "Rebooting", "Normal", "drained", "reboot"),
  e("forced", "draining", "rebooting", "RebootingUndrained", "Warning", "drain failed, forceReboot", "reboot"),
  e("abort", "draining", "aborting", "RebootAborted", "Warning", "drain failed, slot lost, window closing or need gone", "abort"),
  e("abort", "rebooting", "aborting", "RebootAborted", "Warning", "slot lost before the host went down", "abort"),
  e("requeue", "aborting", "pending", "RebootRequeued", "Normal", "uncordoned, slot released; still needed"),
  e("abandon", "aborting", "idle", "RebootAbandoned", "Normal", "uncordoned, slot released; no longer needed"),
  e("retry-reboot", "rebooting", "rebooting", "RebootRetried", "Warning", "still up after rebootTimeout", "retry"),
  e("booted", "rebooting", "recovering", "NodeRebooted", "Normal", "boot id changed"),
  e("recovered", "recovering", "releasing", "RebootCompleted", "Normal", "Ready, verified, uncordoned", "uncordon"),
  e("released", "releasing", "idle", "RebootSlotReleased", "Normal", "lockReleaseDelay passed, slot released"),
];

export function findEdge(from: Phase, to: Phase, name?: EdgeName): Edge | undefined {
  return EDGES.find((x) => x.from === from && x.to === to && (name === undefined || x.name === name));
}

/** The drawing of the machine (Graphviz dot), generated from the table. */
export function machineDot(): string {
  const lines = ["digraph sluice {", "  rankdir=LR;", "  node [shape=box, style=rounded];"];
  for (const x of EDGES) lines.push(`  ${x.from} -> ${x.to} [label="${x.name}: ${x.label}"];`);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}
