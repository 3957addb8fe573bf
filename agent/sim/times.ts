/**
 * The two time types of the API. metav1.Time is RFC 3339 to the second; metav1.MicroTime is parsed
 * with Go's fixed layout 2006-01-02T15:04:05.000000Z07:00, so exactly 6 fractional digits are
 * required (3, 0 or 9 answer 400), an offset is accepted and the value comes back in UTC.
 */
export const MICRO_LAYOUT = "2006-01-02T15:04:05.000000Z07:00";

const microRe = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\.(\d{6})(Z|[+-]\d{2}:\d{2})$/;
const timeRe = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Normalised MicroTime, or an error text in Go's words (close, not byte-exact). */
export function parseMicroTime(value: string): { ok: true; value: string } | { ok: false; why: string } {
  const m = microRe.exec(value);
  if (!m) return { ok: false, why: `parsing time ${JSON.stringify(value)} as "${MICRO_LAYOUT}": ${goParseComplaint(value)}` };
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return { ok: false, why: `parsing time ${JSON.stringify(value)}: month out of range` };
  return { ok: true, value: `${new Date(ms).toISOString().slice(0, 19)}.${m[2]}Z` };
}

function goParseComplaint(value: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(.*)$/.exec(value);
  if (!m) return `cannot parse ${JSON.stringify(value)} as "2006"`;
  const rest = m[2];
  const frac = /^\.(\d+)(.*)$/.exec(rest);
  if (frac && frac[1].length > 6) return `cannot parse ${JSON.stringify(frac[1].slice(6) + frac[2])} as "Z07:00"`;
  return `cannot parse ${JSON.stringify(rest)} as ".000000"`;
}

/** metav1.Time: fractions are accepted and dropped, offsets normalised to UTC. */
export function parseTime(value: string): string | undefined {
  const m = timeRe.exec(value);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  return Number.isNaN(ms) ? undefined : formatTime(ms);
}

export function formatTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

export function formatMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}
