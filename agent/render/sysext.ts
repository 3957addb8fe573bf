/**
 * systemd-sysext, Flatcar's way to add software to its read-only /usr: a squashfs image with
 * usr/bin/sluice, the unit, and an extension-release file that says which OS it fits. Images sit
 * in /opt/extensions/sluice; /etc/extensions/sluice.raw links the active one, which
 * systemd-sysupdate moves on when a newer image is published.
 */
import { RenderError } from "./errors";
import { UNIT_NAME } from "./unit";

export type SysextArch = "x86-64" | "arm64";
export const SYSEXT_NAME = "sluice";
export const SYSEXT_DIR = "/opt/extensions/sluice";
export const SYSEXT_LINK = "/etc/extensions/sluice.raw";
export const SYSEXT_EXEC_PATH = "/usr/bin/sluice";
export const SYSUPDATE_NOOP_PATH = "/etc/sysupdate.d/noop.conf";

export function sysextImageName(version: string, arch: SysextArch): string {
  if (!/^[0-9A-Za-z][0-9A-Za-z.+~_]*$/.test(version)) throw new RenderError(`version ${JSON.stringify(version)} must be letters, digits and . + ~ _ (no - : it separates the name's parts)`);
  return `${SYSEXT_NAME}-${version}-${arch}.raw`;
}

/**
 * ID=flatcar with SYSEXT_LEVEL=1.0 matches every Flatcar release (the single executable needs no
 * library of the OS). EXTENSION_RELOAD_MANAGER makes systemd 255+ reload units after merging;
 * Flatcar's ensure-sysext.service does it on older releases.
 */
export function extensionRelease(arch: SysextArch): string {
  return `ID=flatcar\nSYSEXT_LEVEL=1.0\nARCHITECTURE=${arch}\nEXTENSION_RELOAD_MANAGER=1\n`;
}

/** Starts the unit once the image is merged: Upholds= works where a [Install] symlink cannot (the unit is not there when /etc is read). */
export function sysextUpholdsDropin(): { path: string; contents: string } {
  return { path: "usr/lib/systemd/system/multi-user.target.d/10-sluice.conf", contents: `[Unit]\nUpholds=${UNIT_NAME}\n` };
}

export function sysupdateTransferPath(): string {
  return `/etc/sysupdate.${SYSEXT_NAME}.d/${SYSEXT_NAME}.conf`;
}

/**
 * systemd-sysupdate fetches SHA256SUMS from updateUrl and checks each image against it
 * (Verify=false only skips the GPG signature of SHA256SUMS, which sluice's release does not make).
 */
export function sysupdateTransfer(updateUrl: string, arch: SysextArch): string {
  const base = updateUrl.endsWith("/") ? updateUrl : `${updateUrl}/`;
  return `[Transfer]
Verify=false

[Source]
Type=url-file
Path=${base}
MatchPattern=${SYSEXT_NAME}-@v-${arch}.raw

[Target]
InstancesMax=3
Type=regular-file
Path=${SYSEXT_DIR}
MatchPattern=${SYSEXT_NAME}-@v-${arch}.raw
CurrentSymlink=${SYSEXT_LINK}
`;
}

/** systemd-sysupdate.service runs without a component and fails when /etc/sysupdate.d has no transfer at all. */
export function noopTransfer(): string {
  return `# Lets systemd-sysupdate.service (no component) succeed; the real transfers are per component.
[Source]
Type=regular-file
Path=/
MatchPattern=invalid@v.raw

[Target]
Type=regular-file
Path=/
`;
}

export const SYSUPDATE_DROPIN = {
  name: "sluice.conf",
  contents: `# A new image becomes active at the next boot (the next OS update's reboot, which sluice
# coordinates). To switch at once: systemctl restart systemd-sysext ensure-sysext sluice
[Service]
ExecStartPre=/usr/lib/systemd/systemd-sysupdate -C ${SYSEXT_NAME} update
`,
};
