export * from "./window";
export * from "./fit";
