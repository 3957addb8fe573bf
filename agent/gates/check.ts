/**
 * checkBlockers: every configured gate, evaluated together before a slot is taken. The reboot is
 * blocked if any gate blocks — including a gate that could not be evaluated, because rebooting
 * while a blocker is unknown is the unsafe choice.
 */
import type { Kube } from "../kube";
import type { Logger } from "../log";
import { blockingPods } from "./pods";
import { type AlertFilter, type FetchLike, prometheusAlerts } from "./prometheus";
import type { BlockersResult, GateResult } from "./types";

export interface BlockersOptions {
  node: string;
  /** blockingPodSelector */
  podSelectors: string[];
  /** prometheusUrl; "" disables the alerts gate. */
  prometheusUrl: string;
  alerts: AlertFilter;
}

export interface BlockersDeps {
  kube: Pick<Kube, "listPodsOnNode">;
  /** Node's global fetch in production. */
  fetch: FetchLike;
  log: Logger;
}

export async function checkBlockers(o: BlockersOptions, deps: BlockersDeps, signal?: AbortSignal): Promise<BlockersResult> {
  const checks: Promise<GateResult>[] = [];
  if (o.podSelectors.some((s) => s.trim() !== "")) checks.push(blockingPods(deps.kube, o.node, o.podSelectors));
  if (o.prometheusUrl) checks.push(prometheusAlerts(deps.fetch, o.prometheusUrl, o.alerts, signal));
  const gates = await Promise.all(checks);
  const reasons = gates.flatMap((g) => g.reasons);
  const blocked = gates.some((g) => g.blocked);
  if (blocked) deps.log.info("reboot blocked", { node: o.node, reasons });
  return { blocked, reasons, gates };
}
