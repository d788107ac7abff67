import { TestClock } from "@tradecron/core/testing";
import { describe, expect, it } from "vitest";
import { Pacer } from "./pacer.js";

/** Grants `n` turns and returns the test-clock time of each. */
async function grants(clock: TestClock, pacer: Pacer, n: number): Promise<number[]> {
  const start = clock.now();
  const times: number[] = [];
  const all = Array.from({ length: n }, () => pacer.take().then(() => times.push(clock.now() - start)));
  while (times.length < n) await clock.advance(5);
  await Promise.all(all);
  return times;
}

describe("Pacer", () => {
  it("allows a small burst, then one message per 1/rate seconds, never more than rate + burst in a second", async () => {
    const clock = new TestClock();
    const times = await grants(clock, new Pacer(clock, 40), 100);
    expect(times.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    for (let i = 0; i + 45 < times.length; i++)
      expect((times[i + 45] as number) - (times[i] as number)).toBeGreaterThanOrEqual(1000);
    expect(times.at(-1)).toBeGreaterThanOrEqual(2_375);
  });

  it("serves callers in order", async () => {
    const clock = new TestClock();
    const pacer = new Pacer(clock, 1);
    const order: number[] = [];
    const all = [1, 2, 3].map((i) => pacer.take().then(() => order.push(i)));
    await clock.advance(3_000);
    await Promise.all(all);
    expect(order).toEqual([1, 2, 3]);
  });

  it("holds everything after a pacing violation", async () => {
    const clock = new TestClock();
    const pacer = new Pacer(clock, 40);
    pacer.backOff(1_000);
    const times = await grants(clock, pacer, 1);
    expect(times[0]).toBeGreaterThanOrEqual(1_000);
  });

  it("keeps working when the wall clock is set backwards", async () => {
    const clock = new TestClock();
    const pacer = new Pacer(clock, 10);
    await grants(clock, pacer, 3);
    clock.jump(clock.now() - 3_600_000);
    expect(await grants(clock, pacer, 2)).toHaveLength(2);
  });
});
