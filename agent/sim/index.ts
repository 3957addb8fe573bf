export { SimServer, type SimServerOptions } from "./server";
export { type FaultRule } from "./faults";
export { type SimUserSpec, type PolicyRule, parseAuthYaml } from "./auth";
export { type KObj } from "./store";
export { SimCluster, type SimClusterOptions } from "./cluster";
export { serveSim, type ServeSimOptions } from "./serve";
export { scaledClock } from "./scaled-clock";
export { pdbFigures, scaledValue, isPodHealthy } from "./pdb";
