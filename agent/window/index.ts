export * from "./window";
