/**
 * Go's time.ParseDuration syntax, which kured's flags and Helm values use: "300ms", "5m",
 * "1h30m", "1.5h", "-1s", "0". Written by hand because no maintained npm package parses exactly
 * Go's grammar (a sign, then one or more decimal numbers each with a unit, no spaces).
 */
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's durations are int64 nanoseconds: anything longer (about 2562047h) is refused, as Go does. */
export const GO_MAX_DURATION_MS = 9_223_372_036_854.775;

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Milliseconds, or null if `text` is not a Go duration. */
export function parseGoDuration(text: string): number | null {
  let s = text.trim();
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") return null;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const start = PART.lastIndex;
    const m = PART.exec(s);
    if (!m || m.index !== start) return null;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  if (!(total <= GO_MAX_DURATION_MS)) return null;
  return sign * Math.round(total * 1000) / 1000;
}

/** The shortest Go-style rendering of a whole number of milliseconds: 5400000 → "1h30m". */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return "0s";
  const sign = ms < 0 ? "-" : "";
  let rest = Math.abs(ms);
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = rest / 1000;
  let out = "";
  if (h) out += `${h}h`;
  if (m) out += `${m}m`;
  if (s) out += Number.isInteger(s) ? `${s}s` : s < 1 && !h && !m ? `${rest}ms` : `${s}s`;
  return sign + (out || "0s");
}
