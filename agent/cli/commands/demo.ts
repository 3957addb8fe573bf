import { Command, InvalidArgumentError } from "commander";
import { ExitCode, ExitError } from "../../ports";
import type { CliContext } from "../context";
import { parseWindowArg, WINDOW_ARG_HELP } from "../demo/window-arg";
import { loadHeavy } from "../load-heavy";

const whole = (min: number, max: number) => (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
  return Number(value);
};

const speed = (value: string): number | "max" | "auto" => {
  if (value === "max" || value === "auto") return value;
  return whole(1, 100_000)(value);
};

const windowArg = (value: string, prev: ReturnType<typeof parseWindowArg>[] = []) => {
  try {
    return [...prev, parseWindowArg(value)];
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

interface DemoFlags {
  nodes: number;
  podsPerNode: number;
  concurrency: number;
  rebootSeconds: number;
  pdb?: boolean;
  window?: ReturnType<typeof parseWindowArg>[];
  seed: number;
  speed: number | "max" | "auto";
}

/** `sluice demo`: a simulated fleet rolling through its reboots, on this machine. */
export function demoCommand(ctx: CliContext): Command {
  return new Command("demo")
    .description("watch a simulated fleet reboot for an OS update: the real agent on every simulated host, against an in-memory API server")
    .option("--nodes <n>", "simulated nodes", whole(1, 2000), 12)
    .option("--concurrency <n>", "reboot slots (nodes rebooting at once)", whole(1, 100), 2)
    .option("--reboot-seconds <s>", "how long one host takes to reboot (simulated; each varies by up to 20%)", whole(1, 3600), 90)
    .option("--pods-per-node <n>", "workload pods per node", whole(0, 50), 3)
    .option("--pdb", "put the workload behind a PodDisruptionBudget (maxUnavailable 1)")
    .option("--window <spec>", `maintenance window, repeatable: ${WINDOW_ARG_HELP}`, windowArg)
    .option("--seed <n>", "seed of the simulation's randomness (the same seed, the same run)", whole(0, 2 ** 31), 1)
    .option("--speed <x>", "simulated seconds per real second, max (jump between events) or auto", speed, "auto")
    .action(async (f: DemoFlags) => {
      const { runDemo } = await loadHeavy();
      // auto: watchable in real time when the ideal rollout fits in about two minutes at x60.
      const ideal = Math.ceil(f.nodes / f.concurrency) * (f.rebootSeconds + 90);
      const chosen = f.speed === "auto" ? (f.window?.length || ideal / 60 > 120 ? "max" : 60) : f.speed;
      const out = ctx.stdout as { write(s: string): unknown; isTTY?: boolean; columns?: number };
      const summary = await runDemo({
        nodes: f.nodes, concurrency: f.concurrency, rebootMs: f.rebootSeconds * 1000, podsPerNode: f.podsPerNode, pdb: f.pdb === true,
        windows: f.window ?? [], seed: f.seed, speed: chosen, tty: out.isTTY === true, ...(out.columns ? { columns: out.columns } : {}), out, signal: ctx.signal,
      });
      // The demo says the truth: a run that broke an invariant is a failure of sluice.
      if (summary.violations.length) throw new ExitError(ExitCode.internal, "demo-invariant-broken", `${summary.violations.length} invariant violation(s); see the summary`);
    });
}
