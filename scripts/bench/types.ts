/** One measured figure, as printed in the table and written to bench.json. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The same figure for the reference (bare Node, kured's behaviour, the ideal…); null if none. */
  baseline: number | null;
  /** value / baseline; null without a baseline. */
  ratio: number | null;
  /** Human-readable goal, e.g. "ratio <= 1.6" or "< 50 ms"; null if none. */
  goal: string | null;
  pass: boolean | null;
}

/** A bench module: `scripts/bench/<prefix>.bench.ts` default-exports one of these. */
export interface BenchSuite {
  /** Every figure's name starts with `${prefix}.`. */
  prefix: string;
  /** Optional finer selection: the runner passes the --only prefix so a suite can skip work. */
  run(only?: string): Promise<Figure[]>;
  /**
   * Every figure comes out the same however busy the cores are: simulated time, counts, memory of
   * a process of its own after a GC. The runner runs these suites last, beside the background work,
   * and everything timed before it starts.
   */
  steady?: boolean;
  /** Work (in worker threads) that the runner starts once only steady suites remain, and awaits at the end. */
  background?(only?: string): Promise<Figure[]>;
}

/** A figure with a baseline and an upper-bound goal on the ratio or the value. */
export function figure(
  name: string,
  value: number,
  unit: string,
  opts: { baseline?: number | null; maxRatio?: number; maxValue?: number; minValue?: number; goal?: string } = {},
): Figure {
  const baseline = opts.baseline ?? null;
  const ratio = baseline ? round(value / baseline, 3) : null;
  let pass: boolean | null = null;
  let goal = opts.goal ?? null;
  if (opts.maxRatio !== undefined && ratio !== null) {
    pass = ratio <= opts.maxRatio;
    goal ??= `ratio <= ${opts.maxRatio}`;
  }
  if (opts.maxValue !== undefined) {
    pass = (pass ?? true) && value <= opts.maxValue;
    goal ??= `<= ${opts.maxValue} ${unit}`;
  }
  if (opts.minValue !== undefined) {
    pass = (pass ?? true) && value >= opts.minValue;
    goal ??= `>= ${opts.minValue} ${unit}`;
  }
  return { name, value: round(value, 3), unit, baseline: baseline === null ? null : round(baseline, 3), ratio, goal, pass };
}

export function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Median and 95th percentile (nearest rank) of a sample. */
export function percentiles(sample: number[]): { p50: number; p95: number } {
  const s = [...sample].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
  return { p50: at(0.5), p95: at(0.95) };
}
