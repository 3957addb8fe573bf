/**
 * The real implementations that several commands build from the same settings, built in one
 * place: the reboot-need sources (signals, status) and the Kubernetes clients (run, lock, status).
 */
import { stat } from "node:fs/promises";
import type { Settings } from "../config";
import { LinuxHost, nodeFs } from "../host";
import type { Logger } from "../log";
import { ExitCode, ExitError, systemClock, type Fs } from "../ports";
import type { RebootSignals } from "../signals";
import { HttpKube, type Kube, type KubeTarget, kubeconfigTarget } from "../kube";
import { versionInfo } from "./version";

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

export interface KubeClients {
  /** The ServiceAccount's credential (`kubeconfig`): the Leases, and Nodes read by the lock. */
  leases: Kube;
  /**
   * Node-scoped work: cordon, evictions of the node's own pods, node labels and annotations,
   * Events. The kubelet's credential when `nodeKubeconfig` is set, otherwise `leases`.
   */
  node: Kube;
  /**
   * The pending taint (`preferNoScheduleTaint`). Always the ServiceAccount: NodeRestriction
   * refuses a node changing its own taints (403 on a real v1.28), so the kubelet's credential
   * cannot do it even when `node` is that credential.
   */
  taints: Kube;
  /** Whether `node` is the kubelet's credential (node-identity mode). */
  nodeIdentity: boolean;
  /** Things an operator should hear once (insecure-skip-tls-verify). */
  warnings: string[];
  /** Closes idle connections, for commands that are done. */
  close(): void;
}

async function connect(path: string, key: "kubeconfig" | "nodeKubeconfig", env: Record<string, string | undefined>): Promise<{ kube: HttpKube; warnings: string[] }> {
  await checkCredentialFile(nodeFs, path, key);
  let target: KubeTarget;
  try {
    target = await kubeconfigTarget(path, { env });
  } catch (err) {
    const code = (err as { code?: string }).code === "kubeconfig-unsupported" ? "kubeconfig-unsupported" : "kubeconfig-unreadable";
    // The loader's messages start with the file and say what is wrong, never a secret.
    const message = (err as Error).message;
    throw new ExitError(ExitCode.config, code, `${key}: ${message.startsWith(path) ? message : `cannot load ${path}: ${message}`}`, { cause: err });
  }
  return { kube: new HttpKube(target, { env, userAgent: `sluice/${versionInfo().version}` }), warnings: target.warnings };
}

/**
 * The Kubernetes clients the settings configure: one for the ServiceAccount and, with
 * `nodeKubeconfig`, one for the node's own credential. Nothing of client-node is loaded.
 */
export async function kubeClients(s: Settings, env: Record<string, string | undefined>): Promise<KubeClients> {
  const sa = await connect(s.kubeconfig, "kubeconfig", env);
  const node = s.nodeKubeconfig ? await connect(s.nodeKubeconfig, "nodeKubeconfig", env) : undefined;
  return {
    leases: sa.kube,
    node: node?.kube ?? sa.kube,
    taints: sa.kube,
    nodeIdentity: node !== undefined,
    warnings: [...sa.warnings, ...(node?.warnings ?? [])],
    close: () => {
      sa.kube.close();
      node?.kube.close();
    },
  };
}

/** The ServiceAccount's client alone, for the operator commands (lock, status); warnings go to `log`. */
export async function kubeClient(s: Settings, env: Record<string, string | undefined>, log: Logger): Promise<HttpKube> {
  const { kube, warnings } = await connect(s.kubeconfig, "kubeconfig", env);
  for (const w of warnings) log.warning(w);
  return kube;
}

/**
 * Optional parts of the agent loaded only when the configuration uses them: each is a module (and
 * a package) that costs resident memory in every process that loads it (docs/development).
 * The agent's loop (agent/reboot) calls these; nothing imports these modules statically.
 */
export const optional = {
  /** agent/signals: chokidar, and dbus-next when update_engine is on. */
  signals: () => import("../signals"),
  /** prom-client, when metricsPort is set (about 3 MiB resident, see docs/development). */
  promClient: () => import("prom-client"),
};
