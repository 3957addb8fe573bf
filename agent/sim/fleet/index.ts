export { Fleet, type FleetOptions, nodeNames } from "./fleet";
export { SimHost, type RebootBehaviour } from "./host";
export { FakeSignals } from "./signals";
export { FleetObserver, type NodeRecord } from "./observer";
export { SimClock } from "./sim-clock";
export { seeded, jittered } from "./random";
export { severed, counted, severedClock } from "./severed";
export { rollout, endViolations, type RolloutOptions, type RolloutSummary } from "./rollout";
