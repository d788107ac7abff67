import { describe, expect, it } from "vitest";
import { nextFires } from "./compile.js";
import { intervalTrigger, onceTrigger } from "./interval.js";

describe("interval trigger", () => {
  it("fires on the lattice through its anchor, in both directions of time", () => {
    const t = intervalTrigger({ every: 60_000, anchor: 30_000 });
    expect(nextFires(t, 0, 3)).toEqual([30_000, 90_000, 150_000]);
    expect(t.next(-100_000)).toBe(-90_000);
    expect(t.next(90_000)).toBe(150_000);
  });

  it("adds the same jitter for the same seed on every instance, within bounds, keeping fires ordered", () => {
    const a = intervalTrigger({ every: 1000, anchor: 0, jitter: 999, seed: "exits" });
    const b = intervalTrigger({ every: 1000, anchor: 0, jitter: 999, seed: "exits" });
    const other = intervalTrigger({ every: 1000, anchor: 0, jitter: 999, seed: "chains" });
    const fa = nextFires(a, 0, 200);
    expect(nextFires(b, 0, 200)).toEqual(fa);
    expect(nextFires(other, 0, 200)).not.toEqual(fa);
    // One fire per period, each within its own period: jitter never reorders or skips fires.
    const first = Math.floor((fa[0] as number) / 1000);
    fa.forEach((t, i) => {
      expect(Math.floor(t / 1000)).toBe(first + i);
    });
    for (let k = 1; k < 200; k++) {
      const f = a.next(k * 1000 - 1) as number;
      expect(f).toBeGreaterThanOrEqual(k * 1000 - 1);
    }
  });

  it("asked from any instant, returns the first jittered fire strictly after it", () => {
    const t = intervalTrigger({ every: 10_000, anchor: 0, jitter: 9000, seed: "s" });
    const fires = nextFires(t, -1, 50);
    for (let x = 0; x < 500_000; x += 777) {
      const expected = fires.find((f) => f > x);
      if (expected !== undefined) expect(t.next(x)).toBe(expected);
    }
  });
});

describe("once trigger", () => {
  it("fires once, then never", () => {
    const t = onceTrigger(5000);
    expect(t.next(0)).toBe(5000);
    expect(t.next(5000)).toBeNull();
  });
});
