export * from "./types";
export { blockingPods, blocksReboot } from "./pods";
export { prometheusAlerts, activeAlerts, parseQueryAnswer, queryUrl, basicAuth, type AlertFilter, type PromSample, type FetchLike } from "./prometheus";
export { checkBlockers, type BlockersOptions, type BlockersDeps } from "./check";
export { annotationInhibitor, fileInhibitors, inhibitorsKey, cleanReason, INHIBIT_ANNOTATION, type Inhibitor } from "./inhibit";
