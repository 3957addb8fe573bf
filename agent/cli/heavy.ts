/**
 * What only some commands need and the agent's idle process should not carry: the in-memory
 * API server and client-node. In the bundle this file becomes a separate chunk (a SEA asset in
 * the executables) that is compiled on first use; see scripts/build.mjs. From source it is an
 * ordinary module.
 *
 * The chunk carries its own copies of the modules it uses, error classes included: code outside
 * it must not test `instanceof` against a class of its own copy; use what this chunk exports.
 */
import { pauseGroup, readLockState, releaseSlotByOperator, resumeGroup } from "../lock";
import { ExitError, SluiceError } from "../ports";

export * as sim from "../sim";
export { serveSim } from "../sim/serve";
export * as kube from "../kube";
// The agent runs from this chunk too, so that the lock and the drain use the same KubeError class
// as the client that throws it.
export * as reboot from "../reboot";
export * as events from "../events";
export { KubeConfig } from "@kubernetes/client-node";
/** The lock's operator functions, with this chunk's copies of the error classes they throw. */
export const lockAdmin = { readLockState, pauseGroup, resumeGroup, releaseSlotByOperator, SluiceError, ExitError };
export { runDemo } from "./demo/fleet";
