/**
 * reconcile(stored, truth): one row per crash point of the cycle. The Lease and the boot id win
 * over state.json; what the row expects is the phase the agent must resume in.
 */
import { describe, expect, it } from "vitest";
import { type AgentState, type PersistedState, reconcile, type StartTruth, STATE_VERSION } from "../../agent/reboot";

const NOW = 10_000;
const hold = { slot: "sluice-default-0", wasUnschedulable: false, needSince: 100 };
const S = (state: AgentState, node = "n1"): PersistedState => ({ version: STATE_VERSION, node, state });
const T = (over: Partial<StartTruth> = {}): StartTruth => ({ node: "n1", bootId: "boot-1", now: NOW, needed: true, needSince: 100, ...over });
const held = (phase: NonNullable<StartTruth["held"]>["phase"], extra: Partial<NonNullable<StartTruth["held"]>> = {}) => ({ name: "sluice-default-0", phase, wasUnschedulable: false, needSince: 100, ...extra });

describe("reconcile", () => {
  it.each<[string, PersistedState | undefined, StartTruth, string, Partial<AgentState>?]>([
    ["first start, nothing stored, no slot", undefined, T({ needed: false }), "idle"],
    ["first start with a need: the idle handler takes the edge", undefined, T(), "idle"],
    ["stored idle, no slot", S({ phase: "idle", since: 1 }), T(), "idle"],
    ["stored pending, no slot (crash while queued)", S({ phase: "pending", since: 1, needSince: 50, reason: "r" }), T(), "pending", { needSince: 50 }],
    ["stored pending, slot taken (crash after the take, before draining was saved)", S({ phase: "pending", since: 1, needSince: 50, reason: "r" }), T({ held: held("acquired") }), "pending", { needSince: 50 }],
    ["stored pending, slot taken, need gone", S({ phase: "pending", since: 1, needSince: 50, reason: "r" }), T({ needed: false, held: held("acquired") }), "aborting", { wasUnschedulable: true }],
    ["stored draining, holds (crash mid-drain)", S({ phase: "draining", since: 1, ...hold }), T({ held: held("draining") }), "draining"],
    ["stored draining, slot lost while down", S({ phase: "draining", since: 1, ...hold }), T(), "aborting"],
    ["stored draining, Lease already says rebooting (crash between the two writes)", S({ phase: "draining", since: 1, ...hold }), T({ held: held("rebooting", { bootId: "boot-1" }) }), "draining"],
    ["stored rebooting, same boot, holds: the host never went down", S({ phase: "rebooting", since: 1, ...hold, bootIdBefore: "boot-1", attempts: 1, requestedAt: 1 }), T({ held: held("rebooting", { bootId: "boot-1" }) }), "rebooting"],
    ["stored rebooting, new boot: the handler takes the booted edge", S({ phase: "rebooting", since: 1, ...hold, bootIdBefore: "boot-0", attempts: 1, requestedAt: 1 }), T({ held: held("rebooting", { bootId: "boot-0" }) }), "rebooting"],
    ["stored rebooting, new boot, slot gone (reclaimed by TTL)", S({ phase: "rebooting", since: 1, ...hold, bootIdBefore: "boot-0", attempts: 1, requestedAt: 1 }), T(), "rebooting"],
    ["stored rebooting, same boot, slot gone: never rebooted", S({ phase: "rebooting", since: 1, ...hold, bootIdBefore: "boot-1", attempts: 1, requestedAt: 1 }), T(), "aborting"],
    ["stored recovering", S({ phase: "recovering", since: 1, ...hold, bootIdBefore: "boot-0" }), T({ held: held("recovering") }), "recovering"],
    ["stored releasing", S({ phase: "releasing", since: 1, slot: hold.slot, needSince: 1, rebootedAt: 5 }), T({ held: held("recovering") }), "releasing"],
    ["stored aborting, slot already gone", S({ phase: "aborting", since: 1, ...hold, why: "x" }), T(), "aborting"],
    ["state.json lost, Lease says draining", undefined, T({ held: held("draining", { wasUnschedulable: true }) }), "draining", { wasUnschedulable: true }],
    ["state.json lost, Lease says draining, need gone", undefined, T({ needed: false, held: held("draining") }), "aborting"],
    ["state.json lost, Lease says rebooting, new boot", undefined, T({ held: held("rebooting", { bootId: "boot-0" }) }), "recovering", { bootIdBefore: "boot-0" }],
    ["state.json lost, Lease says rebooting, same boot", undefined, T({ held: held("rebooting", { bootId: "boot-1" }) }), "aborting"],
    ["state.json lost, Lease says recovering", undefined, T({ held: held("recovering", { bootId: "boot-0" }) }), "recovering"],
    ["state.json lost, Lease says releasing", undefined, T({ held: held("releasing") }), "releasing"],
    ["state.json lost, Lease says draining without the cordon record: leave the cordon", undefined, T({ held: held("draining", { wasUnschedulable: undefined }) }), "draining", { wasUnschedulable: true }],
    ["another node's state.json, no slot", S({ phase: "draining", since: 1, ...hold }, "n9"), T(), "idle"],
    ["another node's state.json, this node holds", S({ phase: "idle", since: 1 }, "n9"), T({ held: held("draining") }), "draining"],
  ])("%s → %s", (_name, stored, truth, phase, fields) => {
    const r = reconcile(stored, truth);
    expect(r.state.phase).toBe(phase);
    if (fields) expect(r.state).toMatchObject(fields);
  });

  it("keeps the stored object when the truth agrees, and explains when it does not", () => {
    const s = S({ phase: "draining", since: 1, ...hold });
    expect(reconcile(s, T({ held: held("draining") }))).toEqual({ state: s.state });
    expect(reconcile(s, T()).note).toMatch(/slot was lost/);
    expect(reconcile(S({ phase: "idle", since: 1 }, "n9"), T()).note).toMatch(/belongs to node n9/);
  });
});
