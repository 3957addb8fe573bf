import { Command } from "commander";
import { hostname } from "node:os";
import type { LoadedConfig } from "../../config";
import { LinuxHost, nodeFs } from "../../host";
import { createLogger } from "../../log";
import { ExitCode, ExitError, errorMessage, silentNotifier, systemClock } from "../../ports";
import { checkCredentialFile, kubeClient, rebootSignals } from "../clients";
import { loadFromCommand, withConfigOptions } from "../config-options";
import type { CliContext } from "../context";
import { versionInfo } from "../version";

/**
 * `sluice run`: the agent. Builds the real ports from the settings, starts the reboot-need
 * sources, then runs the state machine (agent/reboot) until SIGTERM, which persists, stops, and
 * keeps a slot held mid-drain or mid-reboot (exit 0).
 */
async function startListener(metrics: Awaited<ReturnType<typeof import("../../metrics").createAgentMetrics>>, host: string, port: number) {
  const { startMetricsServer } = await import("../../metrics");
  try {
    return await startMetricsServer(metrics, host, port);
  } catch (err) {
    throw new ExitError(ExitCode.unavailable, (err as { code?: string }).code ?? "metrics-listen-failed", `metrics: cannot listen on ${host}:${port}: ${errorMessage(err)}`);
  }
}

export function runCommand(ctx: CliContext): Command {
  const cmd = new Command("run").description("run the agent (the systemd unit's ExecStart)");
  withConfigOptions(cmd);
  cmd.action(async () => {
    const loaded: LoadedConfig = await loadFromCommand(cmd, ctx);
    const s = loaded.settings;
    // The agent's log is its stdout (journald under systemd); ctx.log served the loading.
    const log = createLogger(ctx.env, { sink: ctx.stdout, format: s.logFormat, level: s.logLevel });
    for (const w of loaded.warnings) log.warning(w);
    await checkCredentialFile(nodeFs, s.nodeKubeconfig, "nodeKubeconfig");
    if (!(await nodeFs.exists(s.kubeconfig))) throw new ExitError(ExitCode.config, "kubeconfig-missing", `kubeconfig: ${s.kubeconfig} does not exist`);
    const host = new LinuxHost({ rebootCommand: s.rebootCommand, env: ctx.env });
    const nodeName = s.nodeName || hostname();
    try {
      await host.bootId();
    } catch (e) {
      throw new ExitError(ExitCode.unavailable, "boot-id-unavailable", `cannot read the boot id: ${errorMessage(e)}`);
    }
    // Loaded only when used: prom-client and the notifier cost idle memory (DESIGN "Footprint").
    const metrics = s.metricsPort > 0 ? await (await import("../../metrics")).createAgentMetrics({ node: nodeName, group: s.group, version: versionInfo().version, kuredCompat: s.kuredMetrics }) : undefined;
    const listener = metrics ? await startListener(metrics, s.metricsHost, s.metricsPort) : undefined;
    const notifier = s.notifyUrl ? (await import("../../notify")).createNotifier(s.notifyUrl, { log: log.child({ component: "notify" }), clock: systemClock }) : undefined;
    const { kube, heavy } = await kubeClient(s);
    const signals = await rebootSignals(s, ctx.env, log.child({ component: "signals" }));
    const stop = new AbortController();
    const onStop = () => stop.abort(ctx.signal.reason);
    ctx.signal.addEventListener("abort", onStop, { once: true });
    try {
      await signals.start(stop.signal);
      const events = new heavy.events.KubeEventRecorder({ kube, clock: systemClock, log }, { host: nodeName });
      const agent = new heavy.reboot.Agent(
        { clock: systemClock, host, fs: nodeFs, log, kube, events, notifier: notifier ?? silentNotifier, signals, fetch: globalThis.fetch, metrics },
        { settings: s, windows: loaded.windows, node: nodeName },
      );
      log.notice("sluice ready", { node: nodeName, group: s.group, startupMs: Math.round(systemClock.monotonic()) });
      await host.notifyReady();
      await agent.run(stop.signal);
    } finally {
      ctx.signal.removeEventListener("abort", onStop);
      stop.abort();
      await signals.stopped();
      await listener?.close();
      // A notification queued by the last transition gets a moment to leave.
      await Promise.race([notifier?.idle(), systemClock.sleep(3000)]);
      notifier?.close();
    }
  });
  return cmd;
}
