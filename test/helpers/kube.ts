/**
 * The Kube port every test uses against the sim: the real HttpKube, configured from the sim's own
 * loopback kubeconfig through the real kubeconfig loader, as `sluice run` would be.
 */
import { HttpKube, resolveKubeconfig } from "../../agent/kube";
import type { SimServer } from "../../agent/sim";

/** A client for `server` acting as the user of `token` (default: the admin). */
export function simKube(server: SimServer, token?: string): HttpKube {
  return new HttpKube(resolveKubeconfig(server.kubeconfigYaml(token)), { userAgent: "sluice-test" });
}
