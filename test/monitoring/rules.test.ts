/**
 * deploy/monitoring: the alert rules pass `promtool check rules`, fire (and stay quiet) as
 * `promtool test rules` shows for series written here, the PrometheusRule holds the same groups,
 * and every expression in the rules and the Grafana dashboard names only series sluice exports
 * (read from agent/metrics, not copied).
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { exportedSeriesNames } from "../../agent/metrics";
import { tempDir } from "../helpers/tmp";

const dir = join(import.meta.dirname, "../../deploy/monitoring");
const rulesPath = join(dir, "files/sluice-rules.yaml");
interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
const rulesFile = parse(readFileSync(rulesPath, "utf8")) as { groups: Array<{ name: string; rules: Rule[] }> };
const rules = rulesFile.groups.flatMap((g) => g.rules);
const dashboard = JSON.parse(readFileSync(join(dir, "files/grafana-dashboard.json"), "utf8"));

function promtool(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync("promtool", args, { encoding: "utf8" });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Series names in a PromQL expression: identifiers that are not functions, keywords or labels. */
export function metricNames(expr: string): string[] {
  const label = expr.match(/^label_values\(\s*([a-zA-Z_:][\w:]*)/);
  if (label) return [label[1]!];
  let e = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  e = e.replace(/\{[^}]*\}/g, "").replace(/\[[^\]]*\]/g, "").replace(/\$\w+/g, "");
  e = e.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  const keywords = new Set(["and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "Inf", "NaN", "inf", "nan"]);
  const names = new Set<string>();
  for (const m of e.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)\s*(\()?/g)) if (!m[2] && !keywords.has(m[1]!)) names.add(m[1]!);
  return [...names];
}

function dashboardExpressions(): string[] {
  const out: string[] = [];
  for (const p of dashboard.panels) for (const t of p.targets ?? []) out.push(t.expr);
  for (const v of dashboard.templating.list) if (v.type === "query") out.push(typeof v.query === "string" ? v.query : v.query.query);
  return out;
}

describe("the rules file", () => {
  it("passes promtool check rules", () => {
    expect(promtool("check", "rules", rulesPath)).toEqual({ status: 0, out: expect.stringContaining("SUCCESS: 8 rules found") });
  });

  it("the PrometheusRule carries exactly the same groups, and passes too", () => {
    const pr = parse(readFileSync(join(dir, "prometheusrule.yaml"), "utf8"));
    expect([pr.apiVersion, pr.kind]).toEqual(["monitoring.coreos.com/v1", "PrometheusRule"]);
    expect(pr.spec.groups).toEqual(rulesFile.groups);
    const tmp = join(tempDir(), "from-prometheusrule.yaml");
    writeFileSync(tmp, stringify({ groups: pr.spec.groups }));
    expect(promtool("check", "rules", tmp).status).toBe(0);
  });

  it("every alert has a severity, a summary, a description and a runbook line", () => {
    expect(rules.map((r) => r.alert)).toEqual(["SluiceSlotHeldTooLong", "SluiceNodeNotBack", "SluiceUpdateRolledBack", "SluiceRebootPendingTooLong", "SluiceGroupPaused", "SluiceLockLost", "SluiceAgentDown", "SluiceAbsent"]);
    for (const r of rules) {
      expect(["info", "warning", "critical"], r.alert).toContain(r.labels.severity);
      for (const k of ["summary", "description", "runbook"]) expect(r.annotations[k]?.length, `${r.alert} ${k}`).toBeGreaterThan(20);
    }
  });
});

describe("names: only series sluice exports", () => {
  const exported = new Set(exportedSeriesNames());
  it("the extractor finds names and ignores functions, labels and keywords", () => {
    expect(metricNames('max by (group) (sluice_x{reason="paused"} * on (instance, job) group_left (group) sluice_info) == 1 and time() > 3')).toEqual(["sluice_x", "sluice_info"]);
    expect(metricNames("histogram_quantile(0.5, sum by (le) (increase(a_bucket[7d])))")).toEqual(["a_bucket"]);
    expect(metricNames("label_values(sluice_info, group)")).toEqual(["sluice_info"]);
    expect(metricNames("up == 0")).toEqual(["up"]);
  });

  it.each(rules.map((r) => [r.alert, r.expr]))("rule %s", (_n, expr) => {
    const names = metricNames(expr);
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(exported, n).toContain(n);
  });

  it("every dashboard expression", () => {
    const exprs = dashboardExpressions();
    expect(exprs.length).toBeGreaterThan(10);
    for (const e of exprs) {
      const names = metricNames(e);
      expect(names.length, e).toBeGreaterThan(0);
      for (const n of names) expect(exported, `${n} in ${e}`).toContain(n);
    }
  });

  it("every dashboard expression is valid PromQL (promtool, with Grafana's variables filled in)", () => {
    const exprs = dashboardExpressions().filter((e) => !e.startsWith("label_values("));
    const file = join(tempDir(), "dashboard-as-rules.yaml");
    const fill = (e: string) => e.replaceAll("$group", ".*").replaceAll("$__range", "1h");
    writeFileSync(file, stringify({ groups: [{ name: "dashboard", rules: exprs.map((e, i) => ({ record: `dashboard:expr_${i}`, expr: fill(e) })) }] }));
    const r = promtool("check", "rules", file);
    expect(r.out).toContain(`SUCCESS: ${exprs.length} rules found`);
  });
});
