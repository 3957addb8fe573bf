/**
 * Chaos in the fleet simulator (agent/sim/fleet/chaos.ts): 100 hosts, 3 slots, 5% of API requests
 * failing in every way the fault proxy knows, watches dropped, agents killed, reboots failing or
 * not carried out, a rebooting holder's Node deleted, a held Lease cleared by hand, the API server
 * unreachable for a minute and one update that breaks its node. The same fleet and seed without
 * faults is the baseline of the makespan.
 */
import { chaosRun } from "../../agent/sim/fleet";
import { type BenchSuite, type Figure, figure } from "./types";

const HOSTS = 100;
const SEED = 17;

const suite: BenchSuite = {
  prefix: "chaos",
  // Not steady: the agents' 500 ms request timeout is real time, and beside the 1000-node
  // rollouts the chaos makespan came out 1.81× the fault-free one (1.51 and 1.54 on a quiet machine).
  async run(): Promise<Figure[]> {
    const clean = await chaosRun({ hosts: HOSTS, seed: SEED, faultFree: true });
    await clean.fleet.stop();
    const r = await chaosRun({ hosts: HOSTS, seed: SEED });
    await r.fleet.stop();
    process.stderr.write(`chaos: ${JSON.stringify(r.injected)}; ${r.summary.violations.join("; ") || "no violations"}; ${Math.round(r.summary.realMs / 1000)} s real\n`);
    const reboots = Math.max(1, r.summary.rebooted);
    return [
      ...Object.entries(r.injected).map(([kind, n]) => figure(`chaos.injected.${kind}`, n, "faults", { minValue: 1, goal: "injected" })),
      figure("chaos.violations", r.summary.violations.length, "", { maxValue: 0 }),
      figure("chaos.broken_node_reported", r.broken?.reported && r.broken.holdsSlot ? 1 : 0, "", { minValue: 1, goal: "reported, slot held" }),
      figure("chaos.makespan_vs_fault_free", r.summary.makespanMs, "ms", { baseline: clean.summary.makespanMs, goal: "chaos makespan / fault-free (2 working slots of 3 once the broken node holds one)" }),
      figure("chaos.requests_per_node_reboot", r.requests / reboots, "requests", { baseline: clean.requests / Math.max(1, clean.summary.rebooted) }),
    ];
  },
};
export default suite;
