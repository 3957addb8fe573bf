/**
 * `--window "Sat 02:00-06:00"`: days, a start and an end (or a length), and an optional zone —
 * the same window sluice's `windows:` key describes, on one line for the demo's command line.
 */
import { Invalid, timeOfDay, timeZone, weekday } from "../../config/values";
import type { WindowSpec } from "../../window";

export const WINDOW_ARG_HELP = 'DAYS START-END [ZONE], e.g. "Sat 02:00-06:00", "mon-fri 22:00-04:00 Europe/Berlin", "sun 1am+3h"';

function days(text: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const range = part.split("-");
    if (range.length > 2 || !part) throw new Invalid(`days: ${JSON.stringify(part)}`);
    const from = weekday(range[0]);
    const to = range.length === 2 ? weekday(range[1]) : from;
    for (let d = from; ; d = (d + 1) % 7) {
      out.add(d);
      if (d === to) break;
    }
  }
  return [...out].sort((a, b) => a - b);
}

/** Parses one window; throws an Error naming what is wrong and what is allowed. */
export function parseWindowArg(raw: string): WindowSpec {
  const words = raw.trim().split(/\s+/);
  if (words.length < 2 || words.length > 3 || !words[0]) throw new Error(`window ${JSON.stringify(raw)}: expected ${WINDOW_ARG_HELP}`);
  try {
    const spec: WindowSpec = { days: days(words[0].toLowerCase()), startSec: 0, timeZone: words[2] ? timeZone(words[2]) : "UTC" };
    const plus = /^([^+]+)\+(\d+)h$/.exec(words[1]!);
    if (plus) {
      spec.startSec = timeOfDay(plus[1]);
      spec.lengthSec = Number(plus[2]) * 3600;
      if (spec.lengthSec <= 0 || spec.lengthSec > 7 * 86_400) throw new Invalid("a length of 1h to 168h");
    } else {
      const [start, end, extra] = words[1]!.split("-");
      if (!start || !end || extra !== undefined) throw new Invalid("START-END or START+LENGTHh");
      spec.startSec = timeOfDay(start);
      spec.endSec = timeOfDay(end);
      if (spec.endSec === spec.startSec) throw new Invalid("an end different from the start");
    }
    return spec;
  } catch (e) {
    throw new Error(`window ${JSON.stringify(raw)}: ${(e as Error).message}; expected ${WINDOW_ARG_HELP}`);
  }
}
