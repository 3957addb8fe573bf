/**
 * The demo's live view: a pure rendering of what the fleet looks like now (`renderView`), and a
 * painter that redraws it in place on a terminal. Without a terminal the demo prints plain lines
 * instead (one per change), so logs and CI keep a readable record.
 */

export interface ViewModel {
  title: string;
  elapsedMs: number;
  /** Phase of every node; `done` once rebooted and idle, `broken` if it never came back. */
  phases: [string, string][];
  done: number;
  total: number;
  etaMs: number | null;
  holders: { slot: string; node: string; phase: string; forMs: number }[];
  queue: string[];
  pods: { running: number; terminating: number; starting: number; evicted: number };
  window: string | null;
  recent: string[];
}

export function clockText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const hh = h >= 100 ? String(h) : String(h).padStart(2, "0");
  return [hh, String(Math.floor((s % 3600) / 60)).padStart(2, "0"), String(s % 60).padStart(2, "0")].join(":");
}

/** One character per phase, so a thousand nodes fit on a screen. */
export const PHASE_MARK: Record<string, string> = {
  idle: "·",
  pending: "p",
  draining: "D",
  rebooting: "R",
  recovering: "r",
  releasing: "l",
  aborting: "A",
  done: "✓",
  broken: "X",
};

export function progressBar(done: number, total: number, width: number): string {
  const full = total ? Math.round((done / total) * width) : 0;
  return `[${"█".repeat(full)}${"░".repeat(width - full)}]`;
}

export function renderView(v: ViewModel, width = 80): string[] {
  const w = Math.max(40, width);
  const clip = (s: string) => (s.length > w ? `${s.slice(0, w - 1)}…` : s);
  // Simulated time first: a long title is clipped, the clock never.
  const lines = [clip(`sim ${clockText(v.elapsedMs)}  ${v.title}`)];
  const eta = v.etaMs === null ? "ETA --:--:--" : `ETA ${clockText(v.etaMs)}`;
  lines.push(clip(`${progressBar(v.done, v.total, Math.min(40, w - 32))} ${v.done}/${v.total} rebooted  ${eta}`));
  if (v.window) lines.push(clip(`window: ${v.window}`));
  const slots = v.holders.length ? v.holders.map((h) => `${h.node} ${h.phase} ${clockText(h.forMs)}`).join("  ") : "none held";
  lines.push(clip(`slots:  ${slots}`));
  const shown = v.queue.slice(0, 8).join(" ");
  lines.push(clip(`queue:  ${v.queue.length ? `${shown}${v.queue.length > 8 ? ` … (+${v.queue.length - 8})` : ""}` : "empty"}`));
  lines.push(clip(`pods:   ${v.pods.running} running · ${v.pods.terminating} terminating · ${v.pods.starting} starting · ${v.pods.evicted} evicted so far`));
  const counts = new Map<string, number>();
  for (const [, p] of v.phases) counts.set(p, (counts.get(p) ?? 0) + 1);
  lines.push(clip(`nodes:  ${Object.keys(PHASE_MARK).filter((p) => counts.get(p)).map((p) => `${PHASE_MARK[p]} ${p} ${counts.get(p)}`).join("  ")}`));
  if (v.phases.length <= 600) {
    const per = Math.max(10, Math.min(60, w - 8));
    const marks = v.phases.map(([, p]) => PHASE_MARK[p] ?? "?");
    for (let i = 0; i < marks.length; i += per) lines.push(`        ${marks.slice(i, i + per).join("")}`);
  }
  for (const r of v.recent) lines.push(clip(r));
  return lines;
}

/** Redraws the view in place: up to the first line of the last frame, then clear below. */
export class Painter {
  private drawn = 0;
  constructor(private readonly out: { write(s: string): unknown }) {}
  paint(lines: string[]): void {
    const up = this.drawn ? `\x1b[${this.drawn}F` : "";
    this.out.write(`${up}\x1b[J${lines.join("\n")}\n`);
    this.drawn = lines.length;
  }
}
