/**
 * End to end through a real reboot (issue 16): the built executable, installed by the project's
 * own Ignition config, runs as sluice.service under systemd in a QEMU guest and reboots it for
 * real; a simulated peer shares the group's only slot. Everything is observed from the host
 * through the API server (`sluice sim serve`), the guest's console and its control channel.
 * scripts/e2e-vm/e2e.ts runs it; this file says what must have happened.
 *
 * Skipped, with the reason, only where QEMU or debootstrap cannot run; SLUICE_E2E_REQUIRED=1
 * (`npm run e2e:vm`) turns that into a failure.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PEER_NODE, type Report, runE2e, VM_NODE } from "../../scripts/e2e-vm/e2e";
import type { Entry } from "../../scripts/e2e-vm/observe";
import { describe as line } from "../../scripts/e2e-vm/observe";
import { preflight } from "../../scripts/e2e-vm/preflight";

const ROOT = new URL("../../", import.meta.url).pathname;
const EXE = process.env.SLUICE_E2E_EXE ?? join(ROOT, "dist/sluice-linux-amd64");
const pre = preflight();
if (!pre.ok) {
  if (process.env.SLUICE_E2E_REQUIRED === "1") throw new Error(`e2e-vm cannot run: ${pre.reason}`);
  console.warn(`e2e-vm: skipped: ${pre.reason}`);
}

/** The entries of one scenario, in the order seen. */
const slice = (r: Report, s: { from: number; to: number }) => r.timeline.slice(s.from, s.to + 1);
const firstIndex = (es: Entry[], pred: (e: Entry) => boolean) => es.findIndex(pred);
const holderIs = (h: string) => (e: Entry) => e.kind === "holder" && e.holder === h;
const eventIs = (node: string, reason: string) => (e: Entry) => e.kind === "event" && e.node === node && e.reason === reason;

describe.skipIf(!pre.ok)("sluice under systemd in a VM, through real reboots", () => {
  it("reboots the guest once per need, in turn with the peer, and survives SIGKILL mid-drain", async () => {
    const report = await runE2e({ repo: ROOT, exe: EXE, outDir: join(ROOT, "build/e2e-vm"), out: (t) => console.log(t) });
    console.log(report.phases.map((p) => `${p.name}: ${(p.ms / 1000).toFixed(1)} s`).join("\n"));
    console.log(report.timeline.map((e) => line(e, report.t0)).join("\n"));

    // Installed by Ignition as on a Flatcar host: the executable that was built, enabled by the preset.
    expect(report.guest.binary).toBe(readFileSync(`${EXE}.sha512`, "utf8").split(/\s/)[0]);
    expect(report.guest.unitEnabled).toBe("enabled");
    expect(report.guest.kubeconfigMode).toBe("600 root");
    expect(report.guest.configMode).toBe("600 root");

    // Scenario 1: one real reboot, the order an operator sees it in (pairs that are cause and
    // effect; Events in the order the server stored them).
    const s1 = slice(report, report.reboot);
    expect(s1.some((e) => e.kind === "node" && e.node === VM_NODE && e.needed)).toBe(true);
    expect(s1.some(eventIs(VM_NODE, "RebootSlotTaken"))).toBe(true);
    const order = [
      firstIndex(s1, holderIs(VM_NODE)),
      firstIndex(s1, (e) => e.kind === "node" && e.node === VM_NODE && e.cordoned),
      firstIndex(s1, eventIs(VM_NODE, "Rebooting")),
      firstIndex(s1, eventIs(VM_NODE, "NodeRebooted")),
      firstIndex(s1, eventIs(VM_NODE, "RebootCompleted")),
      firstIndex(s1, eventIs(VM_NODE, "RebootSlotReleased")),
    ];
    expect(order.every((i) => i >= 0), JSON.stringify(order)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const drained = firstIndex(s1, (e) => e.kind === "pods" && e.node === VM_NODE && e.count === 0);
    expect(drained).toBeGreaterThan(order[0]!);
    expect(drained).toBeLessThan(order[2]!);
    // The guest went down and came back: the console's restart, a second kernel, a new boot id.
    expect(report.reboot.consoleRestarts).toBe(1);
    expect(report.reboot.bootsAfter).toBe(report.reboot.bootsBefore + 1);
    expect(report.boots[1]).not.toBe(report.boots[0]);
    // sluice uncordoned only once the Node was Ready with the new boot's id.
    const afterReboot = s1.slice(firstIndex(s1, eventIs(VM_NODE, "Rebooting")));
    const uncordoned = afterReboot.find((e) => e.kind === "node" && e.node === VM_NODE && !e.cordoned);
    expect(uncordoned).toMatchObject({ ready: true, bootId: report.boots[1] });
    expect(s1.filter(eventIs(VM_NODE, "Rebooting"))).toHaveLength(1);

    // The peer needed a reboot while the guest held the only slot, and took it only after.
    expect(report.reboot.peerNeededWhileHolder).toBe(VM_NODE);
    // The Lease's holders in the server's order: the guest, free, then the peer.
    const holders = report.timeline
      .slice(report.reboot.from, report.sigkill.from)
      .flatMap((e) => (e.kind === "holder" ? [e.holder] : []))
      .filter((h, i, a) => i === 0 || h !== a[i - 1]);
    const first = holders.indexOf(VM_NODE);
    expect(holders.slice(first, first + 3)).toEqual([VM_NODE, "", PEER_NODE]);
    expect(report.reboot.peerReboots).toBe(1);

    // Scenario 2: SIGKILL mid-drain; systemd restarts the agent; it resumes and reboots once.
    const k = report.sigkill;
    expect(k.restartsAfter).toBeGreaterThan(k.restartsBefore);
    expect(k.pidAfter).not.toBe(k.pidBefore);
    expect(k.resumedLine).toMatch(/sluice started.*phase=draining/);
    const s2 = slice(report, k);
    expect(s2.filter(eventIs(VM_NODE, "RebootSlotTaken"))).toHaveLength(1);
    expect(s2.filter(eventIs(VM_NODE, "Rebooting"))).toHaveLength(1);
    expect(s2.filter((e) => e.kind === "event" && e.node === VM_NODE && /Abort|Requeue/.test(e.reason))).toEqual([]);
    // The slot stayed with the guest from taking it to the reboot: never free in between.
    const took = firstIndex(s2, holderIs(VM_NODE));
    const rebooting = firstIndex(s2, eventIs(VM_NODE, "Rebooting"));
    expect(s2.slice(took, rebooting).filter((e) => e.kind === "holder" && e.holder !== VM_NODE)).toEqual([]);
    expect(k.consoleRestarts).toBe(1);
    expect(k.bootsAfter).toBe(k.bootsBefore + 1);
    expect(report.kernels).toBe(report.boots.length);
  }, 15 * 60_000);
});
