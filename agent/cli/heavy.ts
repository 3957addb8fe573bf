/**
 * What only some commands need and the agent's idle process should not carry: the in-memory
 * API server and client-node. In the bundle this file becomes a separate chunk (a SEA asset in
 * the executables) that is compiled on first use; see scripts/build.mjs. From source it is an
 * ordinary module.
 */
export * as sim from "../sim";
export { serveSim } from "../sim/serve";
export * as kube from "../kube";
export { runDemo } from "./demo/fleet";
