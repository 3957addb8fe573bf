export * from "./butane";
export * from "./data-url";
export * from "./ignition";
export * from "./kops";
export * from "./logind";
export * from "./model";
export * from "./sysext";
export * from "./unit";
