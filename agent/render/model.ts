/**
 * The one model every install artefact is rendered from: what lands on a host, as a list of
 * entries (files, links, units). Ignition, Butane and the kOps script are three spellings of the
 * same list, so they cannot drift apart.
 */
import { RenderError } from "./errors";
import { LOGIND_DROPIN_PATH, renderLogindDropin } from "./logind";
import { SYSEXT_DIR, SYSEXT_LINK, SYSUPDATE_DROPIN, SYSUPDATE_NOOP_PATH, noopTransfer, sysextImageName, sysupdateTransfer, sysupdateTransferPath, type SysextArch } from "./sysext";
import { UNIT_NAME, renderUnit } from "./unit";

export const BINARY_PATH = "/opt/bin/sluice";
export const CONFIG_PATH = "/etc/sluice/config.yaml";
export const DEFAULT_KUBECONFIG_PATH = "/etc/sluice/kubeconfig";
export const UPDATE_CONF_PATH = "/etc/flatcar/update.conf";

/** A file fetched at provisioning. `sha512` (hex) is checked; with gzip it is the decompressed file's. */
export interface RemoteSource {
  url: string;
  sha512?: string;
  gzip?: boolean;
}

export type Contents = { inline: string } | { remote: RemoteSource };

export type HostEntry =
  | { kind: "file"; path: string; mode: number; contents: Contents; secret?: boolean }
  /** Appended to whatever is there (or created): the user's own update.conf keeps its GROUP/SERVER. */
  | { kind: "append"; path: string; mode: number; text: string }
  | { kind: "link"; path: string; target: string }
  | { kind: "unit"; name: string; contents?: string; enabled?: boolean; mask?: boolean; dropins?: Array<{ name: string; contents: string }> };

export type Payload =
  | { kind: "binary"; source: RemoteSource & { sha512: string } }
  | { kind: "sysext"; source: RemoteSource & { sha512: string }; version: string; arch: SysextArch; updateUrl?: string };

export interface InstallSpec {
  payload: Payload;
  /** The sluice configuration file's text (already validated by the caller). */
  config: string;
  kubeconfig: Contents;
  /** Where the configuration says the kubeconfig is (its `kubeconfig` key). */
  kubeconfigPath: string;
  /** The kubelet's shutdownGracePeriod; the logind drop-in covers it. */
  shutdownGracePeriodSec: number;
}

const HEX512 = /^[0-9a-f]{128}$/;



function checkRemote(what: string, r: RemoteSource, needHash: boolean): void {
  let url: URL;
  try {
    url = new URL(r.url);
  } catch {
    throw new RenderError(`${what}: ${JSON.stringify(r.url)} is not a URL`);
  }
  // The schemes Ignition 3.3 fetches; the kOps script uses curl, which knows them too (except s3/gs/arn).
  if (!["http:", "https:", "tftp:", "s3:", "gs:"].includes(url.protocol)) throw new RenderError(`${what}: ${r.url} must be an http, https, tftp, s3 or gs URL`);
  if (needHash && !r.sha512) throw new RenderError(`${what}: a sha512 is required, so the host verifies what it runs as root`);
  if (r.sha512 !== undefined && !HEX512.test(r.sha512)) throw new RenderError(`${what}: sha512 must be 128 lowercase hex digits, not ${JSON.stringify(r.sha512)}`);
}

function checkPath(what: string, p: string): void {
  if (!p.startsWith("/") || p.includes("\0") || p.split("/").includes("..") || /[\s'"\\$`]/.test(p)) throw new RenderError(`${what}: ${JSON.stringify(p)} must be an absolute path without spaces, quotes or ..`);
}

/** Every file, link and unit a host gets, in a stable order. */
export function hostEntries(spec: InstallSpec): HostEntry[] {
  const p = spec.payload;
  checkRemote(p.kind === "binary" ? "binary" : "sysext image", p.source, true);
  if ("remote" in spec.kubeconfig) checkRemote("kubeconfig", spec.kubeconfig.remote, false);
  else if (spec.kubeconfig.inline.trim() === "") throw new RenderError("kubeconfig: the file is empty");
  checkPath("kubeconfig path", spec.kubeconfigPath);

  const entries: HostEntry[] = [];
  if (p.kind === "binary") {
    entries.push({ kind: "file", path: BINARY_PATH, mode: 0o755, contents: { remote: p.source } });
  } else {
    if (p.source.gzip) throw new RenderError("sysext image: a sysext image is a squashfs, already compressed; gzip is not supported");
    const image = `${SYSEXT_DIR}/${sysextImageName(p.version, p.arch)}`;
    entries.push({ kind: "file", path: image, mode: 0o644, contents: { remote: p.source } });
    entries.push({ kind: "link", path: SYSEXT_LINK, target: image });
  }
  // 0600: the configuration may carry a notifyUrl with a webhook token.
  entries.push({ kind: "file", path: CONFIG_PATH, mode: 0o600, contents: { inline: spec.config }, secret: true });
  entries.push({ kind: "file", path: spec.kubeconfigPath, mode: 0o600, contents: spec.kubeconfig, secret: true });
  entries.push({ kind: "append", path: UPDATE_CONF_PATH, mode: 0o644, text: "REBOOT_STRATEGY=off\n" });
  entries.push({ kind: "file", path: LOGIND_DROPIN_PATH, mode: 0o644, contents: { inline: renderLogindDropin(spec.shutdownGracePeriodSec) } });
  if (p.kind === "sysext" && p.updateUrl !== undefined) {
    checkRemote("sysext update URL", { url: p.updateUrl }, false);
    entries.push({ kind: "file", path: sysupdateTransferPath(), mode: 0o644, contents: { inline: sysupdateTransfer(p.updateUrl, p.arch) } });
    entries.push({ kind: "file", path: SYSUPDATE_NOOP_PATH, mode: 0o644, contents: { inline: noopTransfer() } });
  }
  // The sysext image carries the unit and starts it itself; the plain binary needs it written.
  if (p.kind === "binary") entries.push({ kind: "unit", name: UNIT_NAME, contents: renderUnit({ execPath: BINARY_PATH }), enabled: true });
  // locksmithd reboots on its own schedule (REBOOT_STRATEGY); two rebooters would fight.
  entries.push({ kind: "unit", name: "locksmithd.service", mask: true });
  if (p.kind === "sysext" && p.updateUrl !== undefined) {
    entries.push({ kind: "unit", name: "systemd-sysupdate.timer", enabled: true });
    entries.push({ kind: "unit", name: "systemd-sysupdate.service", dropins: [SYSUPDATE_DROPIN] });
  }
  return entries;
}
