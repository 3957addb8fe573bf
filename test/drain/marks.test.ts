/**
 * The marks the agent keeps on its Node: the backlog label and annotation, and the hold marks
 * (autoscaler, load balancers) recorded so that only what sluice added is removed. Pure patches,
 * one row per starting Node.
 */
import { describe, expect, it } from "vitest";
import { holdMarkPatch, needMarkPatch, unholdMarkPatch } from "../../agent/drain";

const SINCE = Date.UTC(2026, 0, 5, 9, 0, 0);

describe("needMarkPatch", () => {
  it.each([
    ["needed, unmarked", {}, true, { labels: { "sluice.dev/reboot-needed": "true" }, annotations: { "sluice.dev/reboot-needed-since": "2026-01-05T09:00:00Z" } }],
    ["needed, already marked alike: no write", { labels: { "sluice.dev/reboot-needed": "true" }, annotations: { "sluice.dev/reboot-needed-since": "2026-01-05T09:00:00Z" } }, true, undefined],
    ["needed, someone set the label to another value", { labels: { "sluice.dev/reboot-needed": "maybe" } }, true, { labels: { "sluice.dev/reboot-needed": "true" }, annotations: { "sluice.dev/reboot-needed-since": "2026-01-05T09:00:00Z" } }],
    ["not needed, marked: removed", { labels: { "sluice.dev/reboot-needed": "true" }, annotations: { "sluice.dev/reboot-needed-since": "x" } }, false, { labels: { "sluice.dev/reboot-needed": null }, annotations: { "sluice.dev/reboot-needed-since": null } }],
    ["not needed, only a stray annotation: removed", { annotations: { "sluice.dev/reboot-needed-since": "x" } }, false, { labels: { "sluice.dev/reboot-needed": null }, annotations: { "sluice.dev/reboot-needed-since": null } }],
    ["not needed, unmarked: no write", {}, false, undefined],
  ])("%s", (_n, meta, needed, want) => {
    expect(needMarkPatch(meta, needed, SINCE)).toEqual(want);
  });

  it("never puts a time in a label value (':' is 422 on a real server)", () => {
    const p = needMarkPatch({}, true, SINCE)!;
    for (const v of Object.values(p.labels ?? {})) expect(v).not.toContain(":");
  });
});

describe("hold marks", () => {
  const both = { scaleDownProtection: true, excludeFromLoadBalancers: true };
  it.each([
    ["none set before: both added and recorded", {}, both, {
      labels: { "node.kubernetes.io/exclude-from-external-load-balancers": "true" },
      annotations: { "cluster-autoscaler.kubernetes.io/scale-down-disabled": "true", "sluice.dev/added-marks": "exclude-from-load-balancers,scale-down-disabled" },
    }],
    ["the autoscaler annotation was someone else's: only the label added", { annotations: { "cluster-autoscaler.kubernetes.io/scale-down-disabled": "false" } }, both, {
      labels: { "node.kubernetes.io/exclude-from-external-load-balancers": "true" },
      annotations: { "sluice.dev/added-marks": "exclude-from-load-balancers" },
    }],
    ["both already there: no write", { labels: { "node.kubernetes.io/exclude-from-external-load-balancers": "" }, annotations: { "cluster-autoscaler.kubernetes.io/scale-down-disabled": "true" } }, both, undefined],
    ["both options off: no write", {}, { scaleDownProtection: false, excludeFromLoadBalancers: false }, undefined],
  ])("%s", (_n, meta, o, want) => {
    expect(holdMarkPatch(meta, o)).toEqual(want);
  });

  it.each([
    ["nothing recorded: nothing removed (the marks are someone else's)", { annotations: { "cluster-autoscaler.kubernetes.io/scale-down-disabled": "true" } }, undefined],
    ["both recorded: both removed with the record", { annotations: { "sluice.dev/added-marks": "exclude-from-load-balancers,scale-down-disabled" } }, {
      labels: { "node.kubernetes.io/exclude-from-external-load-balancers": null },
      annotations: { "sluice.dev/added-marks": null, "cluster-autoscaler.kubernetes.io/scale-down-disabled": null },
    }],
    ["a record with unknown words (hand-edited): only the record goes", { annotations: { "sluice.dev/added-marks": "kube-system,everything" } }, { labels: {}, annotations: { "sluice.dev/added-marks": null } }],
  ])("unhold: %s", (_n, meta, want) => {
    expect(unholdMarkPatch(meta)).toEqual(want);
  });
});
