import { Command } from "commander";
import { hostname } from "node:os";
import type { LoadedConfig } from "../../config";
import { LinuxHost, nodeFs } from "../../host";
import { createLogger, type Logger } from "../../log";
import { parseGoDuration } from "../../config";
import { checkInhibitDelay, type ConfText } from "../../host/logind";
import { ExitCode, ExitError, errorMessage, silentNotifier, systemClock } from "../../ports";
import { KubeEventRecorder } from "../../events";
import { Agent } from "../../reboot";
import { kubeClients, rebootSignals } from "../clients";
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

/**
 * logind cuts the kubelet's graceful node shutdown short at InhibitDelayMaxSec (default 5 s): warn
 * at start when the host allows less than the kubelet's shutdownGracePeriod asks for. Read from
 * the host's own files; a host without a kubelet config says nothing.
 */
async function warnShortInhibitDelay(log: Logger, etc = "/etc/systemd", kubeletConfig = "/var/lib/kubelet/config.yaml"): Promise<void> {
  try {
    if ((await nodeFs.kind(kubeletConfig)) !== "file") return;
    const grace = /^shutdownGracePeriod:\s*"?([0-9a-z.]+)"?\s*$/m.exec(await nodeFs.readFile(kubeletConfig))?.[1];
    const graceMs = grace ? parseGoDuration(grace) : null;
    if (!graceMs) return;
    const files: ConfText[] = [];
    if ((await nodeFs.kind(`${etc}/logind.conf`)) === "file") files.push({ name: `${etc}/logind.conf`, text: await nodeFs.readFile(`${etc}/logind.conf`) });
    for (const f of (await nodeFs.list(`${etc}/logind.conf.d`)).filter((n) => n.endsWith(".conf")).sort()) {
      files.push({ name: `${etc}/logind.conf.d/${f}`, text: await nodeFs.readFile(`${etc}/logind.conf.d/${f}`) });
    }
    const check = checkInhibitDelay(files, graceMs);
    if (check.warning) log.warning(check.warning, { from: check.from });
  } catch (err) {
    log.debug("could not compare logind's InhibitDelayMaxSec with the kubelet's shutdownGracePeriod", { error: errorMessage(err) });
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
    if (!(await nodeFs.exists(s.kubeconfig))) throw new ExitError(ExitCode.config, "kubeconfig-missing", `kubeconfig: ${s.kubeconfig} does not exist`);
    const host = new LinuxHost({ rebootCommand: s.rebootCommand, env: ctx.env });
    await warnShortInhibitDelay(log);
    const nodeName = s.nodeName || hostname();
    try {
      await host.bootId();
    } catch (e) {
      throw new ExitError(ExitCode.unavailable, "boot-id-unavailable", `cannot read the boot id: ${errorMessage(e)}`);
    }
    // Configuration and credentials first (exit 78), then what may be busy or down (exit 69).
    const kube = await kubeClients(s, ctx.env);
    for (const w of kube.warnings) log.warning(w);
    // Loaded only when used: prom-client and the notifier cost idle memory (DESIGN "Footprint").
    let notifier: Awaited<ReturnType<typeof import("../../notify")["createNotifier"]>> | undefined;
    try {
      notifier = s.notifyUrl ? (await import("../../notify")).createNotifier(s.notifyUrl, { log: log.child({ component: "notify" }), clock: systemClock }) : undefined;
    } catch (err) {
      kube.close();
      throw new ExitError(ExitCode.config, (err as { code?: string }).code ?? "notify-url-invalid", `notifyUrl: ${errorMessage(err)}`);
    }
    const signals = await rebootSignals(s, ctx.env, log.child({ component: "signals" }));
    const stop = new AbortController();
    const onStop = () => stop.abort(ctx.signal.reason);
    ctx.signal.addEventListener("abort", onStop, { once: true });
    let listener: Awaited<ReturnType<typeof startListener>> | undefined;
    try {
      const metrics = s.metricsPort > 0 ? await (await import("../../metrics")).createAgentMetrics({ node: nodeName, group: s.group, version: versionInfo().version, kuredCompat: s.kuredMetrics }) : undefined;
      listener = metrics ? await startListener(metrics, s.metricsHost, s.metricsPort) : undefined;
      await signals.start(stop.signal);
      // Events are node-scoped work: the kubelet's credential in node-identity mode.
      const events = new KubeEventRecorder({ kube: kube.node, clock: systemClock, log }, { host: nodeName });
      const agent = new Agent(
        { clock: systemClock, host, fs: nodeFs, log, kube: kube.leases, nodeKube: kube.node, events, notifier: notifier ?? silentNotifier, signals, fetch: globalThis.fetch, metrics },
        { settings: s, windows: loaded.windows, node: nodeName },
      );
      // Since the process started (the system clock's monotonic origin is the host's boot).
      log.notice("sluice ready", { node: nodeName, group: s.group, startupMs: Math.round(process.uptime() * 1000) });
      await host.notifyReady();
      await agent.run(stop.signal);
    } catch (err) {
      // SIGTERM while starting (the sources' first look, the first list) ends with 0 like any stop.
      if (!stop.signal.aborted) throw err;
    } finally {
      ctx.signal.removeEventListener("abort", onStop);
      stop.abort();
      await signals.stopped();
      await listener?.close();
      kube.close();
      // A notification queued by the last transition gets a moment to leave.
      await Promise.race([notifier?.idle(), systemClock.sleep(3000)]);
      notifier?.close();
    }
  });
  return cmd;
}
