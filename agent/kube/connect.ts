/**
 * A Kube client from a kubeconfig file (or, when there is none and the process runs in a pod,
 * the in-cluster config). The file is read here once; the credentials it names are re-read as
 * they rotate (credentials.ts).
 */
import { readFile } from "node:fs/promises";
import { type HttpOptions } from "./http";
import { HttpKube } from "./http-kube";
import { type KubeTarget, inClusterTarget, resolveKubeconfig } from "./kubeconfig";

export interface ConnectOptions extends HttpOptions {
  /** Use this context instead of the file's current-context. */
  context?: string;
}

export async function kubeconfigTarget(path: string, options: { context?: string; env?: Record<string, string | undefined> } = {}): Promise<KubeTarget> {
  return resolveKubeconfig(await readFile(path, "utf8"), { path, context: options.context });
}

export async function connectKube(path: string, options: ConnectOptions = {}): Promise<{ kube: HttpKube; target: KubeTarget }> {
  const target = await kubeconfigTarget(path, options);
  return { kube: new HttpKube(target, options), target };
}

export function connectInCluster(options: HttpOptions = {}): { kube: HttpKube; target: KubeTarget } {
  const target = inClusterTarget(options.env ?? process.env);
  return { kube: new HttpKube(target, options), target };
}
