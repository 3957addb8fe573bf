/**
 * The model as a Butane config (`variant: flatcar`, `version: 1.0.0`, which Butane translates to
 * Ignition 3.3.0): the readable source a user edits and keeps in version control. Field for
 * field the same as renderIgnition, with inline text instead of data URLs and octal modes.
 */
import { Document, isScalar, visit } from "yaml";
import type { Contents, HostEntry, RemoteSource } from "./model";

type Obj = Record<string, unknown>;

function resource(r: RemoteSource): Obj {
  const out: Obj = { source: r.url };
  if (r.gzip) out.compression = "gzip";
  if (r.sha512) out.verification = { hash: `sha512-${r.sha512}` };
  return out;
}

function contents(c: Contents): Obj {
  return "inline" in c ? { inline: c.inline } : resource(c.remote);
}

export function butaneObject(entries: readonly HostEntry[]): Obj {
  const files: Obj[] = [];
  const links: Obj[] = [];
  const units: Obj[] = [];
  for (const e of entries) {
    if (e.kind === "file") files.push({ path: e.path, mode: e.mode, overwrite: true, contents: contents(e.contents) });
    else if (e.kind === "append") files.push({ path: e.path, mode: e.mode, append: [{ inline: e.text }] });
    else if (e.kind === "link") links.push({ path: e.path, target: e.target, hard: false, overwrite: true });
    else {
      const u: Obj = { name: e.name };
      if (e.enabled !== undefined) u.enabled = e.enabled;
      if (e.mask) u.mask = true;
      if (e.contents !== undefined) u.contents = e.contents;
      if (e.dropins) u.dropins = e.dropins.map((d) => ({ name: d.name, contents: d.contents }));
      units.push(u);
    }
  }
  const storage: Obj = { files };
  if (links.length) storage.links = links;
  return { variant: "flatcar", version: "1.0.0", storage, systemd: { units } };
}

export function renderButane(entries: readonly HostEntry[], header = ""): string {
  // YAML 1.1 so that modes print as 0644, the way Butane's documentation writes them (Butane's
  // YAML parser reads a leading 0 as octal).
  const doc = new Document(butaneObject(entries), { version: "1.1" });
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.value === "mode" && isScalar(pair.value)) pair.value.format = "OCT";
    },
  });
  return header + doc.toString({ blockQuote: "literal", lineWidth: 0 });
}
