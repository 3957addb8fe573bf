/** A real clock sped up `factor` times, for `sluice demo`: grace periods and reboots pass quickly. */
import { type Clock, systemClock } from "../ports/clock";

export function scaledClock(factor: number, base: Clock = systemClock): Clock {
  const wall0 = base.now();
  const mono0 = base.monotonic();
  return {
    now: () => wall0 + (base.monotonic() - mono0) * factor,
    monotonic: () => (base.monotonic() - mono0) * factor,
    sleep: (ms, signal) => base.sleep(ms / factor, signal),
  };
}
