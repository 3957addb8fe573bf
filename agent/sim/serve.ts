/**
 * `sluice sim serve`: the sim on its own, on loopback, with Node objects, workload pods and the
 * simulated kubelets and controllers, a kubeconfig written for it, until the signal aborts.
 */
import { chmod, writeFile } from "node:fs/promises";
import type { Logger } from "../log";
import { SimCluster } from "./cluster";
import { SimServer } from "./server";

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
}

export async function serveSim(options: ServeSimOptions, ctx: { signal: AbortSignal; log: Logger }): Promise<void> {
  const server = await new SimServer({ port: options.port ?? 0, authYaml: options.authYaml, namespaces: ["sluice", "apps"], log: ctx.log }).start();
  const cluster = new SimCluster(server);
  const nodes = options.nodes?.length ? options.nodes : ["node-1", "node-2", "node-3"];
  for (const n of nodes) cluster.addNode(n);
  const perNode = options.podsPerNode ?? 2;
  if (perNode > 0) cluster.addWorkload("apps", "web", perNode * nodes.length, nodes);
  if (options.kubeconfigOut) {
    await writeFile(options.kubeconfigOut, server.kubeconfigYaml(), { mode: 0o600 });
    await chmod(options.kubeconfigOut, 0o600);
  }
  ctx.log.notice("sim API server ready", { url: server.url, nodes: nodes.join(","), kubeconfig: options.kubeconfigOut ?? "(not written)" });
  try {
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) return resolve();
      ctx.signal.addEventListener("abort", () => resolve(), { once: true });
    });
  } finally {
    cluster.stop();
    await server.stop();
  }
}
