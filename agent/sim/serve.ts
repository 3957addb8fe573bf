/**
 * `sluice sim serve`: the sim on its own, on loopback, with Node objects, workload pods and the
 * simulated kubelets and controllers, a kubeconfig written for it, until the signal aborts.
 * Whatever fails after the server started stops it again, so a failed start never leaves a
 * process listening that no signal ends.
 */
import { open } from "node:fs/promises";
import type { Logger } from "../log";
import { ExitCode, ExitError, errorMessage } from "../ports/errors";
import { parseAuthYaml } from "./auth";
import { SimCluster } from "./cluster";
import { SimServer } from "./server";
import type { KubeVersion } from "./version";

export interface ServeSimOptions {
  /** 0 or omitted: a free port. */
  port?: number;
  /** Node names; default node-1, node-2, node-3. */
  nodes?: string[];
  /** Workload pods per node (one ReplicaSet-like workload "web" in namespace "apps"). Default 2. */
  podsPerNode?: number;
  /** Where to write the kubeconfig (mode 0600); omitted: not written. */
  kubeconfigOut?: string;
  /** Extra users and RBAC objects, as for SimServerOptions.authYaml. */
  authYaml?: string;
  /** The kube-apiserver to answer as (default 1.28). */
  version?: KubeVersion;
}

export async function serveSim(options: ServeSimOptions, ctx: { signal: AbortSignal; log: Logger }): Promise<void> {
  const nodes = options.nodes?.length ? options.nodes : ["node-1", "node-2", "node-3"];
  const dup = nodes.find((n, i) => nodes.indexOf(n) !== i);
  if (dup !== undefined) throw new ExitError(ExitCode.usage, "sim-duplicate-node", `node name "${dup}" is given twice`);
  if (options.authYaml !== undefined) {
    try {
      parseAuthYaml(options.authYaml);
    } catch (err) {
      throw new ExitError(ExitCode.config, "sim-auth-invalid", `auth file: ${errorMessage(err)}`, { cause: err });
    }
  }
  // Opened before the server starts: an unwritable path fails here, with nothing to clean up.
  const kubeconfig = options.kubeconfigOut ? await openKubeconfig(options.kubeconfigOut) : undefined;
  let server: SimServer | undefined;
  let cluster: SimCluster | undefined;
  try {
    try {
      server = new SimServer({ port: options.port ?? 0, authYaml: options.authYaml, namespaces: ["sluice", "apps"], log: ctx.log, version: options.version });
    } catch (err) {
      // The auth file's objects are created as kubectl would: the server's 422 names what is wrong.
      throw new ExitError(ExitCode.config, "sim-auth-invalid", `auth file: ${errorMessage(err)}`, { cause: err });
    }
    await server.start().catch((err: NodeJS.ErrnoException) => {
      throw new ExitError(ExitCode.unavailable, "sim-listen", `cannot listen on 127.0.0.1:${options.port ?? 0}: ${err.code === "EADDRINUSE" ? "the port is in use" : errorMessage(err)}`, { cause: err });
    });
    cluster = new SimCluster(server);
    for (const n of nodes) cluster.addNode(n);
    const perNode = options.podsPerNode ?? 2;
    if (perNode > 0) cluster.addWorkload("apps", "web", perNode * nodes.length, nodes);
    if (kubeconfig) {
      await kubeconfig.handle.writeFile(server.kubeconfigYaml());
      await kubeconfig.handle.close();
    }
    ctx.log.notice("sim API server ready", { url: server.url, version: server.profile.version, nodes: nodes.join(","), kubeconfig: options.kubeconfigOut ?? "(not written)" });
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) return resolve();
      ctx.signal.addEventListener("abort", () => resolve(), { once: true });
    });
  } finally {
    await kubeconfig?.handle.close().catch(() => {});
    cluster?.stop();
    await server?.stop();
  }
}

async function openKubeconfig(path: string) {
  try {
    // Mode 0600 from creation on (the token never sits in a readable file); truncated if it exists.
    const handle = await open(path, "w", 0o600);
    await handle.chmod(0o600);
    return { handle };
  } catch (err) {
    throw new ExitError(ExitCode.unavailable, "sim-kubeconfig-unwritable", `cannot write the kubeconfig to ${path}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`, { cause: err });
  }
}
