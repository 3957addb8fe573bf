/**
 * The fleet's clock is the ports' FakeClock (a heap of sleepers, `nextDue()` for discrete-event
 * driving): one fake clock for the tests, the benchmarks and the simulator.
 */
export { FakeClock as SimClock } from "../../ports/fake-clock";
