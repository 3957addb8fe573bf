/**
 * What logind will allow the kubelet's shutdown inhibitor: the effective InhibitDelayMaxSec from
 * logind.conf and its drop-ins, compared with the grace the kubelet wants. Pure: the caller reads
 * the files (/etc/systemd/logind.conf, then the drop-ins of logind.conf.d in lexical order, as
 * systemd does) and hands their texts in.
 */

export interface ConfText {
  /** Where the text came from, for the message. */
  name: string;
  text: string;
}

export interface InhibitDelayCheck {
  /** The value logind uses, in milliseconds (Infinity for "infinity"). */
  effectiveMs: number;
  /** The file that set it, or "logind's default". */
  from: string;
  /** Set when effectiveMs is shorter than the grace: the kubelet's pods would be cut short. */
  warning?: string;
}

/** logind's built-in default. */
export const DEFAULT_INHIBIT_DELAY_MS = 5000;

const UNITS_MS: Record<string, number> = {
  us: 0.001, usec: 0.001, "µs": 0.001,
  ms: 1, msec: 1,
  s: 1000, sec: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
  M: 2_629_800_000, month: 2_629_800_000, months: 2_629_800_000,
  y: 31_557_600_000, year: 31_557_600_000, years: 31_557_600_000,
};

/**
 * A systemd time span ("90", "1min 30s", "2h", "infinity"); a bare number is seconds, as for
 * every *Sec= setting. Returns undefined for text systemd would reject (logind then keeps the
 * previous value, so do we).
 */
export function parseTimeSpanMs(raw: string): number | undefined {
  const s = raw.trim();
  if (s === "infinity") return Infinity;
  if (s === "") return undefined;
  let total = 0;
  const re = /\s*(\d+(?:\.\d+)?)\s*([A-Za-zµ]*)/y;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return undefined;
    const unit = m[2] === "" ? "s" : m[2]!;
    const factor = UNITS_MS[unit];
    if (factor === undefined) return undefined;
    total += Number(m[1]) * factor;
    pos = re.lastIndex;
    while (s[pos] === " " || s[pos] === "\t") pos++;
  }
  return total;
}

function inhibitDelayIn(text: string): string | undefined {
  let section = "";
  let value: string | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    if (line.startsWith("[") && line.endsWith("]")) {
      section = line.slice(1, -1).trim();
      continue;
    }
    const eq = line.indexOf("=");
    if (section !== "Login" || eq < 0) continue;
    if (line.slice(0, eq).trim() === "InhibitDelayMaxSec") value = line.slice(eq + 1).trim();
  }
  return value;
}

function show(ms: number): string {
  return ms === Infinity ? "infinity" : `${ms / 1000}s`;
}

/** The last valid assignment wins, file after file, as logind reads them. */
export function checkInhibitDelay(files: readonly ConfText[], graceMs: number): InhibitDelayCheck {
  let effectiveMs = DEFAULT_INHIBIT_DELAY_MS;
  let from = "logind's default";
  for (const f of files) {
    const raw = inhibitDelayIn(f.text);
    if (raw === undefined) continue;
    const ms = parseTimeSpanMs(raw);
    if (ms === undefined) continue;
    effectiveMs = ms;
    from = f.name;
  }
  const result: InhibitDelayCheck = { effectiveMs, from };
  if (graceMs > 0 && effectiveMs < graceMs) {
    result.warning =
      `logind's InhibitDelayMaxSec is ${show(effectiveMs)} (${from}), shorter than the kubelet's shutdown grace of ${show(graceMs)}: ` +
      `a reboot cuts the graceful node shutdown short. Raise it with a drop-in in /etc/systemd/logind.conf.d/ (sluice render writes one).`;
  }
  return result;
}
