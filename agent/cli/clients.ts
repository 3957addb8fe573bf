/**
 * The real implementations that several commands build from the same settings, built in one
 * place: the reboot-need sources (signals, status) and the Kubernetes client (lock, status).
 */
import { readFile, stat } from "node:fs/promises";
import type { Settings } from "../config";
import { LinuxHost, nodeFs } from "../host";
import type { Logger } from "../log";
import { ExitCode, ExitError, systemClock, type Fs } from "../ports";
import type { RebootSignals } from "../signals";
import { loadHeavy } from "./load-heavy";

/**
 * A credential file that anyone but its owner may read or write is a leaked (or replaceable)
 * credential, and so is one owned by another unprivileged user: refuse it (exit 78) rather than
 * use it, as DESIGN.md's security section asks. Owner: root or the user sluice runs as.
 */
export async function checkCredentialFile(fs: Fs, path: string, key: string, uid: number = process.getuid?.() ?? 0): Promise<void> {
  if (!path || !(await fs.exists(path))) return;
  const mode = await fs.mode(path);
  const octal = mode.toString(8).padStart(4, "0");
  if (mode & 0o077) {
    const who = mode & 0o007 ? "every user" : "its group";
    throw new ExitError(ExitCode.config, "credentials-readable", `${key}: ${path} is open to ${who} (mode ${octal}); run chmod 600 ${path}`);
  }
  const owner = (await stat(path)).uid;
  if (owner !== 0 && owner !== uid) {
    throw new ExitError(ExitCode.config, "credentials-owner", `${key}: ${path} belongs to user ${owner}, neither root nor the user sluice runs as (${uid}); run chown root ${path}`);
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
