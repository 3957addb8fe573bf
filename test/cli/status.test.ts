import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../agent/cli/main";
import { drainNode } from "../../agent/drain";
import { nodeFs } from "../../agent/host";
import { drainReport, initialState, StateStore } from "../../agent/reboot";
import { addPdb, drive, startSim, type Harness } from "../drain/harness";
import { tempDir } from "../helpers/tmp";
import { cliContext } from "../helpers/cli";

const context = () => cliContext({}, { log: {} });

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe("sluice status", () => {
  it("shows a drain that timed out: the pods and the PDB that held it, beside the window and the slots", async () => {
    h = await startSim();
    h.cluster!.addWorkload("apps", "db", 2, ["node-a", "node-b"]);
    addPdb(h.server, "db-pdb", { app: "db" }, { minAvailable: 2 });
    const result = await drive(h.clock, drainNode({ node: "node-a", timeoutMs: 60_000 }, h.deps));
    expect(result.outcome).toBe("timed-out");

    const dir = tempDir();
    const now = Date.now();
    await new StateStore(nodeFs, dir).save({
      ...initialState("node-a", now),
      state: { phase: "aborting", since: now - 90_000, slot: "sluice-default-0", wasUnschedulable: false, needSince: now - 100_000, why: "drain timed out; forceReboot is off" },
      lastDrain: drainReport(result, now - 60_000),
    });
    const kubeconfig = join(dir, "kubeconfig");
    writeFileSync(kubeconfig, h.server.kubeconfigYaml(), { mode: 0o600 });

    const { ctx, stdout } = context();
    writeFileSync(join(dir, "reboot-required"), "");
    const args = ["status", "--config-dir", dir, "--state-dir", dir, "--kubeconfig", kubeconfig, "--node-name", "node-a", "--start-time", "8", "--end-time", "15", "--reboot-days", "mon", "--reboot-sentinel", join(dir, "reboot-required"), "--update-engine", "off"];
    expect(await main(args, ctx)).toBe(0);
    const lines = stdout.lines;
    expect(lines[0]).toMatch(/^node node-a: aborting for 1m3\ds: giving reboot slot sluice-default-0 back: drain timed out; forceReboot is off$/);
    expect(lines[1]).toMatch(/^reboot needed \(since /);
    expect(lines[2]).toMatch(new RegExp(`^  sentinel-file: needed \\(.*${dir}/reboot-required`));
    lines.splice(1, 2);
    expect(lines[1]).toMatch(/^reboot window: Mon 08:00-15:00 UTC: (open now|closed; opens \d{4}-\d\d-\d\dT08:00:00\.000Z)$/);
    expect(lines[2]).toMatch(/^last drain \(1m\d+s ago\): drain of node-a timed out after 60\.0s with 1 pod\(s\) left\. PDBs holding it: apps\/db-pdb\./);
    expect(lines[3]).toMatch(/^  apps\/db-\S+  evicting  .*PodDisruptionBudget apps\/db-pdb.*\[PDB apps\/db-pdb\]$/);
    expect(lines[4]).toBe("group default in namespace sluice: 1 slot, not paused");

    const json = context();
    expect(await main([...args, "--json"], json.ctx)).toBe(0);
    const r = JSON.parse(json.stdout.text);
    expect(r.agent.lastDrain.pdbs).toEqual(["apps/db-pdb"]);
    expect(r.agent.lastDrain.held[0]).toMatchObject({ namespace: "apps", state: "evicting", pdbs: ["apps/db-pdb"] });
    expect(r.lock.slots).toHaveLength(1);
  }, 60_000);

  it("still answers when there is no state, no kubeconfig, or a damaged state file", async () => {
    const dir = tempDir();
    const { ctx, stdout } = context();
    const quiet = ["--reboot-sentinel", join(dir, "absent"), "--update-engine", "off"];
    expect(await main(["status", "--config-dir", dir, "--state-dir", dir, "--kubeconfig", join(dir, "none"), "--node-name", "n1", ...quiet], ctx)).toBe(0);
    expect(stdout.lines[0]).toBe("node n1: idle (the agent has recorded no state yet)");
    expect(stdout.lines[1]).toBe("no reboot needed");
    expect(stdout.lines[2]).toMatch(/^  sentinel-file: not needed /);
    expect(stdout.lines.at(-1)).toBe(`slots: unknown (no kubeconfig at ${dir}/none)`);
    writeFileSync(join(dir, "state.json"), "{");
    const again = context();
    expect(await main(["status", "--config-dir", dir, "--state-dir", dir, "--kubeconfig", join(dir, "none"), "--node-name", "n1", ...quiet], again.ctx)).toBe(0);
    expect(again.stdout.lines[0]).toMatch(/^node n1: state unknown \(.*state\.json is not JSON/);
  });

  it("prints no credential from what the agent said it waits for, in text or JSON", async () => {
    const dir = tempDir();
    const now = Date.now();
    await new StateStore(nodeFs, dir).save({ ...initialState("n1", now), state: { phase: "pending", since: now - 5000, needSince: now - 9000, reason: "r" } });
    writeFileSync(join(dir, "status.json"), JSON.stringify({ phase: "pending", since: now - 5000, at: now, waiting: "blocked: cannot evaluate Prometheus alerts at https://ops:hunter2@prom.example/api?token=abc123: HTTP 500" }));
    const quiet = ["--reboot-sentinel", join(dir, "absent"), "--update-engine", "off"];
    for (const json of [false, true]) {
      const { ctx, stdout } = context();
      expect(await main(["status", "--config-dir", dir, "--state-dir", dir, "--kubeconfig", join(dir, "none"), "--node-name", "n1", ...quiet, ...(json ? ["--json"] : [])], ctx)).toBe(0);
      expect(stdout.text).toContain("cannot evaluate Prometheus alerts at https://");
      expect(stdout.text).not.toMatch(/hunter2|abc123/);
    }
  });
});
