/**
 * A clock that moves only when told to. `advance(ms)` wakes every sleeper whose time has come,
 * in order (the same instant: in the order they slept), letting promise chains settle between
 * wake-ups, so code under test observes the same ordering it would on a real clock without any
 * real waiting. Sleepers are kept in a heap (a thousand agents' timers in the fleet simulator),
 * and `nextDue()` lets a driver jump straight to the next thing that will happen.
 */
import type { Clock } from "./clock";

interface Sleeper {
  due: number;
  seq: number;
  resolve: () => void;
  cancelled: boolean;
}

export class FakeClock implements Clock {
  private wall: number;
  private mono = 0;
  private seq = 0;
  private readonly heap: Sleeper[] = [];
  private live = 0;

  constructor(startWallMs: number = Date.UTC(2026, 0, 5, 9, 0, 0)) {
    this.wall = startWallMs;
  }

  now(): number {
    return this.wall;
  }

  monotonic(): number {
    return this.mono;
  }

  /** Moves the wall clock only, as NTP or an operator would. */
  setWall(ms: number): void {
    this.wall = ms;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        if (s.cancelled) return;
        s.cancelled = true;
        this.live -= 1;
        reject(signal?.reason);
      };
      const s: Sleeper = {
        // Infinity never wakes (as a real timer that is never due); NaN is now.
        due: this.mono + (Number.isNaN(ms) ? 0 : Math.max(0, ms)),
        seq: this.seq++,
        cancelled: false,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.push(s);
      this.live += 1;
    });
  }

  /** Sleeps not yet woken or cancelled. */
  get pending(): number {
    return this.live;
  }

  /** Monotonic time of the earliest sleeper, or undefined when nothing sleeps. */
  nextDue(): number | undefined {
    this.dropCancelled();
    return this.heap[0]?.due;
  }

  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.mono + Math.max(0, ms));
  }

  /** Wakes every sleeper due by `target` in order (same instant: in the order they slept). */
  async advanceTo(target: number): Promise<void> {
    for (;;) {
      await settle();
      this.dropCancelled();
      const next = this.heap[0];
      if (!next || next.due > target) break;
      this.pop();
      this.live -= 1;
      this.wall += next.due - this.mono;
      this.mono = next.due;
      next.resolve();
    }
    if (target > this.mono) {
      this.wall += target - this.mono;
      this.mono = target;
    }
    await settle();
  }

  private dropCancelled(): void {
    while (this.heap[0]?.cancelled) this.pop();
  }

  private less(a: Sleeper, b: Sleeper): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  private push(s: Sleeper): void {
    const h = this.heap;
    h.push(s);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Sleeper | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** Lets promise chains run, then one turn of the event loop (loopback I/O callbacks). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise<void>((r) => setImmediate(r));
}
