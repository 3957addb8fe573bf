export * from "./clock";
export * from "./errors";
export * from "./fake-clock";
export * from "./fs";
export * from "./host";
export * from "./notifier";
export * from "./events";
