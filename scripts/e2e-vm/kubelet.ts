/**
 * What a kubelet reports about its Node and sluice reads after a boot: Ready, and the boot id. The
 * guest runs no kubelet, so the test reports for it from what it sees of the guest (the boot id
 * greeting after each boot; the console's "reboot: Restarting system").
 */
import type { Api } from "./api";

export async function setNodeBoot(admin: Api, node: string, bootId: string, ready: boolean): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const cur = await admin.get(`/api/v1/nodes/${node}`);
  const others = ((cur?.status?.conditions ?? []) as { type: string }[]).filter((c) => c.type !== "Ready");
  const ready_ = { type: "Ready", status: ready ? "True" : "False", reason: ready ? "KubeletReady" : "NodeStatusUnknown", message: ready ? "kubelet is posting ready status" : "Kubelet stopped posting node status.", lastHeartbeatTime: now, lastTransitionTime: now };
  await admin.write("PATCH", `/api/v1/nodes/${node}/status`, { status: { conditions: [...others, ready_], nodeInfo: { ...(cur?.status?.nodeInfo ?? {}), bootID: bootId } } });
}
