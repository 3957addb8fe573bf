/**
 * The end-to-end run: a real guest (systemd, the rendered Ignition config, the built executable)
 * and a simulated peer in one reboot group of concurrency 1, against `sluice sim serve`.
 *
 *   boot      the guest boots; sluice.service starts under systemd and reaches READY
 *   reboot    the sentinel appears in the guest: slot, cordon, drain, Events, a real
 *             `systemctl reboot`, a new boot id, recovery, uncordon, release; the peer, needing a
 *             reboot since the guest took the slot, goes only after
 *   sigkill   a PodDisruptionBudget keeps the guest draining; `systemctl kill -s KILL sluice`;
 *             systemd restarts it; it resumes the drain and reboots once
 *
 * Each phase's duration is printed. The run directory (console.log: the guest's journal, the sim's
 * and the peer's logs) is kept on failure and removed on success.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { describe as line, type Entry, Observer } from "./observe";
import { baseImage, prepareDisk } from "./image";
import { setNodeBoot } from "./kubelet";
import { startPeer, type Peer } from "./peer";
import { startSim, type Sim } from "./sim";
import { GUEST_API, Vm } from "./vm";

export const VM_NODE = "vm-1";
export const PEER_NODE = "peer-1";
export const GROUP = "e2e";
export const LEASE = `sluice-${GROUP}-0`;

/** What every host of the group gets as /etc/sluice/config.yaml (the peer reads the same file). */
export const CONFIG_YAML = `# The VM end-to-end test's group: one slot, short delays so a cycle fits the test's budget.
group: ${GROUP}
concurrency: 1
lockReleaseDelay: 5s
drainGracePeriod: 5
drainTimeout: 10m
# The default window closes at 23:59 UTC; no margin, so a run just before midnight still starts.
windowMargin: 0s
updateEngine: "off"
`;

const RESTART_LINE = /reboot: Restarting system/g;

export interface Scenario {
  /** Timeline index where it began. */
  from: number;
  /** Timeline index where it ended (the slot released). */
  to: number;
  bootsBefore: number;
  bootsAfter: number;
  consoleRestarts: number;
}

export interface Report {
  phases: { name: string; ms: number }[];
  t0: number;
  timeline: Entry[];
  boots: string[];
  /** Linux banners on the console: one per boot. */
  kernels: number;
  reboot: Scenario & { peerNeededWhileHolder: string; peerReboots: number };
  sigkill: Scenario & { pidBefore: number; pidAfter: number; restartsBefore: number; restartsAfter: number; resumedLine: string };
  /** The unit and files as Ignition installed them, read in the guest. */
  guest: { unitEnabled: string; kubeconfigMode: string; configMode: string; binary: string };
  dir: string;
}

export interface Options {
  repo: string;
  exe: string;
  out: (text: string) => void;
  /** Where run directories go (kept on failure). */
  outDir: string;
}

export async function runE2e(o: Options): Promise<Report> {
  const t0 = Date.now();
  const dir = join(o.outDir, `run-${new Date(t0).toISOString().replace(/[:.]/g, "-")}`);
  mkdirSync(dir, { recursive: true });
  const phases: Report["phases"] = [];
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const start = Date.now();
    o.out(`e2e-vm: ${name} ...`);
    const r = await fn();
    phases.push({ name, ms: Date.now() - start });
    o.out(`e2e-vm: ${name}: ${((Date.now() - start) / 1000).toFixed(1)} s`);
    return r;
  };
  let sim: Sim | undefined;
  let vm: Vm | undefined;
  let peer: Peer | undefined;
  let obs: Observer | undefined;
  let ok = false;
  try {
    const base = await phase("image (built once per inputs, then cached)", () => baseImage(o.repo));
    sim = await startSim({ exe: o.exe, repo: o.repo, dir, nodes: [VM_NODE, PEER_NODE], podsPerNode: 2 });
    const s = sim;
    const kubeconfig = (server: string) => stringify({ apiVersion: "v1", kind: "Config", clusters: [{ name: "e2e", cluster: { server, "insecure-skip-tls-verify": true } }], users: [{ name: "sluice-agent", user: { token: s.agentToken } }], contexts: [{ name: "e2e", context: { cluster: "e2e", user: "sluice-agent" } }], "current-context": "e2e" });
    const { disk } = await phase("disk (Ignition applied)", () => prepareDisk(base, dir, { exe: o.exe, configYaml: CONFIG_YAML, kubeconfigYaml: kubeconfig(GUEST_API) }));

    const observer = (obs = new Observer(s.admin, { nodes: [VM_NODE, PEER_NODE], lease: LEASE, namespace: "sluice" }));
    observer.start();
    const guest = (vm = new Vm({ dir, base, disk, apiPort: s.port }));
    // The guest's kubelet, stood in for: NotReady when the console says the guest goes down, Ready
    // with the boot id it greets with after each boot.
    let reportedBoots = 0;
    let reportedDowns = 0;
    let tending: Promise<void> = Promise.resolve();
    let fault: unknown;
    const tend = () => {
      tending = tending.then(async () => {
        if (!guest.running) throw new Error(`qemu is not running: see ${join(dir, "qemu.log")}`);
        const downs = guest.consoleText().match(RESTART_LINE)?.length ?? 0;
        if (downs > reportedDowns) {
          reportedDowns = downs;
          await setNodeBoot(s.admin, VM_NODE, guest.boots.at(-1)?.id ?? "", false);
        }
        if (guest.boots.length > reportedBoots) {
          reportedBoots = guest.boots.length;
          await setNodeBoot(s.admin, VM_NODE, guest.boots.at(-1)!.id, true);
        }
      }).catch((err: unknown) => {
        fault ??= err;
      });
    };
    const alive = () => {
      if (fault) throw fault;
      tend();
    };
    const until = async (what: string, pred: () => boolean | Promise<boolean>, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (!(await pred())) {
        tend();
        await tending;
        if (fault) throw fault;
        if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for: ${what}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    };

    const guestFacts = await phase("boot", async () => {
      await guest.start();
      await until("the guest's first boot id", () => guest.boots.length > 0, 300_000);
      await tending;
      await until("sluice.service active (READY) in the guest", async () => (await guest.exec("systemctl is-active sluice")).out.trim() === "active", 300_000);
      return {
        unitEnabled: (await guest.exec("systemctl is-enabled sluice")).out.trim(),
        kubeconfigMode: (await guest.exec("stat -c '%a %U' /etc/sluice/kubeconfig")).out.trim(),
        configMode: (await guest.exec("stat -c '%a %U' /etc/sluice/config.yaml")).out.trim(),
        binary: (await guest.exec("sha512sum /opt/bin/sluice")).out.split(" ")[0] ?? "",
      };
    });
    peer = await startPeer({ node: PEER_NODE, dir, configPath: join(dir, "config.yaml"), kubeconfigYaml: kubeconfig(`http://127.0.0.1:${s.port}`), admin: s.admin, downMs: 3000 });
    const p = peer;

    const restarts = () => guest.consoleText().match(RESTART_LINE)?.length ?? 0;
    const wait = (what: string, pred: (e: Entry) => boolean, from: number, timeoutMs = 180_000) => observer.waitFor(what, pred, { from, timeoutMs, alive });
    const holder = (h: string, phase?: string) => (e: Entry) => e.kind === "holder" && e.holder === h && (phase === undefined || e.phase === phase);
    const event = (node: string, reason: string) => (e: Entry) => e.kind === "event" && e.node === node && e.reason === reason;

    const reboot = await phase("reboot (the VM, then the peer)", async () => {
      await observer.poll();
      const from = observer.timeline.length;
      const bootsBefore = guest.boots.length;
      const restartsBefore = restarts();
      await guest.mustExec("touch /run/reboot-required");
      await wait("vm-1 marked reboot-needed", (e) => e.kind === "node" && e.node === VM_NODE && e.needed, from);
      await wait("vm-1 takes the slot", holder(VM_NODE), from);
      // The peer's update lands while the guest holds the only slot.
      p.needReboot();
      const peerNeeded = await wait("peer-1 marked reboot-needed", (e) => e.kind === "node" && e.node === PEER_NODE && e.needed, from);
      const holderThen = [...observer.timeline.slice(0, observer.timeline.indexOf(peerNeeded) + 1)].reverse().find((e) => e.kind === "holder");
      await wait("vm-1 cordoned", (e) => e.kind === "node" && e.node === VM_NODE && e.cordoned, from);
      await wait("vm-1 drained", (e) => e.kind === "pods" && e.node === VM_NODE && e.count === 0, from);
      await wait("Event Rebooting on vm-1", event(VM_NODE, "Rebooting"), from);
      await until("the guest's console: reboot: Restarting system", () => restarts() > restartsBefore, 240_000);
      await until("a new boot id from the guest", () => guest.boots.length > bootsBefore, 240_000);
      await wait("Event RebootCompleted on vm-1", event(VM_NODE, "RebootCompleted"), from, 240_000);
      const released = await wait("Event RebootSlotReleased on vm-1", event(VM_NODE, "RebootSlotReleased"), from);
      const to = observer.timeline.indexOf(released);
      await wait("peer-1 takes the slot", holder(PEER_NODE), from);
      await wait("Event RebootSlotReleased on peer-1", event(PEER_NODE, "RebootSlotReleased"), from);
      return { from, to, bootsBefore, bootsAfter: guest.boots.length, consoleRestarts: restarts() - restartsBefore, peerNeededWhileHolder: holderThen?.kind === "holder" ? holderThen.holder : "", peerReboots: p.reboots };
    });

    const sigkill = await phase("sigkill mid-drain", async () => {
      await observer.poll();
      const from = observer.timeline.length;
      await wait("pods back on vm-1", (e) => e.kind === "pods" && e.node === VM_NODE && e.count > 0, 0);
      // No disruption allowed: every eviction from vm-1 is refused (429) until the PDB goes.
      await s.admin.write("POST", "/apis/policy/v1/namespaces/apps/poddisruptionbudgets", { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "e2e-hold", namespace: "apps" }, spec: { maxUnavailable: 0, selector: { matchLabels: { app: "web" } } } });
      const bootsBefore = guest.boots.length;
      const restartsBefore = restarts();
      const consoleFrom = guest.consoleText().length;
      await guest.mustExec("touch /run/reboot-required");
      await wait("vm-1 takes the slot and drains", holder(VM_NODE, "draining"), from);
      await wait("vm-1 cordoned", (e) => e.kind === "node" && e.node === VM_NODE && e.cordoned, from);
      // The agent names the budget that refuses it: it is evicting, and held there.
      await until("the agent's log naming the PDB apps/e2e-hold (evictions refused)", () => guest.consoleText().slice(consoleFrom).includes("apps/e2e-hold"), 120_000);
      const show = async () => Object.fromEntries((await guest.mustExec("systemctl show -p MainPID -p NRestarts -p ActiveState sluice")).split("\n").map((l) => l.split("=") as [string, string]));
      const before = await show();
      const consoleAtKill = guest.consoleText().length;
      await guest.mustExec("systemctl kill -s KILL sluice");
      let after = before;
      await until("systemd restarts sluice", async () => {
        after = await show();
        return after.ActiveState === "active" && after.MainPID !== before.MainPID && Number(after.NRestarts) > Number(before.NRestarts);
      }, 120_000);
      // The new process finds its drain in state.json and the Lease, and goes on with it.
      let resumedLine = "";
      await until("the restarted agent says it resumes draining", () => {
        resumedLine = guest.consoleText().slice(consoleAtKill).split("\n").find((l) => /sluice started/.test(l) && /phase=draining/.test(l)) ?? "";
        return resumedLine !== "";
      }, 120_000);
      await s.admin.write("DELETE", "/apis/policy/v1/namespaces/apps/poddisruptionbudgets/e2e-hold");
      await wait("vm-1 drained", (e) => e.kind === "pods" && e.node === VM_NODE && e.count === 0, from);
      await until("a new boot id from the guest", () => guest.boots.length > bootsBefore, 240_000);
      const released = await wait("Event RebootSlotReleased on vm-1", event(VM_NODE, "RebootSlotReleased"), from, 240_000);
      return { from, to: observer.timeline.indexOf(released), bootsBefore, bootsAfter: guest.boots.length, consoleRestarts: restarts() - restartsBefore, pidBefore: Number(before.MainPID), pidAfter: Number(after.MainPID), restartsBefore: Number(before.NRestarts), restartsAfter: Number(after.NRestarts), resumedLine: resumedLine.trim() };
    });

    const kernels = guest.consoleText().match(/Linux version /g)?.length ?? 0;
    ok = true;
    return { phases, t0, timeline: observer.timeline, boots: guest.boots.map((b) => b.id), kernels, reboot, sigkill, guest: guestFacts, dir };
  } finally {
    obs?.stop();
    if (!ok && vm?.running) {
      // The journal of every boot, while the guest can still be asked; console.log has it too.
      const j = await vm.exec("journalctl --no-pager -o short-monotonic", 60_000).catch((e: unknown) => ({ rc: -1, out: String(e) }));
      writeFileSync(join(dir, "journal.txt"), j.out);
    }
    if (!ok && obs) writeFileSync(join(dir, "timeline.txt"), obs.timeline.map((e) => line(e, t0)).join("\n") + "\n");
    await peer?.stop().catch(() => {});
    await vm?.stop();
    await sim?.stop();
    rmSync(join(dir, "disk.raw"), { force: true });
    rmSync(join(dir, "root"), { recursive: true, force: true });
    if (ok) rmSync(dir, { recursive: true, force: true });
    else o.out(`e2e-vm: failed; the guest's console (with its journal), the sim's and the peer's logs are in ${dir}`);
  }
}
