/**
 * What only `sluice demo` and `sluice sim serve` need and every other process should not carry:
 * the in-memory API server and the demonstration driver. In the bundle this file becomes a
 * separate chunk (a SEA asset in the executables) that is compiled on first use; see
 * scripts/build.mjs. From source it is an ordinary module.
 *
 * The chunk carries its own copies of the modules it uses, error classes included: code outside
 * it must recognise errors by shape (`code`, `exitCode`), never by `instanceof`.
 */
export * as sim from "../sim";
export { serveSim } from "../sim/serve";
export { runDemo } from "./demo/fleet";
