export { SimServer, type SimServerOptions } from "./server";
export { type FaultRule } from "./faults";
export { type SimUserSpec, type PolicyRule, parseAuthYaml } from "./auth";
export { type KObj } from "./store";
