import { Logger } from "../../agent/log";
import type { RebootNeed, RebootSignals } from "../../agent/signals";
import { Capture } from "../helpers/tmp";

/** A logger whose lines the test can read (JSON, debug level). */
export function captureLogger(): { log: Logger; out: Capture; records: () => Array<Record<string, unknown>> } {
  const out = new Capture();
  const log = new Logger({ sink: out, format: "json", level: "debug" });
  return { log, out, records: () => out.lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** Resolves with the first need (current or coming) that satisfies `ok`; rejects after `ms` of real time. */
export function waitForNeed(signals: RebootSignals, ok: (n: RebootNeed) => boolean, ms = 5000): Promise<RebootNeed> {
  return new Promise((resolve, reject) => {
    if (ok(signals.current())) return resolve(signals.current());
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${ms} ms; last need: ${JSON.stringify(signals.current())}`));
    }, ms);
    const off = signals.onChange((n) => {
      if (!ok(n)) return;
      clearTimeout(timer);
      off();
      resolve(n);
    });
  });
}

/** Resolves when `cond()` holds; polls (test-side only) every 10 ms. */
export async function eventually(cond: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const needed = (n: RebootNeed) => n.needed;
export const notNeeded = (n: RebootNeed) => !n.needed;
