/**
 * The loop's one wake-up: signals, lock events, Node changes and timers all call `wake()`; the
 * loop waits on it between ticks. A wake that comes while a tick runs is kept, so nothing that
 * happened during a tick is missed.
 */
import type { Clock } from "../ports";

/** Reason for cancelling an internal timer: abort() without one builds an exception with a stack each time, on a hot path. */
const DONE = "done";

export class Latch {
  private dirty = false;
  private waiter: (() => void) | undefined;

  constructor(private readonly clock: Clock) {}

  wake(): void {
    this.dirty = true;
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Called as a tick starts: wakes from before it are consumed by the tick itself. */
  arm(): void {
    this.dirty = false;
  }

  /** Resolves on a wake (also one since arm()), after `ms`, or when `signal` aborts. Never rejects. */
  wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.dirty || signal.aborted || ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = new AbortController();
      const done = () => {
        timer.abort(DONE);
        signal.removeEventListener("abort", done);
        if (this.waiter === done) this.waiter = undefined;
        resolve();
      };
      this.waiter = done;
      signal.addEventListener("abort", done, { once: true });
      if (Number.isFinite(ms)) this.clock.sleep(ms, timer.signal).then(done, () => {});
    });
  }
}
