/**
 * The systemd unit, the one text every install path ships (Ignition, Butane, kOps user data and
 * the sysext image all embed what renderUnit returns).
 *
 * Hardening: sluice runs as root because update_engine's D-Bus API and logind's reboot call want
 * it, but it needs almost nothing root can do. It reads /etc/sluice and the kubeconfigs (files
 * root owns, so no CAP_DAC_*), writes only its StateDirectory, talks AF_UNIX (system bus,
 * sd_notify) and AF_INET/6 (API server, Prometheus, webhooks). The only capability left is
 * CAP_SYS_BOOT: logind authorises `systemctl reboot` by that capability of the caller before it
 * falls back to polkit, which Flatcar does not run.
 */
import { RenderError } from "./errors";

export const UNIT_NAME = "sluice.service";
export const DEFAULT_STATE_DIR = "/var/lib/sluice";

export interface UnitOptions {
  /** Absolute path of the executable: /opt/bin/sluice, or /usr/bin/sluice inside a sysext. */
  execPath: string;
}

export function renderUnit(opts: UnitOptions): string {
  if (!opts.execPath.startsWith("/") || /\s/.test(opts.execPath)) throw new RenderError(`execPath must be an absolute path without spaces, not ${JSON.stringify(opts.execPath)}`);
  return `[Unit]
Description=sluice: coordinated, drained reboots for OS updates
# The node must be reachable and registered before sluice can reconcile; ordering after the
# kubelet also stops sluice first at shutdown, so it persists its state before the node goes.
Wants=network-online.target
After=network-online.target kubelet.service update-engine.service

[Service]
# READY comes from systemd-notify, a child of sluice (Node cannot send unix datagrams), hence
# NotifyAccess=all. systemd-notify waits until PID 1 has read the message, so it is never lost.
Type=notify
NotifyAccess=all
ExecStart=${opts.execPath} run
Restart=on-failure
RestartSec=10s
# 78: bad configuration, 64: bad usage. Restarting cannot fix either; the journal says why.
RestartPreventExitStatus=78 64
StateDirectory=sluice
StateDirectoryMode=0700
# /run/sluice/inhibit is where other jobs drop inhibitor files. Preserved across restarts: a stop
# must never delete an inhibitor someone else set.
RuntimeDirectory=sluice sluice/inhibit
RuntimeDirectoryPreserve=yes
UMask=0077

CapabilityBoundingSet=CAP_SYS_BOOT
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateMounts=yes
PrivateIPC=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
# Not ProcSubset=pid: the boot id is read from /proc/sys/kernel/random/boot_id.
ProtectProc=invisible
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
KeyringMode=private
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged
SystemCallErrorNumber=EPERM
# Not MemoryDenyWriteExecute: V8's JIT writes the code it runs.

[Install]
WantedBy=multi-user.target
`;
}
