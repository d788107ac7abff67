import { describe, expect, it } from "vitest";
import { sleep } from "../time/clock.js";
import { driveClock, TestClock } from "./index.js";

describe("driveClock", () => {
  it("advances the clock until the promise settles, and returns its value", async () => {
    const clock = new TestClock();
    const start = clock.now();
    const value = await driveClock(
      clock,
      sleep(clock, 1_050).then(() => "done"),
      { stepMs: 100 },
    );
    expect(value).toBe("done");
    // Stopped at the first step past the sleep: 11 steps of 100 ms, not maxSteps.
    expect(clock.now() - start).toBe(1_100);
  });

  it("rejects with the promise's own error", async () => {
    const clock = new TestClock();
    const failing = sleep(clock, 300).then(() => {
      throw new Error("broker down");
    });
    await expect(driveClock(clock, failing)).rejects.toThrow("broker down");
  });

  it("lets real I/O progress between steps (a promise settled by a macrotask)", async () => {
    const clock = new TestClock();
    let ticks = 0;
    // Settles after five macrotask turns and 500 ms of clock time: needs both to move.
    const mixed = (async () => {
      await sleep(clock, 500);
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      ticks = 5;
      return ticks;
    })();
    await expect(driveClock(clock, mixed, { stepMs: 100, maxSteps: 100 })).resolves.toBe(5);
  });

  it("fails with a typed error when the promise does not settle within maxSteps", async () => {
    const clock = new TestClock();
    const never = new Promise<void>(() => {});
    await expect(driveClock(clock, never, { stepMs: 10, maxSteps: 20 })).rejects.toMatchObject({
      code: "RUN_TIMEOUT",
      message: expect.stringMatching(/20 steps of 10 ms/),
    });
    expect(clock.now() - new TestClock().now()).toBe(200);
  });

  it("validates its options, naming the field", async () => {
    const clock = new TestClock();
    await expect(driveClock(clock, Promise.resolve(1), { stepMs: 0 })).rejects.toMatchObject({
      field: "stepMs",
    });
    await expect(driveClock(clock, Promise.resolve(1), { maxSteps: -1 })).rejects.toMatchObject({
      field: "maxSteps",
    });
  });
});
