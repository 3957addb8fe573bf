/** Seeded randomness (mulberry32): the same seed gives the same run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A duration drawn uniformly from [ms × (1 − jitter), ms × (1 + jitter)]. */
export function jittered(ms: number, jitter: number, random: () => number): number {
  if (jitter <= 0) return ms;
  return Math.max(0, Math.round(ms * (1 - jitter + 2 * jitter * random())));
}
