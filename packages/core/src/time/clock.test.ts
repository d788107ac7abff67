import FakeTimers from "@sinonjs/fake-timers";
import { afterEach, describe, expect, it } from "vitest";
import { TestClock } from "../testing/test-clock.js";
import { type Clock, clockSchema, MAX_TIMER_MS, overflowSafe, sleep, systemClock } from "./clock.js";

const THIRTY_DAYS = 30 * 86_400_000;

/** A clock of your own on bare fake-timers, which, like Node, fires a timer above the limit after 1 ms. */
function nodeLikeClock(): { raw: FakeTimers.Clock; own: Clock } {
  const raw = FakeTimers.createClock(0) as FakeTimers.Clock;
  const own: Clock = {
    now: () => raw.now,
    setTimeout: (fn, ms) => raw.setTimeout(fn, ms),
    clearTimeout: (h) => raw.clearTimeout(h as FakeTimers.TimerId),
  };
  return { raw, own };
}

describe("timers longer than setTimeout's limit (2^31-1 ms)", () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  afterEach(() => {
    process.off("warning", onWarning);
    warnings.length = 0;
  });

  it("TestClock fires a 30-day timer after 30 days, not at once", async () => {
    const clock = new TestClock();
    let fired = 0;
    clock.setTimeout(() => fired++, THIRTY_DAYS);
    await clock.advance(1000);
    expect(fired).toBe(0);
    await clock.advance(THIRTY_DAYS - 1001);
    expect(fired).toBe(0);
    await clock.advance(1);
    expect(fired).toBe(1);
  });

  it("clears a chained timer between its links", async () => {
    const clock = new TestClock();
    let fired = 0;
    const handle = clock.setTimeout(() => fired++, MAX_TIMER_MS * 2 + 5);
    await clock.advance(MAX_TIMER_MS + 10);
    clock.clearTimeout(handle);
    await clock.advance(MAX_TIMER_MS * 2);
    expect(fired).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it("makes a clock of your own overflow-safe, and parses every clock option to that form", async () => {
    const { raw, own } = nodeLikeClock();
    const safe = clockSchema.parse(own);
    expect(safe).toBe(overflowSafe(own));
    let fired = 0;
    safe.setTimeout(() => fired++, THIRTY_DAYS);
    raw.tick(10);
    expect(fired).toBe(0);
    raw.tick(THIRTY_DAYS - 10);
    expect(fired).toBe(1);
    const test = new TestClock();
    expect(overflowSafe(test)).toBe(test);
    expect(overflowSafe(systemClock)).toBe(systemClock);
  });

  it("the system clock neither fires a 30-day timer at once nor warns", async () => {
    process.on("warning", onWarning);
    let fired = 0;
    const handle = systemClock.setTimeout(() => fired++, THIRTY_DAYS);
    await new Promise((resolve) => setTimeout(resolve, 30));
    systemClock.clearTimeout(handle);
    expect(fired).toBe(0);
    expect(warnings.map((w) => w.name)).not.toContain("TimeoutOverflowWarning");
  });

  it("sleeps longer than the limit on any clock", async () => {
    const { raw, own } = nodeLikeClock();
    let woke = false;
    void sleep(own, THIRTY_DAYS).then(() => {
      woke = true;
    });
    await raw.tickAsync(1000);
    expect(woke).toBe(false);
    await raw.tickAsync(THIRTY_DAYS);
    expect(woke).toBe(true);
  });
});
