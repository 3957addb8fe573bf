import { Command } from "commander";
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { DateTime } from "luxon";
import type { LoadedConfig } from "../../config";
import { nodeFs } from "../../host";
import { type LockState, readLockState } from "../../lock";
import type { SignalsStatus } from "../../signals";
import { errorMessage } from "../../ports";
import { type Logger, nullLogger, redactText, redactValue } from "../../log";
import { StateStore, type PersistedState } from "../../reboot/store";
import { describeState } from "../../reboot/state";
import { readStatusFile, type AgentStatusFile } from "../../reboot/status-file";
import { QUEUED } from "../../reboot/tick-pending";
import { describeWindow, nextWindowOpening, windowContains } from "../../window";
import { loadFromCommand, withConfigOptions } from "../config-options";
import type { CliContext } from "../context";
import { kubeClient, rebootSignals } from "../clients";
import { formatAge, formatLockState } from "./lock";
import { formatNeed } from "./signals";

export interface StatusReport {
  node: string;
  /** From state.json; undefined when the agent has written none yet. */
  agent: PersistedState | undefined;
  agentError?: string;
  /** What the running agent last said it waits for (status.json), when it is about the stored state. */
  waiting?: AgentStatusFile;
  /** What the reboot-need sources say right now (each looked once). */
  signals?: SignalsStatus;
  signalsError?: string;
  window: { open: boolean; windows: string[]; nextOpening?: string; zone: string };
  lock?: LockState;
  lockError?: string;
}

/**
 * `sluice status`: this node's state and why, the window, the group's slots and queue. Every part
 * is read separately and a part that cannot be read is shown as such: a status that fails
 * because the API server is down would be useless exactly when it is needed.
 */
export async function collectStatus(loaded: LoadedConfig, nowMs: number, env: Record<string, string | undefined>, log: Logger = nullLogger): Promise<StatusReport> {
  const s = loaded.settings;
  const report: StatusReport = {
    node: s.nodeName || hostname(),
    agent: undefined,
    window: { open: windowContains(loaded.windows, nowMs), windows: loaded.windows.map(describeWindow), zone: loaded.windows[0]?.timeZone ?? "UTC" },
  };
  try {
    report.agent = await new StateStore(nodeFs, s.stateDir).load();
    const w = await readStatusFile(nodeFs, s.stateDir);
    if (w && report.agent && w.phase === report.agent.state.phase && w.since === report.agent.state.since) report.waiting = w;
  } catch (err) {
    report.agentError = errorMessage(err);
  }
  try {
    report.signals = await signalsSnapshot(loaded, env);
  } catch (err) {
    report.signalsError = errorMessage(err);
  }
  const next = nextWindowOpening(loaded.windows, nowMs);
  if (next) report.window.nextOpening = DateTime.fromMillis(next.start, { zone: report.window.zone === "local" ? "system" : report.window.zone }).toISO() ?? undefined;
  if (!existsSync(s.kubeconfig)) {
    report.lockError = `no kubeconfig at ${s.kubeconfig}`;
    return report;
  }
  try {
    const kube = await kubeClient(s, env, log);
    try {
      report.lock = await readLockState(kube, { namespace: s.namespace, group: s.group, concurrency: s.concurrency });
    } finally {
      kube.close();
    }
  } catch (err) {
    report.lockError = errorMessage(err);
  }
  return report;
}

/** Each configured source looks once (file, command, update_engine), then all are stopped. */
async function signalsSnapshot(loaded: LoadedConfig, env: Record<string, string | undefined>): Promise<SignalsStatus> {
  const s = loaded.settings;
  const stop = new AbortController();
  // Bounded: a status must answer even if a sentinel command or the bus hangs.
  const timer = setTimeout(() => stop.abort(new Error("reboot-need sources did not answer within 10 s")), 10_000);
  const signals = await rebootSignals(s, env, nullLogger, { sentinelCommandTimeoutMs: Math.min(s.rebootSentinelCommandTimeout, 9_000) });
  try {
    await Promise.race([signals.start(stop.signal), new Promise((_, reject) => stop.signal.addEventListener("abort", () => reject(stop.signal.reason), { once: true }))]);
    return signals.status();
  } finally {
    clearTimeout(timer);
    stop.abort();
    await signals.stopped();
  }
}

/**
 * A queued agent's status line says only "queued for a reboot slot" (it does not rewrite it at
 * every take); the place in the queue and the holders come from the Leases read just now.
 */
function queueNote(r: StatusReport, why: string): string {
  if (r.agent?.state.phase !== "pending" || !r.lock || !why.startsWith(QUEUED)) return why;
  const at = r.lock.queue.findIndex((w) => w.node === r.node);
  const holders = r.lock.slots.filter((s) => s.holder && s.index < r.lock!.concurrency).map((s) => s.holder);
  const place = at >= 0 ? ` at position ${at + 1} of ${r.lock.queue.length}` : "";
  return `${QUEUED}${place} (held by ${holders.join(", ") || "nobody"})${why.slice(QUEUED.length)}`;
}

export function formatStatus(r: StatusReport, nowMs: number): string {
  const out: string[] = [];
  const a = r.agent;
  if (r.agentError) out.push(`node ${r.node}: state unknown (${r.agentError})`);
  else if (!a) out.push(`node ${r.node}: idle (the agent has recorded no state yet)`);
  else {
    const why = queueNote(r, r.waiting?.waiting || describeState(a.state));
    out.push(`node ${r.node}: ${a.state.phase} for ${formatAge(nowMs - a.state.since)}: ${why}`);
    if (a.node !== r.node) out.push(`  (state.json belongs to node ${a.node})`);
  }
  if (r.signals) out.push(formatNeed(r.signals.need));
  else out.push(`reboot need: unknown (${r.signalsError})`);
  const when = r.window.open ? "open now" : r.window.nextOpening ? `closed; opens ${r.window.nextOpening}` : "closed; never opens";
  out.push(`reboot window: ${r.window.windows.join("; ")}: ${when}`);
  const d = a?.lastDrain;
  if (d) {
    out.push(`last drain (${formatAge(nowMs - d.at)} ago): ${d.summary}`);
    for (const p of d.held) out.push(`  ${p.namespace}/${p.name}  ${p.state}  ${p.reason}${p.pdbs.length ? `  [PDB ${p.pdbs.join(", ")}]` : ""}`);
  }
  if (r.lock) out.push(formatLockState(r.lock, nowMs).trimEnd());
  else out.push(`slots: unknown (${r.lockError})`);
  return `${out.join("\n")}\n`;
}

export function statusCommand(ctx: CliContext): Command {
  const cmd = new Command("status").description("this node's reboot state and why, the window, and the group's slots and queue").option("--json", "one JSON object");
  withConfigOptions(cmd);
  cmd.action(async (opts: { json?: boolean }) => {
    const now = Date.now();
    const report = await collectStatus(await loadFromCommand(cmd, ctx), now, ctx.env, ctx.log);
    // Reasons quote what the world said (a blocker's Prometheus URL, an error): one redaction rule for every output.
    ctx.stdout.write(opts.json ? `${JSON.stringify(redactValue(report))}\n` : redactText(formatStatus(report, now)));
  });
  return cmd;
}
