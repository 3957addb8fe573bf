/**
 * Names, labels and annotations of the lock's Leases: the wire contract between agents of
 * different versions and `kubectl get leases -n sluice`, so they change only with a migration.
 */
import { createHash } from "node:crypto";

export const GROUP_LABEL = "sluice.dev/group";
/** "slot", "waiter" or "pause": lets list/watch consumers tell the three kinds apart. */
export const ROLE_LABEL = "sluice.dev/role";
export const SLOT_LABEL = "sluice.dev/slot";

export const PHASE_ANNOTATION = "sluice.dev/phase";
export const BOOT_ID_ANNOTATION = "sluice.dev/boot-id";
export const WAS_UNSCHEDULABLE_ANNOTATION = "sluice.dev/was-unschedulable";
export const CONCURRENCY_ANNOTATION = "sluice.dev/concurrency";
/** On a slot: when its holder started needing the reboot (for fairness figures and `lock list`). */
export const NEED_SINCE_ANNOTATION = "sluice.dev/need-since";

export type LeaseRole = "slot" | "waiter" | "pause";

export function groupSelector(group: string): string {
  return `${GROUP_LABEL}=${group}`;
}

export function slotName(group: string, index: number): string {
  return `sluice-${group}-${index}`;
}

export function pauseName(group: string): string {
  return `sluice-${group}-paused`;
}

/**
 * A Lease name is a DNS subdomain (at most 253 characters). Node names may be that long too, so a
 * name that would not fit keeps a readable prefix and ends in a hash of the node name.
 */
export function waiterName(group: string, node: string): string {
  const name = `sluice-${group}-wait-${node}`;
  if (name.length <= 253) return name;
  const hash = createHash("sha256").update(node).digest("hex").slice(0, 16);
  return `${name.slice(0, 236)}-${hash}`;
}

export function labelsFor(group: string, role: LeaseRole, slot?: number): Record<string, string> {
  const labels: Record<string, string> = { [GROUP_LABEL]: group, [ROLE_LABEL]: role };
  if (slot !== undefined) labels[SLOT_LABEL] = String(slot);
  return labels;
}
