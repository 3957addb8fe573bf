export { createRebootSignals, type NeedListener, type RebootSignals, type SignalsDeps } from "./signals";
export { connectBus, systemBusAddress, DEFAULT_SYSTEM_BUS_ADDRESS, type BusConnector } from "./dbus";
export {
  backoffDelay,
  combineNeed,
  enabledSources,
  engineNeedsReboot,
  interpretSentinelExit,
  judgeStatusSignal,
  needChanged,
  parseEngineStatus,
  UpdateStatus,
  type EngineStatus,
  spendLogBudget,
  type LogBudget,
} from "./decide";
export * from "./types";
