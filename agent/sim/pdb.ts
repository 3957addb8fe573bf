/**
 * The disruption controller's arithmetic (pkg/controller/disruption), pure so it is table-tested.
 * The sim has no controller-manager; its disruption controller calls this after every pod or PDB
 * change so that `disruptionsAllowed` recovers as the real one would.
 */
export type IntOrPercent = number | string;

export interface PdbSpecLike {
  minAvailable?: IntOrPercent;
  maxUnavailable?: IntOrPercent;
}

export interface PdbStatusFigures {
  disruptionsAllowed: number;
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
}

/** intstr.GetScaledValueFromIntOrPercent with roundUp: "50%" of 3 is 2. Throws on a malformed value. */
export function scaledValue(v: IntOrPercent, total: number, roundUp: boolean): number {
  if (typeof v === "number") return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) {
    if (/^\d+$/.test(v)) return Number(v);
    throw new Error(`invalid value for IntOrString: invalid value "${v}": must be an integer or a percentage`);
  }
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/**
 * expectedPods is the number of pods the PDB covers (the real controller reads the owners' scale;
 * the sim counts matching pods, which equals it while owners keep their replicas).
 */
export function pdbFigures(spec: PdbSpecLike, expectedPods: number, currentHealthy: number): PdbStatusFigures {
  let desiredHealthy: number;
  if (spec.maxUnavailable !== undefined && spec.maxUnavailable !== null) {
    const maxUnavailable = scaledValue(spec.maxUnavailable, expectedPods, true);
    desiredHealthy = Math.max(0, expectedPods - maxUnavailable);
  } else if (spec.minAvailable !== undefined && spec.minAvailable !== null) {
    desiredHealthy = scaledValue(spec.minAvailable, expectedPods, true);
  } else {
    // Neither set: the API defaults minAvailable to 1 for v1beta1 and treats v1 as maxUnavailable 0.
    desiredHealthy = expectedPods;
  }
  const disruptionsAllowed = Math.max(0, currentHealthy - desiredHealthy);
  return { disruptionsAllowed, currentHealthy, desiredHealthy, expectedPods };
}

/** A pod counts as healthy when it is Ready and not being deleted (countHealthyPods). */
export function isPodHealthy(pod: { metadata?: { deletionTimestamp?: unknown }; status?: { conditions?: { type?: string; status?: string }[] } }): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  return (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}
