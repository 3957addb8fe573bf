/**
 * Inhibitors (DESIGN.md "Around the machine"): things that hold a node back from taking a slot,
 * set by people and jobs rather than by sluice — the Node annotation `sluice.dev/inhibit` (anyone
 * with `kubectl annotate`) and any file in a host-local inhibit directory (a backup job does
 * `touch /run/sluice/inhibit/backup` and removes the file when done; its first line is the reason).
 */
import { join } from "node:path";
import type { Fs } from "../ports";

export const INHIBIT_ANNOTATION = "sluice.dev/inhibit";
/** A reason is one line for a person: longer text and control characters are not shown. */
const MAX_REASON = 200;
/** A directory with more files than this is reported as such rather than read file by file. */
const MAX_FILES = 64;

export interface Inhibitor {
  /** "annotation" or "file:/run/sluice/inhibit/backup". */
  source: string;
  reason: string;
}

export function cleanReason(text: string): string {
  const line = text.split(/\r?\n/, 1)[0] ?? "";
  // eslint-disable-next-line no-control-regex
  const clean = line.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ").trim();
  return clean.length > MAX_REASON ? `${clean.slice(0, MAX_REASON - 1)}…` : clean;
}

/** The Node annotation's inhibitor, if the annotation is there (an empty value still inhibits). */
export function annotationInhibitor(annotations: Record<string, string> | undefined): Inhibitor | undefined {
  const v = annotations?.[INHIBIT_ANNOTATION];
  if (v === undefined) return undefined;
  return { source: "annotation", reason: cleanReason(v) || `${INHIBIT_ANNOTATION} is set` };
}

/**
 * Every file in the inhibit directories. A directory that cannot be read inhibits too: a gate
 * that cannot be evaluated blocks, and says why.
 */
export async function fileInhibitors(fs: Fs, dirs: readonly string[]): Promise<Inhibitor[]> {
  const out: Inhibitor[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      const kind = await fs.kind(dir);
      if (kind === "missing") continue;
      if (kind !== "directory") {
        out.push({ source: `file:${dir}`, reason: `inhibit path ${dir} is not a directory` });
        continue;
      }
      names = (await fs.list(dir)).filter((n) => !n.startsWith(".")).sort();
    } catch (err) {
      out.push({ source: `file:${dir}`, reason: `cannot read inhibit directory ${dir}: ${(err as Error).message}` });
      continue;
    }
    if (names.length > MAX_FILES) {
      out.push({ source: `file:${dir}`, reason: `${names.length} inhibit files in ${dir}` });
      continue;
    }
    for (const name of names) {
      const path = join(dir, name);
      let reason = "";
      // Only a regular file is read: a FIFO would block, and its presence is the signal anyway.
      if ((await fs.kind(path)) === "file") reason = cleanReason(await fs.readFile(path).catch(() => ""));
      out.push({ source: `file:${path}`, reason: reason || `inhibit file ${path} exists` });
    }
  }
  return out;
}

/** A stable key of a set of inhibitors: log and Event only when it changes, not every period. */
export function inhibitorsKey(list: readonly Inhibitor[]): string {
  return list.map((i) => `${i.source}\u0000${i.reason}`).join("\u0001");
}
