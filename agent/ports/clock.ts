/** Time as every module sees it. Real in production, fake in tests (see FakeClock). */
export interface Clock {
  /** Wall-clock time in epoch milliseconds: for timestamps and maintenance windows only. */
  now(): number;
  /** Monotonic milliseconds since an arbitrary origin: for every duration and expiry. */
  monotonic(): number;
  /** Resolves after `ms` of this clock's time; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The longest delay a Node timer holds (2^31-1 ms, about 24.8 days). A longer one fires after
 * 1 ms with a warning, so a huge drainTimeout would "time out" at once: sleeps are chunked.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The next timer to set on the way to `dueMono`, never longer than a timer holds. */
export function nextTimerMs(dueMono: number, nowMono: number): number {
  return Math.min(MAX_TIMER_MS, Math.max(0, dueMono - nowMono));
}

/**
 * Monotonic milliseconds from process.hrtime: the `performance` global would load perf_hooks and
 * eight more built-ins on first use, ~5 ms of an agent's start (docs/development/footprint.md).
 * Its origin is the host's boot, not the process's start: nothing may read it as "time since
 * start" (process.uptime() says that). As a number it is exact to the nanosecond for 104 days of
 * uptime, and to a few nanoseconds for years after.
 */
const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: monotonicMs,
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      // Infinity and NaN would otherwise reach setTimeout as 1 ms.
      const due = Number.isFinite(ms) ? monotonicMs() + Math.max(0, ms) : Infinity;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const arm = () => {
        const now = monotonicMs();
        if (now >= due) {
          signal?.removeEventListener("abort", onAbort);
          return resolve();
        }
        timer = setTimeout(arm, nextTimerMs(due, now));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      timer = setTimeout(arm, nextTimerMs(due, monotonicMs()));
    }),
};
