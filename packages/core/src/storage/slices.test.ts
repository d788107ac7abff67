import { describe, expect, it } from "vitest";
import { mapInSlices, sortInSlices, Turn } from "./slices.js";

/** A deterministic pseudo-random sequence (xorshift), so a failure reproduces. */
function randoms(n: number, seed = 7): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % 1000;
  });
}

/** Counts the event-loop turns that ran while `work` was in progress. */
async function turnsDuring(work: () => Promise<unknown>): Promise<number> {
  let turns = 0;
  let running = true;
  const tick = (): void => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  await work();
  running = false;
  return turns;
}

describe("sortInSlices", () => {
  it("sorts like Array.prototype.sort, stably, at every size around the run length", async () => {
    for (const n of [0, 1, 2, 1023, 1024, 1025, 2048, 3000, 10_000]) {
      const items = randoms(n).map((key, i) => ({ key, i }));
      const expected = [...items].sort((a, b) => a.key - b.key);
      const sorted = await sortInSlices(items, (a, b) => a.key - b.key, new Turn());
      expect(sorted).toBe(items);
      expect(sorted.map((x) => `${x.key}:${x.i}`)).toEqual(expected.map((x) => `${x.key}:${x.i}`));
    }
  });

  it("lets the event loop run while it sorts a large array", async () => {
    const items = randoms(100_000);
    const expected = [...items].sort((a, b) => a - b);
    const turns = await turnsDuring(() => sortInSlices(items, (a, b) => a - b, new Turn(0)));
    expect(turns).toBeGreaterThan(10);
    expect(items).toEqual(expected);
  });
});

describe("mapInSlices", () => {
  it("maps every element in order and yields on a large input", async () => {
    const items = randoms(50_000);
    let out: number[] = [];
    const turns = await turnsDuring(async () => {
      out = await mapInSlices(items, (x) => x * 2, new Turn(0));
    });
    expect(out).toEqual(items.map((x) => x * 2));
    expect(turns).toBeGreaterThan(10);
  });
});
