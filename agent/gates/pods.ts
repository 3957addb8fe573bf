/**
 * blockingPodSelector (kured): no reboot while a pod on this node matches any selector. Finished
 * pods do not block; like kured (phase != Succeeded, Failed, Unknown) a pod whose phase is
 * Unknown does not either: its state is not known to the API, so it cannot be waited out.
 */
import type { Kube, V1Pod } from "../kube";
import { errorMessage } from "../ports";
import type { GateResult } from "./types";

const NOT_BLOCKING = new Set(["Succeeded", "Failed", "Unknown"]);
const MAX_NAMED = 5;

export function blocksReboot(pod: V1Pod): boolean {
  return !NOT_BLOCKING.has(pod.status?.phase ?? "");
}

export async function blockingPods(kube: Pick<Kube, "listPodsOnNode">, node: string, selectors: string[]): Promise<GateResult> {
  const reasons: string[] = [];
  let error = false;
  for (const selector of selectors.filter((s) => s.trim() !== "")) {
    try {
      const pods = (await kube.listPodsOnNode(node, selector)).items.filter(blocksReboot);
      if (!pods.length) continue;
      const names = pods.slice(0, MAX_NAMED).map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`);
      const more = pods.length > MAX_NAMED ? ` and ${pods.length - MAX_NAMED} more` : "";
      reasons.push(`${pods.length} pod(s) matching blockingPodSelector "${selector}" on ${node}: ${names.join(", ")}${more}`);
    } catch (err) {
      error = true;
      reasons.push(`cannot check blockingPodSelector "${selector}": ${errorMessage(err)}`);
    }
  }
  return { gate: "pods", blocked: reasons.length > 0, reasons, ...(error ? { error } : {}) };
}
