export * from "./fs";
export * from "./host";
export * from "./os-release";
export * from "./run";
export * from "./logind";
