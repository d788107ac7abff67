import { describe, expect, it } from "vitest";
import { seededRandom } from "./index.js";

describe("seededRandom", () => {
  it("repeats mulberry32's sequence for a seed, in [0, 1)", () => {
    const a = seededRandom(20260105);
    const b = seededRandom(20260105);
    const first = Array.from({ length: 1_000 }, () => a());
    expect(Array.from({ length: 1_000 }, () => b())).toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
    // mulberry32's outputs, pinned: the fault matrices' intents depend on this exact sequence.
    expect(seededRandom(0)()).toBe(0.26642920868471265);
    expect(first.slice(0, 2)).toEqual([0.49561649770475924, 0.19239253317937255]);
  });

  it("gives different sequences for different seeds, spread evenly", () => {
    const a = seededRandom(1);
    const b = seededRandom(2);
    const xs = Array.from({ length: 10_000 }, () => a());
    expect(xs.slice(0, 5)).not.toEqual(Array.from({ length: 5 }, () => b()));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
  });

  it("rejects a seed that is not a safe integer, naming it", () => {
    expect(() => seededRandom(1.5)).toThrow(/seed/);
    expect(() => seededRandom(Number.NaN)).toThrow(/seed/);
  });
});
