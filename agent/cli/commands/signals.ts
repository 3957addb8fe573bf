import { Command } from "commander";
import type { RebootNeed } from "../../signals";
import { loadFromCommand, withConfigOptions } from "../config-options";
import { rebootSignals } from "../clients";
import type { CliContext } from "../context";

/**
 * `sluice signals`: what the agent would conclude about this host right now, from the same
 * configuration (file, drop-ins, SLUICE_*, flags such as --reboot-sentinel and --update-engine).
 * Without --once it keeps printing every change until stopped: a way to watch an update land.
 */
export function signalsCommand(ctx: CliContext): Command {
  const cmd = new Command("signals")
    .description("print whether this host needs a reboot and why (sentinel file, sentinel command, update_engine), then every change")
    .option("--once", "print the current answer and exit")
    .option("--json", "one JSON object a line");
  withConfigOptions(cmd);
  cmd.action(async () => {
    const opts = cmd.opts() as { once?: boolean; json?: boolean };
    const s = (await loadFromCommand(cmd, ctx)).settings;
    const signals = await rebootSignals(s, ctx.env, ctx.log);
    const print = (need: RebootNeed) => ctx.stdout.write(opts.json ? `${JSON.stringify(need)}\n` : `${formatNeed(need)}\n`);
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    try {
      print(await signals.start(stop.signal));
      if (!opts.once && !stop.signal.aborted) {
        signals.onChange(print);
        await new Promise<void>((resolve) => stop.signal.addEventListener("abort", () => resolve(), { once: true }));
      }
    } finally {
      ctx.signal.removeEventListener("abort", onAbort);
      stop.abort();
      await signals.stopped();
    }
  });
  return cmd;
}

/** One line for a person: the answer, then each source's reason. */
export function formatNeed(need: RebootNeed): string {
  const head = need.needed ? "reboot needed" : "no reboot needed";
  const extra = [need.newVersion ? `new version ${need.newVersion}` : "", need.since !== undefined ? `since ${new Date(need.since).toISOString()}` : ""]
    .filter(Boolean)
    .join(", ");
  const reasons = need.reasons.map((r) => `${r.source}: ${r.needed ? "needed" : "not needed"} (${r.detail}${r.health === "ok" ? "" : `; ${r.health}`})`);
  return [extra ? `${head} (${extra})` : head, ...reasons.map((r) => `  ${r}`)].join("\n");
}
