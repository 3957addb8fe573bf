/**
 * The agent on simulated hosts, for the test suites: the fleet simulator itself
 * (agent/sim/fleet), so the tests, the benchmarks and `sluice demo` run one simulator.
 * A host's reboot drops its agent without any cleanup — every port it holds goes dead at once,
 * as with SIGKILL — marks the Node NotReady, and after the reboot time starts a new agent with a
 * new boot id on the same state directory. Crash injection kills the agent the same way after
 * its k-th persisted write.
 */
export { FakeSignals, Fleet, type FleetOptions, type RebootBehaviour, SimHost, seeded } from "../../agent/sim/fleet";
