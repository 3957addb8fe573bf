export * from "./store";
export * from "./drain-report";
export * from "./state";
export * from "./edges";
export * from "./reconcile";
export * from "./decide";
export { Agent, type AgentOptions } from "./agent";
export type { AgentDeps, AgentMetricsHook, Tick } from "./context";
export { readStatusFile, type AgentStatusFile, STATUS_FILE } from "./status-file";
