export * from "./types";
export { KubeError, type KubeErrorCode, classify, isKubeError } from "./errors";
export { formatMicroTime, microTime, isMicroTime, MicroTime } from "./microtime";
export { HttpKube } from "./http-kube";
export { type KubeTarget, type UserAuth, type Material, KubeconfigError, resolveKubeconfig, inClusterTarget } from "./kubeconfig";
export { connectKube, connectInCluster, kubeconfigTarget, type ConnectOptions } from "./connect";
