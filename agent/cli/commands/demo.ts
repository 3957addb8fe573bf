import { Command, InvalidArgumentError } from "commander";
import type { CliContext } from "../context";
import { loadHeavy } from "../load-heavy";

const whole = (min: number, max: number) => (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
  return Number(value);
};

/** `sluice demo`: a simulated fleet rolling through its reboots, on this machine, in seconds. */
export function demoCommand(ctx: CliContext): Command {
  return new Command("demo")
    .description("watch a simulated fleet reboot for an OS update: the real lock, drain and Events against an in-memory API server")
    .option("--nodes <n>", "simulated nodes", whole(1, 200), 6)
    .option("--pods-per-node <n>", "workload pods per node, behind a PodDisruptionBudget", whole(0, 50), 3)
    .option("--concurrency <n>", "reboot slots (nodes rebooting at once)", whole(1, 50), 2)
    .option("--speed <x>", "simulated seconds per real second", whole(1, 1000), 60)
    .action(async (opts: { nodes: number; podsPerNode: number; concurrency: number; speed: number }) => {
      const { runDemo } = await loadHeavy();
      await runDemo({ ...opts, rebootMs: 90_000, out: ctx.stdout, signal: ctx.signal });
    });
}
