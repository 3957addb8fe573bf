/**
 * What a killed process leaves behind. An agent on a simulated host gets its ports through these
 * wrappers: once the host's `dead` signal fires (SIGKILL, or the host going down), every call
 * hangs forever and every watch it opened stops — nothing of that process runs again, and
 * nothing it started can land later, exactly as with a process that no longer exists.
 */
import type { Clock } from "../../ports";

const hang = () => new Promise<never>(() => {});

export function severed<T extends object>(target: T, dead: AbortSignal): T {
  return new Proxy(target, {
    get(t, p, r) {
      const v = Reflect.get(t, p, r) as unknown;
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        if (dead.aborted) return hang();
        const out = (v as (...a: unknown[]) => unknown).apply(t, args);
        if (!(out instanceof Promise)) return out;
        return out.then(
          (value: unknown) => {
            const w = value as { stop?: () => void; done?: Promise<void> } | undefined;
            if (w && typeof w.stop === "function" && w.done instanceof Promise) {
              if (dead.aborted) w.stop();
              else dead.addEventListener("abort", () => w.stop!(), { once: true });
            }
            return dead.aborted ? hang() : value;
          },
          (err: unknown) => (dead.aborted ? hang() : Promise.reject(err)),
        );
      };
    },
  });
}

/** Calls `onWrite` after each successful mutating call (create, replace, patch, delete, evict). */
export function counted<T extends object>(target: T, onWrite: () => void): T {
  return new Proxy(target, {
    get(t, p, r) {
      const v = Reflect.get(t, p, r) as unknown;
      if (typeof v !== "function" || !/^(create|replace|patch|delete|evict)/.test(String(p))) return v;
      return async (...args: unknown[]) => {
        const out = await (v as (...a: unknown[]) => Promise<unknown>).apply(t, args);
        onWrite();
        return out;
      };
    },
  });
}

export function severedClock(clock: Clock, dead: AbortSignal): Clock {
  return {
    now: () => clock.now(),
    monotonic: () => clock.monotonic(),
    sleep: (ms, signal) => (dead.aborted ? hang() : clock.sleep(ms, signal).then((v) => (dead.aborted ? hang() : v))),
  };
}
