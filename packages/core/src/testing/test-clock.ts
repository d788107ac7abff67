/**
 * A deterministic clock for tests, built on @sinonjs/fake-timers without touching globals:
 * time moves only when the test says so, timers fire in order, and promises settle between them.
 */

import FakeTimers from "@sinonjs/fake-timers";
import { type Clock, chainedTimers, markOverflowSafe, type TimerHandle } from "../time/clock.js";
import { type InstantInput, toInstant } from "../validation.js";

/**
 * An injectable {@link Clock} whose time only moves when told to. Like the system clock it takes
 * any delay (fake-timers, like Node, would fire a timer above 2^31-1 ms at once).
 */
export class TestClock implements Clock {
  private readonly fake: FakeTimers.Clock;
  private readonly timers: Pick<Clock, "setTimeout" | "clearTimeout">;

  /** Starts at `start` (default 2026-01-05T14:30:00Z, a Monday during NYSE hours). */
  constructor(start: InstantInput = "2026-01-05T14:30:00Z") {
    this.fake = FakeTimers.createClock(toInstant(start, "start", "TestClock"), 1_000_000) as FakeTimers.Clock;
    this.timers = chainedTimers(
      (fn, ms) => this.fake.setTimeout(fn, ms),
      (handle) => this.fake.clearTimeout(handle as FakeTimers.TimerId),
    );
    markOverflowSafe(this);
  }

  now(): number {
    return this.fake.now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.timers.setTimeout(fn, ms);
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.clearTimeout(handle);
  }

  /** Moves time forward by `ms`, firing due timers in order and letting promises settle between them. */
  async advance(ms: number): Promise<void> {
    await this.fake.tickAsync(ms);
  }

  /** Moves time forward to `instant` (no-op if it is in the past). */
  async advanceTo(instant: InstantInput): Promise<void> {
    const target = toInstant(instant, "instant", "TestClock");
    if (target > this.fake.now) await this.fake.tickAsync(target - this.fake.now);
  }

  /** Lets pending promises settle without moving time. */
  async flush(): Promise<void> {
    await this.fake.tickAsync(0);
  }

  /**
   * Sets the wall clock without firing timers, as when NTP or a person changes the system time:
   * timers keep their remaining delay. Use it to simulate the clock jumping forward or backward.
   */
  jump(to: InstantInput): void {
    this.fake.setSystemTime(toInstant(to, "to", "TestClock"));
  }

  /** Runs the next due timer, moving time to it. */
  async next(): Promise<void> {
    await this.fake.nextAsync();
  }

  /** Number of timers pending. */
  get pendingTimers(): number {
    return this.fake.countTimers();
  }
}
