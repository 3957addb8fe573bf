import type { Clock } from "./clock";

interface Sleeper {
  due: number;
  resolve: () => void;
}

/**
 * A clock that moves only when told to. `advance(ms)` wakes every sleeper whose time has come,
 * in order, letting promise chains settle between wake-ups, so code under test observes the same
 * ordering it would on a real clock without any real waiting.
 */
export class FakeClock implements Clock {
  private wall: number;
  private mono = 0;
  private sleepers: Sleeper[] = [];

  constructor(startWallMs: number = Date.UTC(2026, 0, 5, 9, 0, 0)) {
    this.wall = startWallMs;
  }

  now(): number {
    return this.wall;
  }

  monotonic(): number {
    return this.mono;
  }

  /** Moves the wall clock only, as NTP or an operator would; monotonic time is unaffected. */
  setWall(ms: number): void {
    this.wall = ms;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const sleeper: Sleeper = {
        due: this.mono + Math.max(0, ms),
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.sleepers.push(sleeper);
    });
  }

  /** Number of pending sleeps: lets a test wait until the code under test has gone idle. */
  get pending(): number {
    return this.sleepers.length;
  }

  async advance(ms: number): Promise<void> {
    const target = this.mono + ms;
    for (;;) {
      await settle();
      const next = this.sleepers.filter((s) => s.due <= target).sort((a, b) => a.due - b.due)[0];
      if (!next) break;
      this.wall += next.due - this.mono;
      this.mono = next.due;
      this.sleepers = this.sleepers.filter((s) => s !== next);
      next.resolve();
    }
    this.wall += target - this.mono;
    this.mono = target;
    await settle();
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise<void>((r) => setImmediate(r));
}
