/** Table tests of the pure parts: PDB arithmetic, selectors, patches, MicroTime. */
import { describe, expect, it } from "vitest";
import { jsonPatch, mergePatch, strategicMergePatch } from "../../agent/sim/patch";
import { pdbFigures } from "../../agent/sim/pdb";
import { labelSelector, selectorFromObject } from "../../agent/sim/selectors";
import { parseMicroTime } from "../../agent/sim/times";

describe("pdbFigures", () => {
  it.each([
    [{ minAvailable: 2 }, 3, 3, { disruptionsAllowed: 1, desiredHealthy: 2 }],
    [{ minAvailable: 2 }, 3, 2, { disruptionsAllowed: 0, desiredHealthy: 2 }],
    [{ minAvailable: "50%" }, 3, 3, { disruptionsAllowed: 1, desiredHealthy: 2 }],
    [{ maxUnavailable: 1 }, 3, 3, { disruptionsAllowed: 1, desiredHealthy: 2 }],
    [{ maxUnavailable: "34%" }, 3, 3, { disruptionsAllowed: 2, desiredHealthy: 1 }],
    [{ maxUnavailable: 0 }, 3, 3, { disruptionsAllowed: 0, desiredHealthy: 3 }],
    [{ minAvailable: "100%" }, 4, 4, { disruptionsAllowed: 0, desiredHealthy: 4 }],
    [{ maxUnavailable: 5 }, 2, 1, { disruptionsAllowed: 1, desiredHealthy: 0 }],
  ])("%o with %i expected, %i healthy", (spec, expected, healthy, want) => {
    expect(pdbFigures(spec, expected, healthy)).toMatchObject(want);
  });
});

describe("selectors", () => {
  it.each([
    ["app=web", { app: "web" }, true],
    ["app==web,tier!=db", { app: "web", tier: "db" }, false],
    ["app in (web,api)", { app: "api" }, true],
    ["app notin (web)", {}, true],
    ["!canary", { canary: "1" }, false],
    ["canary", { canary: "" }, true],
  ])("%s matches %o: %s", (sel, labels, want) => {
    expect(labelSelector(sel)(labels)).toBe(want);
  });

  it("treats an empty LabelSelector per API version", () => {
    expect(selectorFromObject({}, true)({ a: "b" })).toBe(true);
    expect(selectorFromObject({}, false)({ a: "b" })).toBe(false);
    expect(selectorFromObject({ matchExpressions: [{ key: "a", operator: "Exists" }] }, true)({ a: "" })).toBe(true);
  });
});

describe("patches", () => {
  it("merge patch removes with null and replaces lists", () => {
    expect(mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { b: { c: null }, l: [3] })).toEqual({ a: 1, b: { d: 3 }, l: [3] });
  });
  it("strategic merge patch replaces taints whole (no patchMergeKey, golden v1.28/24) and merges conditions by type", () => {
    const node = { spec: { taints: [{ key: "a", effect: "NoSchedule" }, { key: "b", effect: "NoSchedule" }] } };
    expect(strategicMergePatch(node, { spec: { taints: [{ key: "c", effect: "NoExecute" }] } })).toEqual({ spec: { taints: [{ key: "c", effect: "NoExecute" }] } });
    const pod = { status: { conditions: [{ type: "Ready", status: "True" }, { type: "PodScheduled", status: "True" }] } };
    expect(strategicMergePatch(pod, { status: { conditions: [{ type: "Ready", status: "False" }, { type: "PodScheduled", $patch: "delete" }] } })).toEqual({
      status: { conditions: [{ type: "Ready", status: "False" }] },
    });
  });
  it("JSON patch adds, replaces, removes and tests", () => {
    expect(jsonPatch({ spec: { x: 1 } }, [{ op: "add", path: "/spec/unschedulable", value: true }, { op: "remove", path: "/spec/x" }])).toEqual({ spec: { unschedulable: true } });
    expect(() => jsonPatch({ a: 1 }, [{ op: "test", path: "/a", value: 2 }])).toThrow();
  });
});

describe("MicroTime", () => {
  it.each([
    ["2026-11-25T03:40:06.123456Z", "2026-11-25T03:40:06.123456Z"],
    ["2026-11-25T05:40:06.123456+02:00", "2026-11-25T03:40:06.123456Z"],
    ["2026-11-25T03:40:06.123Z", null],
    ["2026-11-25T03:40:06Z", null],
    ["2026-11-25T03:40:06.123456789Z", null],
  ])("%s", (text, want) => {
    const r = parseMicroTime(text);
    expect(r.ok ? r.value : null).toBe(want);
  });
});
