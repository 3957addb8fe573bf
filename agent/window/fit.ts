/**
 * Window-fit admission (DESIGN.md "Around the machine"): a drain starts only if the window stays
 * open for at least `marginMs` — never begin what cannot finish inside the window. Pure.
 */
import { nextWindowBoundary, nextWindowOpening, type WindowSpec, windowContains } from "./window";

export type WindowFit =
  /** `closesAt`: when the open stretch ends (null: no windows, always open); `fitsUntil`: when starting stops being allowed. */
  | { fits: true; closesAt: number | null; fitsUntil: number | null }
  /** `opensAt`: when to look again (the next opening), null when no window ever opens. */
  | { fits: false; why: "closed" | "closing"; opensAt: number | null };

export function windowFit(specs: readonly WindowSpec[], at: number, marginMs: number): WindowFit {
  if (specs.length === 0) return { fits: true, closesAt: null, fitsUntil: null };
  if (!windowContains(specs, at)) return { fits: false, why: "closed", opensAt: nextWindowOpening(specs, at)?.start ?? null };
  // nextWindowBoundary takes adjoining and overlapping openings together: the end of the stretch.
  const closesAt = nextWindowBoundary(specs, at) ?? Number.POSITIVE_INFINITY;
  if (closesAt - at >= marginMs) return { fits: true, closesAt, fitsUntil: closesAt - marginMs };
  return { fits: false, why: "closing", opensAt: nextWindowOpening(specs, closesAt - 1)?.start ?? null };
}
