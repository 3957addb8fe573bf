export * from "./store";
export * from "./drain-report";
