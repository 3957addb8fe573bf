/**
 * systemClock.sleep past what a Node timer holds: a huge drainTimeout used to "time out" after
 * 1 ms (Node clamps a longer timer to 1 ms), and with forceReboot reboot an undrained node.
 * Timers and process.hrtime are faked here: no real waiting.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_TIMER_MS, nextTimerMs, systemClock } from "../../agent/ports/clock";

afterEach(() => {
  vi.useRealTimers();
});

describe("systemClock.sleep", () => {
  it.each([
    [MAX_TIMER_MS + 1],
    [30 * 86_400_000],
    [400 * 86_400_000],
  ])("waits the whole %d ms, in timer-sized steps", async (ms) => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "hrtime"] });
    let done = false;
    void systemClock.sleep(ms).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(ms - 2);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
  });

  it("rejects with the signal's reason when aborted mid-way", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "hrtime"] });
    const ac = new AbortController();
    const p = systemClock.sleep(3 * MAX_TIMER_MS, ac.signal);
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS + 5);
    ac.abort(new Error("stop"));
    await expect(p).rejects.toThrow("stop");
  });

  it("never sets a timer longer than one holds", () => {
    expect(nextTimerMs(10 * MAX_TIMER_MS, 0)).toBe(MAX_TIMER_MS);
    expect(nextTimerMs(5, 10)).toBe(0);
    expect(nextTimerMs(100, 40)).toBe(60);
  });
});
