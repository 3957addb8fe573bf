/**
 * logind's InhibitDelayMaxSec caps how long a delay inhibitor (the kubelet's graceful node
 * shutdown) may hold up `systemctl reboot`; its default of 5 s cuts the kubelet's
 * shutdownGracePeriod short. The kubelet tries to raise it itself (99-kubelet.conf) but fails on
 * a read-only or differently managed /etc, so the provisioning writes it up front.
 */
import { RenderError } from "./errors";

export const LOGIND_DROPIN_PATH = "/etc/systemd/logind.conf.d/60-sluice-inhibit-delay.conf";

export function renderLogindDropin(shutdownGracePeriodSec: number): string {
  if (!Number.isInteger(shutdownGracePeriodSec) || shutdownGracePeriodSec < 1 || shutdownGracePeriodSec > 86_400) {
    throw new RenderError(`the shutdown grace period must be a whole number of seconds from 1 to 86400, not ${shutdownGracePeriodSec}`);
  }
  return `# Written by sluice's provisioning: lets the kubelet's graceful node shutdown (shutdownGracePeriod
# ${shutdownGracePeriodSec}s) finish before logind proceeds with a reboot.
[Login]
InhibitDelayMaxSec=${shutdownGracePeriodSec}
`;
}
