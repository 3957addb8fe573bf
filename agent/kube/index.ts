export * from "./types";
export { KubeError, type KubeErrorCode, classify } from "./errors";
export { formatMicroTime, microTime, isMicroTime } from "./microtime";
export { ClientNodeKube } from "./client-node-kube";
