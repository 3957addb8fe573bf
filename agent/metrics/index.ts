export * from "./families";
export { type AgentMetrics, type AgentMetricsOptions, createAgentMetrics, noMetrics, MAX_LABEL_VALUES, MAX_LABEL_LENGTH } from "./metrics";
export { type MetricsServer, startMetricsServer, METRICS_PORT_TAKEN, METRICS_LISTEN_FAILED } from "./server";
