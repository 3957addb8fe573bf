import { Command } from "commander";
import { hostname } from "node:os";
import type { LoadedConfig } from "../../config";
import { LinuxHost, nodeFs } from "../../host";
import { createLogger } from "../../log";
import { ExitCode, ExitError, systemClock } from "../../ports";
import { checkCredentialFile } from "../clients";
import { loadFromCommand, withConfigOptions } from "../config-options";
import type { CliContext } from "../context";

/** Resolves when `signal` aborts, keeping the process alive until then. */
function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    // A pending promise alone does not keep Node running: hold a timer until the stop.
    const keepAlive = setInterval(() => {}, 1 << 30);
    signal.addEventListener("abort", () => (clearInterval(keepAlive), resolve()), { once: true });
  });
}

export function runCommand(ctx: CliContext): Command {
  const cmd = new Command("run").description("run the agent (the systemd unit's ExecStart)");
  withConfigOptions(cmd);
  cmd.action(async () => {
    const loaded: LoadedConfig = await loadFromCommand(cmd, ctx);
    const s = loaded.settings;
    // The agent's log is its stdout (journald under systemd); ctx.log served the loading.
    const log = createLogger(ctx.env, { sink: ctx.stdout, format: s.logFormat, level: s.logLevel });
    await checkCredentialFile(nodeFs, s.kubeconfig, "kubeconfig");
    await checkCredentialFile(nodeFs, s.nodeKubeconfig, "nodeKubeconfig");
    const host = new LinuxHost({ rebootCommand: s.rebootCommand, env: ctx.env });
    const nodeName = s.nodeName || hostname();
    let bootId = "unknown";
    try {
      bootId = await host.bootId();
    } catch (e) {
      throw new ExitError(ExitCode.unavailable, "boot-id-unavailable", `cannot read the boot id: ${(e as Error).message}`);
    }
    const started = systemClock.monotonic();
    log.notice("sluice ready", { node: nodeName, group: s.group, bootId, startupMs: Math.round(started) });
    await host.notifyReady();
    await untilAborted(ctx.signal);
    log.notice("sluice stopping", { reason: String(ctx.signal.reason ?? "signal") });
  });
  return cmd;
}
