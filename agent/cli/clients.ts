/**
 * The real implementations that several commands build from the same settings, built in one
 * place: the reboot-need sources (signals, status) and the Kubernetes client (lock, status).
 */
import { readFile } from "node:fs/promises";
import type { Settings } from "../config";
import { LinuxHost, nodeFs } from "../host";
import type { Logger } from "../log";
import { ExitCode, ExitError, systemClock, type Fs } from "../ports";
import type { RebootSignals } from "../signals";
import { loadHeavy } from "./load-heavy";

/**
 * A credential file that others can read is a leaked credential: refuse it (exit 78) rather
 * than use it, as DESIGN.md's security section asks.
 */
export async function checkCredentialFile(fs: Fs, path: string, key: string): Promise<void> {
  if (!path || !(await fs.exists(path))) return;
  const mode = await fs.mode(path);
  if (mode & 0o004) {
    throw new ExitError(ExitCode.config, "credentials-readable", `${key}: ${path} is readable by every user (mode ${mode.toString(8).padStart(4, "0")}); run chmod 600 ${path}`);
  }
}

/** The reboot-need sources the settings configure. Loaded on use: dbus-next and chokidar stay out of commands that do not watch. */
export async function rebootSignals(s: Settings, env: Record<string, string | undefined>, log: Logger, overrides: { sentinelCommandTimeoutMs?: number } = {}): Promise<RebootSignals> {
  const { createRebootSignals, systemBusAddress } = await import("../signals");
  return createRebootSignals(
    {
      rebootSentinel: s.rebootSentinel,
      rebootSentinelCommand: s.rebootSentinelCommand,
      periodMs: s.period,
      sentinelCommandTimeoutMs: overrides.sentinelCommandTimeoutMs ?? s.rebootSentinelCommandTimeout,
      updateEngine: s.updateEngine,
    },
    { clock: systemClock, log, host: new LinuxHost({ rebootCommand: s.rebootCommand, env }), busAddress: systemBusAddress(env) },
  );
}

/**
 * The Kubernetes client for the configured kubeconfig, with the heavy chunk it comes from: the
 * caller must use that chunk's classes (KubeError, the lock's functions) with it, see heavy.ts.
 */
export async function kubeClient(s: Settings) {
  await checkCredentialFile(nodeFs, s.kubeconfig, "kubeconfig");
  const heavy = await loadHeavy();
  const kc = new heavy.KubeConfig();
  try {
    kc.loadFromString(await readFile(s.kubeconfig, "utf8"));
  } catch (err) {
    throw new ExitError(ExitCode.config, "kubeconfig-unreadable", `kubeconfig: cannot load ${s.kubeconfig}: ${(err as Error).message}`, { cause: err });
  }
  return { kube: new heavy.kube.ClientNodeKube(kc), heavy };
}
