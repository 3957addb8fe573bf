import { hostname, userInfo } from "node:os";
import { Command } from "commander";
import type { Settings } from "../../config";
import { type Kube, isKubeError } from "../../kube";
import { type LockState, pauseGroup, readLockState, releaseSlotByOperator, resumeGroup } from "../../lock";
import { ExitCode, ExitError, SluiceError } from "../../ports";
import { loadFromCommand, withConfigOptions } from "../config-options";
import type { CliContext } from "../context";
import { kubeClient } from "../clients";

const lockAdmin = { readLockState, pauseGroup, resumeGroup, releaseSlotByOperator };
type LockAdmin = typeof lockAdmin;

/**
 * `sluice lock list|release|pause|resume`: an operator's view of and hands on a group's reboot
 * slots, with the same configuration as the agent (so --group, --namespace and --kubeconfig mean
 * what they mean to `sluice run`).
 */
export function lockCommand(ctx: CliContext): Command {
  const lock = new Command("lock").description("inspect and steer the group's reboot slots (Leases)");
  const sub = (name: string, description: string) => {
    const c = withConfigOptions(new Command(name).description(description));
    lock.addCommand(c.exitOverride().configureOutput({ writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(s) }));
    return c;
  };

  const list = sub("list", "print the slots (holder, phase, age) and the queue of waiting nodes").option("--json", "one JSON object");
  list.action(() =>
    run(list, ctx, async (kube, s, admin) => {
      const state = await admin.readLockState(kube, { namespace: s.namespace, group: s.group, concurrency: s.concurrency });
      ctx.stdout.write(list.opts().json ? `${JSON.stringify(state)}\n` : formatLockState(state, Date.now()));
    }),
  );

  const release = sub("release", "free a slot by hand (refused while its holder drains or reboots, unless --force)")
    .argument("<slot>", "slot index or Lease name, e.g. 0 or sluice-default-0")
    .option("--force", "release even a slot whose holder is draining or rebooting");
  release.action((slot: string) =>
    run(release, ctx, async (kube, s, admin) => {
      const r = await admin.releaseSlotByOperator(kube, { namespace: s.namespace, group: s.group }, slot, { force: Boolean(release.opts().force), nowMs: Date.now() });
      ctx.stdout.write(r.previousHolder ? `released ${r.slot} (was held by ${r.previousHolder}${r.phase ? `, ${r.phase}` : ""})\n` : `${r.slot} was already free\n`);
    }),
  );

  const pause = sub("pause", "let no node take a slot of the group; current holders finish");
  pause.action(() =>
    run(pause, ctx, async (kube, s, admin) => {
      const by = `${safeUser()}@${hostname()}`;
      const done = await admin.pauseGroup(kube, { namespace: s.namespace, group: s.group }, by, Date.now());
      ctx.stdout.write(done ? `group ${s.group} paused\n` : `group ${s.group} was already paused\n`);
    }),
  );

  const resume = sub("resume", "let waiting nodes take slots again");
  resume.action(() =>
    run(resume, ctx, async (kube, s, admin) => {
      const done = await admin.resumeGroup(kube, { namespace: s.namespace, group: s.group });
      ctx.stdout.write(done ? `group ${s.group} resumed\n` : `group ${s.group} was not paused\n`);
    }),
  );
  return lock;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}

async function run(cmd: Command, ctx: CliContext, body: (kube: Kube, s: Settings, admin: LockAdmin) => Promise<void>): Promise<void> {
  const s = (await loadFromCommand(cmd, ctx)).settings;
  const kube = await kubeClient(s, ctx.env, ctx.log);
  try {
    await body(kube, s, lockAdmin);
  } catch (err) {
    if (isKubeError(err)) throw new ExitError(ExitCode.unavailable, `kube-${err.code}`, `Kubernetes API: ${err.message}`, { cause: err });
    if (err instanceof SluiceError && !(err instanceof ExitError)) {
      throw new ExitError(err.code === "lock-bad-slot" ? ExitCode.usage : ExitCode.unavailable, err.code, err.message, { cause: err });
    }
    throw err;
  } finally {
    kube.close();
  }
}

/** Text from the cluster as it may reach a terminal: control characters shown escaped. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export function formatAge(ms: number): string {
  if (!(ms >= 0)) return "?";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60}s`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h}h${m % 60}m` : `${Math.floor(h / 24)}d${h % 24}h`;
}

/**
 * For a person. Ages compare the holder's timestamps with this host's clock: good enough to read,
 * never used to decide anything (the agents judge expiry on their own monotonic clocks).
 */
export function formatLockState(st: LockState, nowMs: number): string {
  const out: string[] = [];
  const paused = st.paused ? `PAUSED by ${printable(st.paused.by) || "?"}${st.paused.since ? ` since ${new Date(st.paused.since).toISOString()}` : ""}` : "not paused";
  out.push(`group ${st.group} in namespace ${st.namespace}: ${st.concurrency} slot${st.concurrency === 1 ? "" : "s"}, ${paused}`);
  const rows = [["SLOT", "HOLDER", "PHASE", "AGE", "RENEWED"]];
  for (const s of st.slots) {
    rows.push(s.holder
      ? [s.name, s.holder, s.phase ?? "-", s.acquireTime ? formatAge(nowMs - s.acquireTime) : "-", s.renewTime ? `${formatAge(nowMs - s.renewTime)} ago` : "-"]
      : [s.name, "-", "free", "", ""]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) out.push(r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
  for (const m of st.mismatches) out.push(`warning: ${m.holder} holds ${m.name} configured with concurrency ${m.concurrency}, not ${st.concurrency}`);
  for (const s of st.slots) if (s.index >= st.concurrency && s.holder) out.push(`warning: ${s.name} is beyond concurrency ${st.concurrency} and held by ${s.holder}`);
  for (const f of st.foreign ?? []) out.push(`warning: Lease ${printable(f.name)} is not sluice's and is left alone: it ${f.problem}${f.blocksSlot !== undefined ? ` (slot ${f.blocksSlot} cannot be used until it is removed)` : ""}`);
  out.push(st.queue.length ? `queue (${st.queue.length} waiting, next first):` : "queue: nobody waiting");
  st.queue.forEach((w, i) => out.push(`  ${i + 1}. ${w.node}  needs a reboot since ${new Date(w.needSince).toISOString()} (${formatAge(nowMs - w.needSince)})`));
  return `${out.join("\n")}\n`;
}
