/** Reboot-need signals set by the simulation (what update_engine or the sentinel would say). */
import type { Clock } from "../../ports";
import type { RebootNeed } from "../../signals";

export class FakeSignals {
  private need: RebootNeed = { needed: false, reasons: [] };
  private readonly listeners = new Set<(n: RebootNeed) => void>();
  constructor(private readonly clock: Clock) {}
  current(): RebootNeed {
    return this.need;
  }
  onChange(l: (n: RebootNeed) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  /** `at`: when the need began, if not now (update_engine staged it before the agent started). */
  set(needed: boolean, newVersion?: string, at?: number): void {
    const since = needed ? (this.need.needed ? this.need.since : at ?? this.clock.now()) : undefined;
    this.need = {
      needed,
      reasons: [{ source: "sentinel-file", needed, health: "ok", detail: needed ? "/run/reboot-required exists" : "/run/reboot-required does not exist", since: this.clock.now() }],
      ...(newVersion ? { newVersion } : {}),
      ...(since !== undefined ? { since } : {}),
    };
    for (const l of this.listeners) l(this.need);
  }
}
