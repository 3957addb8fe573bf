/**
 * The model as an Ignition config, spec 3.3.0: what Butane `variant: flatcar` `version: 1.0.0`
 * produces, and the newest spec both Flatcar stable and Debian's Ignition 2.14 accept.
 */
import { toDataUrl } from "./data-url";
import type { Contents, HostEntry, RemoteSource } from "./model";

export const IGNITION_VERSION = "3.3.0";

type Json = Record<string, unknown>;

function resource(r: RemoteSource): Json {
  const out: Json = { source: r.url };
  if (r.gzip) out.compression = "gzip";
  if (r.sha512) out.verification = { hash: `sha512-${r.sha512}` };
  return out;
}

function contents(c: Contents): Json {
  return "inline" in c ? { source: toDataUrl(c.inline) } : resource(c.remote);
}

export function renderIgnition(entries: readonly HostEntry[]): Json {
  const files: Json[] = [];
  const links: Json[] = [];
  const units: Json[] = [];
  for (const e of entries) {
    switch (e.kind) {
      case "file":
        // overwrite: a re-provisioned disk, or an image that already ships the file, must not fail the boot.
        files.push({ path: e.path, mode: e.mode, overwrite: true, contents: contents(e.contents) });
        break;
      case "append":
        files.push({ path: e.path, mode: e.mode, append: [{ source: toDataUrl(e.text) }] });
        break;
      case "link":
        links.push({ path: e.path, target: e.target, hard: false, overwrite: true });
        break;
      case "unit": {
        const u: Json = { name: e.name };
        if (e.enabled !== undefined) u.enabled = e.enabled;
        if (e.mask) u.mask = true;
        if (e.contents !== undefined) u.contents = e.contents;
        if (e.dropins) u.dropins = e.dropins.map((d) => ({ name: d.name, contents: d.contents }));
        units.push(u);
        break;
      }
    }
  }
  const storage: Json = { files };
  if (links.length) storage.links = links;
  return { ignition: { version: IGNITION_VERSION }, storage, systemd: { units } };
}

/** The config as written to a file: stable key order, two-space indent, final newline. */
export function ignitionText(entries: readonly HostEntry[]): string {
  return `${JSON.stringify(renderIgnition(entries), null, 2)}\n`;
}

/** A Butane fragment that merges a hosted copy of the Ignition config into the user's own. */
export function mergeFragment(ignitionUrl: string, ignitionSha512: string): string {
  return `# Merge sluice into your own Butane config (variant: flatcar, version: 1.0.0):
ignition:
  config:
    merge:
      - source: ${JSON.stringify(ignitionUrl)}
        verification:
          hash: sha512-${ignitionSha512}
`;
}
