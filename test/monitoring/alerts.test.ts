/**
 * `promtool test rules`: input series → which alerts fire when, for every alert in
 * deploy/monitoring/files/sluice-rules.yaml, including the cases that must stay quiet (a normal
 * reboot's few minutes of silence). Expected annotations are the rule's own with $labels filled
 * in, so the test checks labels and templating without copying prose.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { tempDir } from "../helpers/tmp";

const rulesPath = join(import.meta.dirname, "../../deploy/monitoring/files/sluice-rules.yaml");
const rules = (parse(readFileSync(rulesPath, "utf8")) as { groups: Array<{ rules: Array<{ alert: string; labels: Record<string, string>; annotations: Record<string, string> }> }> }).groups.flatMap((g) => g.rules);

const n1 = 'instance="n1:9747",job="sluice"';
const n2 = 'instance="n2:9747",job="sluice"';
const info = (inst: string, node: string, values: string, group = "default") => [`sluice_info{${inst},node="${node}",group="${group}",version="0.1.0"}`, values] as [string, string];
const L1 = { instance: "n1:9747", job: "sluice", node: "n1", group: "default" };

interface Check {
  at: string;
  alert: string;
  /** Label sets of the alerts expected to fire (besides alertname and the rule's labels). */
  fires: Array<Record<string, string>>;
}
interface Case {
  name: string;
  interval?: string;
  series: Array<[string, string]>;
  checks: Check[];
}

const cases: Case[] = [
  {
    name: "a slot held for over 2 hours fires, across the reboot's silence",
    series: [info(n1, "n1", "1x60 _x5 1x200"), [`sluice_lock_held{${n1}}`, "0 1x59 _x5 1x200"]],
    checks: [
      { at: "100m", alert: "SluiceSlotHeldTooLong", fires: [] },
      { at: "130m", alert: "SluiceSlotHeldTooLong", fires: [L1] },
    ],
  },
  {
    name: "a slot released in time stays quiet",
    series: [info(n1, "n1", "1x300"), [`sluice_lock_held{${n1}}`, "0 1x60 0x200"]],
    checks: [{ at: "200m", alert: "SluiceSlotHeldTooLong", fires: [] }],
  },
  {
    name: "a node that went into rebooting and never reported again",
    series: [info(n1, "n1", "1x15"), [`sluice_state{${n1},state="rebooting"}`, "0x10 1x5"]],
    checks: [
      { at: "20m", alert: "SluiceNodeNotBack", fires: [] },
      { at: "45m", alert: "SluiceNodeNotBack", fires: [L1] },
    ],
  },
  {
    name: "a node back after a 5-minute reboot is not 'not back'",
    series: [info(n1, "n1", "1x15 _x5 1x60"), [`sluice_state{${n1},state="rebooting"}`, "0x10 1x5 _x5 1 0x60"]],
    checks: [{ at: "60m", alert: "SluiceNodeNotBack", fires: [] }],
  },
  {
    name: "an agent up but stuck in rebooting (the reboot did not happen) for over 30 minutes",
    series: [info(n1, "n1", "1x120"), [`sluice_state{${n1},state="rebooting"}`, "0x10 1x110"], [`sluice_last_transition_timestamp_seconds{${n1}}`, "600x120"]],
    checks: [
      { at: "50m", alert: "SluiceNodeNotBack", fires: [] },
      { at: "70m", alert: "SluiceNodeNotBack", fires: [L1] },
    ],
  },
  {
    name: "a rollback counted right after the boot fires",
    series: [info(n1, "n1", "1x30 _x5 1x30"), [`sluice_update_rollback_total{${n1}}`, "0x30 _x5 1x30"], info(n2, "n2", "1x70"), [`sluice_update_rollback_total{${n2}}`, "0x70"]],
    checks: [
      { at: "30m", alert: "SluiceUpdateRolledBack", fires: [] },
      { at: "40m", alert: "SluiceUpdateRolledBack", fires: [L1] },
    ],
  },
  {
    name: "a reboot pending for more than 7 days",
    series: [info(n1, "n1", "1x300"), [`sluice_reboot_pending_seconds{${n1}}`, "596160+60x300"]],
    checks: [
      { at: "150m", alert: "SluiceRebootPendingTooLong", fires: [] },
      { at: "200m", alert: "SluiceRebootPendingTooLong", fires: [L1] },
    ],
  },
  {
    name: "a group paused for more than a day: one alert for the group, not one per node",
    interval: "5m",
    series: [info(n1, "n1", "1x400", "zone-a"), info(n2, "n2", "1x400", "zone-a"), [`sluice_reboot_blocked{${n1},reason="paused"}`, "1x400"], [`sluice_reboot_blocked{${n2},reason="paused"}`, "1x400"], [`sluice_reboot_blocked{${n2},reason="window"}`, "1x400"]],
    checks: [
      { at: "23h", alert: "SluiceGroupPaused", fires: [] },
      { at: "26h", alert: "SluiceGroupPaused", fires: [{ group: "zone-a" }] },
    ],
  },
  {
    name: "a lost slot fires at once",
    series: [info(n1, "n1", "1x30"), [`sluice_lock_lost_total{${n1}}`, "0x10 1x20"]],
    checks: [
      { at: "9m", alert: "SluiceLockLost", fires: [] },
      { at: "12m", alert: "SluiceLockLost", fires: [L1] },
    ],
  },
  {
    name: "an agent that stops reporting, next to one rebooting briefly",
    series: [info(n1, "n1", "1x10"), info(n2, "n2", "1x10 _x5 1x30")],
    checks: [
      { at: "25m", alert: "SluiceAgentDown", fires: [] },
      { at: "35m", alert: "SluiceAgentDown", fires: [L1] },
    ],
  },
  {
    name: "no agent at all",
    series: [["up{job=\"other\"}", "1x60"]],
    checks: [
      { at: "20m", alert: "SluiceAbsent", fires: [] },
      { at: "40m", alert: "SluiceAbsent", fires: [{}] },
    ],
  },
  {
    name: "a healthy fleet is quiet",
    series: [info(n1, "n1", "1x1500"), [`sluice_reboot_pending_seconds{${n1}}`, "0x1500"], [`sluice_state{${n1},state="idle"}`, "1x1500"], [`sluice_lock_held{${n1}}`, "0x1500"]],
    checks: ["SluiceSlotHeldTooLong", "SluiceNodeNotBack", "SluiceUpdateRolledBack", "SluiceRebootPendingTooLong", "SluiceGroupPaused", "SluiceLockLost", "SluiceAgentDown", "SluiceAbsent"].map((alert) => ({ at: "1d", alert, fires: [] })),
  },
];

function expected(alert: string, labels: Record<string, string>) {
  const rule = rules.find((r) => r.alert === alert)!;
  const fill = (t: string) => t.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_m, k: string) => labels[k] ?? "");
  return { exp_labels: { ...rule.labels, ...labels }, exp_annotations: Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, fill(v)])) };
}

describe("promtool test rules", () => {
  it("every alert is exercised", () => {
    const tested = new Set(cases.flatMap((c) => c.checks.filter((k) => k.fires.length > 0).map((k) => k.alert)));
    expect([...tested].sort()).toEqual(rules.map((r) => r.alert).sort());
  });

  it.each(cases.map((c) => [c.name, c]))("%s", (_n, c) => {
    const file = join(tempDir(), "sluice-rules.test.yaml");
    writeFileSync(
      file,
      stringify({
        rule_files: [rulesPath],
        evaluation_interval: "1m",
        tests: [
          {
            interval: c.interval ?? "1m",
            input_series: c.series.map(([series, values]) => ({ series, values })),
            alert_rule_test: c.checks.map((k) => ({ eval_time: k.at, alertname: k.alert, exp_alerts: k.fires.map((l) => expected(k.alert, l)) })),
          },
        ],
      }),
    );
    const r = spawnSync("promtool", ["test", "rules", file], { encoding: "utf8" });
    expect(`${r.stdout}${r.stderr}`).toContain("SUCCESS");
    expect(r.status).toBe(0);
  });

  it("promtool is a real judge: a wrong expectation fails", () => {
    const file = join(tempDir(), "wrong.test.yaml");
    writeFileSync(file, stringify({ rule_files: [rulesPath], tests: [{ interval: "1m", input_series: [], alert_rule_test: [{ eval_time: "5m", alertname: "SluiceLockLost", exp_alerts: [expected("SluiceLockLost", L1)] }] }] }));
    expect(spawnSync("promtool", ["test", "rules", file]).status).not.toBe(0);
  });
});
