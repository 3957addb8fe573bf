/**
 * The entry point. It is the only place that picks real implementations and turns outcomes into
 * exit codes; everything below it returns or throws. Runs only when it is the main module (or
 * the bundled single executable), so tests import main() and call it with their own context.
 */
import { Command, CommanderError } from "commander";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createLogger, redactText } from "../log";
import { ExitCode, ExitError, errorMessage } from "../ports";
import { checkConfigCommand } from "./commands/check-config";
import { lockCommand } from "./commands/lock";
import { demoCommand } from "./commands/demo";
import { renderCommand } from "./commands/render";
import { runCommand } from "./commands/run";
import { signalsCommand } from "./commands/signals";
import { simCommand } from "./commands/sim";
import { statusCommand } from "./commands/status";
import { versionCommand } from "./commands/version";
import type { CliContext } from "./context";
import { VERSION, versionInfo } from "./version";

export function buildProgram(ctx: CliContext): Command {
  const program = new Command("sluice")
    .description("Reboots Kubernetes nodes on Flatcar Container Linux for OS updates, a few at a time, drained, inside the maintenance window.")
    .version(`sluice ${VERSION} (node ${versionInfo().node} ${process.arch})`, "-V, --version")
    .showHelpAfterError("(run sluice --help for usage)");
  for (const cmd of [runCommand(ctx), demoCommand(ctx), checkConfigCommand(ctx), statusCommand(ctx), lockCommand(ctx), signalsCommand(ctx), simCommand(ctx), renderCommand(ctx), versionCommand(ctx)]) program.addCommand(cmd);
  // Every command, nested ones included, reports usage errors as exceptions (exit 64) and
  // writes to the context's streams, so tests see exactly what a user would.
  const configure = (cmd: Command) => {
    cmd.exitOverride().configureOutput({ writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(s) });
    cmd.commands.forEach(configure);
  };
  configure(program);
  return program;
}

/** Runs the CLI and returns the exit code; never calls process.exit(). */
export async function main(argv: readonly string[], ctx: CliContext): Promise<number> {
  const program = buildProgram(ctx);
  // commander handles --help before it looks the command up, so `sluice typo --help` printed the
  // top-level help and exited 0: an unknown command is a usage error whatever follows it.
  const first = argv.find((a) => !a.startsWith("-"));
  const known = new Set(program.commands.flatMap((c) => [c.name(), ...c.aliases()]).concat("help"));
  if (first !== undefined && argv.indexOf(first) === 0 && !known.has(first)) {
    ctx.stderr.write(`error: unknown command '${first}'\n(run sluice --help for usage)\n`);
    return ExitCode.usage;
  }
  try {
    await program.parseAsync(argv as string[], { from: "user" });
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version "fail" with exit code 0 by design.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (isExitError(err)) {
      ctx.log.error(err.message, { code: err.code });
      return err.exitCode;
    }
    ctx.log.error(`internal error: ${errorMessage(err)}`, { stack: err instanceof Error ? err.stack : undefined });
    return ExitCode.internal;
  }
}

/**
 * By shape, not `instanceof`: an ExitError thrown from the heavy chunk (agent/cli/heavy.ts) is an
 * instance of that chunk's copy of the class.
 */
function isExitError(err: unknown): err is ExitError {
  return err instanceof ExitError || (err instanceof Error && typeof (err as ExitError).exitCode === "number" && typeof (err as ExitError).code === "string");
}

function realContext(): CliContext {
  const controller = new AbortController();
  // `sluice check-config | head -3`: a reader that went away ends the output quietly, as a
  // closed pipe ends any Unix tool, instead of an unhandled EPIPE with a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(typeof process.exitCode === "number" ? process.exitCode : ExitCode.ok);
      throw err;
    });
  }
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    process.on(sig, () => controller.abort(sig));
  }
  return {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    // Diagnostics of commands go to stderr so that --json output on stdout stays parseable.
    log: createLogger(process.env, { sink: process.stderr }),
    signal: controller.signal,
  };
}

function isMainModule(): boolean {
  // In the single executable and the bundle there is no other entry: always main.
  if (typeof __SLUICE_BUNDLED__ !== "undefined") return true;
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}
declare const __SLUICE_BUNDLED__: boolean | undefined;

if (isMainModule()) {
  const ctx = realContext();
  main(process.argv.slice(2), ctx).then(
    (code) => {
      process.exitCode = code;
      // Handles (watches, timers) may remain after a clean stop; do not wait for them.
      if (ctx.signal.aborted) setImmediate(() => process.exit(code));
    },
    (err: unknown) => {
      process.stderr.write(`sluice: ${redactText(errorMessage(err))}\n`);
      process.exitCode = ExitCode.internal;
    },
  );
}
