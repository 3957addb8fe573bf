/**
 * Cordon and uncordon by merge patch of spec.unschedulable. Whether the node was already
 * unschedulable is returned (and offered to the caller before the patch, to persist), so that an
 * administrator's cordon survives the reboot: sluice uncordons only what it cordoned.
 */
import { errorMessage } from "../ports";
import type { DrainDeps } from "./types";

type Deps = Pick<DrainDeps, "kube" | "log" | "events">;

export interface CordonResult {
  /** The node was unschedulable before sluice looked: someone else's cordon, to be left alone. */
  wasUnschedulable: boolean;
}

/**
 * `beforePatch` runs after the node is read and before it is cordoned: the state machine persists
 * `wasUnschedulable` there, so a crash between the two steps cannot make sluice mistake its own
 * cordon for an administrator's (and leave the node cordoned).
 */
export async function cordon(deps: Deps, node: string, beforePatch?: (r: CordonResult) => Promise<void>): Promise<CordonResult> {
  const n = await deps.kube.getNode(node);
  const r: CordonResult = { wasUnschedulable: n.spec?.unschedulable === true };
  await beforePatch?.(r);
  if (r.wasUnschedulable) {
    deps.log.info("node already cordoned; it will stay cordoned after the reboot", { node });
    await deps.events.record({ node, type: "Normal", reason: "AlreadyCordoned", message: `${node} was already unschedulable; sluice will leave it cordoned after the reboot` });
    return r;
  }
  await deps.kube.patchNode(node, { unschedulable: true });
  deps.log.info("cordoned", { node });
  await deps.events.record({ node, type: "Normal", reason: "Cordoned", message: `sluice cordoned ${node}` });
  return r;
}

/**
 * Uncordons unless the node was unschedulable before sluice cordoned it. Returns whether it
 * patched. Errors propagate: a node left cordoned must not be reported as uncordoned.
 */
export async function uncordon(deps: Deps, node: string, wasUnschedulable: boolean): Promise<boolean> {
  if (wasUnschedulable) {
    deps.log.info("leaving the node cordoned: it was cordoned before sluice drained it", { node });
    return false;
  }
  try {
    await deps.kube.patchNode(node, { unschedulable: false });
  } catch (err) {
    deps.log.warning("cannot uncordon", { node, error: errorMessage(err) });
    throw err;
  }
  deps.log.info("uncordoned", { node });
  await deps.events.record({ node, type: "Normal", reason: "Uncordoned", message: `sluice uncordoned ${node}` });
  return true;
}
