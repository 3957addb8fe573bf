/**
 * The fake-time driver the lock suites rely on: it must move time exactly as far as asked, wake
 * timers in order, wait for requests in flight, and fail loudly rather than hang or pass.
 */
import { describe, expect, it } from "vitest";
import { SimClock, elapse, play, playUntil, quiet, trackRequests, until } from "../helpers/sim";

describe("SimClock and play", () => {
  it("knows its next timer, forgets aborted and woken ones", async () => {
    const clock = new SimClock();
    expect(clock.nextDueIn()).toBeUndefined();
    const stop = new AbortController();
    void clock.sleep(500, stop.signal).catch(() => {});
    void clock.sleep(2_000);
    expect(clock.nextDueIn()).toBe(500);
    stop.abort();
    await quiet();
    expect(clock.nextDueIn()).toBe(2_000);
    await elapse(clock, 2_000);
    expect(clock.nextDueIn()).toBeUndefined();
    expect(clock.monotonic()).toBe(2_000);
  });

  it("elapse wakes timers one due time at a time and stops exactly at the target", async () => {
    const clock = new SimClock();
    const woke: number[] = [];
    // Each wake-up schedules the next, as a retry loop does: all must run within the span.
    const loop = async () => {
      for (let i = 0; i < 5; i++) {
        await clock.sleep(300);
        woke.push(clock.monotonic());
      }
    };
    void loop();
    await elapse(clock, 1_000);
    expect(woke).toEqual([300, 600, 900]);
    expect(clock.monotonic()).toBe(1_000);
    expect(clock.nextDueIn()).toBe(200);
  });

  it("play fails with a clear message when nothing sleeps or the budget is spent, instead of hanging", async () => {
    const clock = new SimClock();
    await expect(play(clock, new Promise(() => {}))).rejects.toThrow(/nothing sleeps on the clock/);
    void clock.sleep(10_000);
    await expect(playUntil(clock, () => false, { maxMs: 5_000, what: "x" })).rejects.toThrow(/x still not reached after 5000 ms of fake time/);
    expect(clock.monotonic()).toBe(0); // the timer beyond the budget was not woken
  });

  it("does not move time while a request is in flight", async () => {
    const clock = new SimClock();
    let answer!: (v: string) => void;
    const port = { get: () => new Promise<string>((r) => (answer = r)) };
    const { kube, busy } = trackRequests(port);
    const got = kube.get();
    void clock.sleep(100);
    expect(busy()).toBe(true);
    // Evidence that the driver looked, saw the request unanswered, and held time still meanwhile.
    let looks = 0;
    const watched = () => (looks++, busy());
    const moved = elapse(clock, 100, watched);
    await until(() => looks >= 3, 5_000, "three looks");
    expect(clock.monotonic()).toBe(0);
    answer("ok");
    await moved;
    expect(await got).toBe("ok");
    expect(busy()).toBe(false);
    expect(clock.monotonic()).toBe(100);
  });
});
