import { CronExpressionParser } from "cron-parser";
import { describe, expect, it } from "vitest";
import { compileCron } from "./cron-matcher.js";

/** A small deterministic PRNG so failures reproduce. */
function prng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 48_271) % 2_147_483_647;
    return s / 2_147_483_647;
  };
}

function field(rand: () => number, min: number, max: number): string {
  const pick = () => min + Math.floor(rand() * (max - min + 1));
  const r = rand();
  if (r < 0.3) return "*";
  if (r < 0.45) return `*/${1 + Math.floor(rand() * 7)}`;
  if (r < 0.6) {
    const a = pick();
    return `${a}-${Math.min(max, a + Math.floor(rand() * 6))}`;
  }
  if (r < 0.8) return [...new Set([pick(), pick(), pick()])].join(",");
  return String(pick());
}

describe("compiled cron matcher", () => {
  it("agrees with cron-parser's own iteration in UTC on random patterns (where UTC has no DST)", () => {
    const rand = prng(20_261_123);
    for (let n = 0; n < 400; n++) {
      const expression = [
        field(rand, 0, 59),
        field(rand, 0, 59),
        field(rand, 0, 23),
        rand() < 0.7 ? "*" : field(rand, 1, 28),
        rand() < 0.7 ? "*" : field(rand, 1, 12),
        rand() < 0.6 ? "*" : field(rand, 0, 6),
      ].join(" ");
      const start = Date.UTC(2020, 0, 1) + Math.floor(rand() * 5 * 365 * 86_400_000);
      const ours = compileCron(expression);
      const theirs = CronExpressionParser.parse(expression, { currentDate: new Date(start), tz: "UTC" });
      let t = start;
      for (let step = 0; step < 15; step++) {
        const expected = theirs.next().getTime();
        const got = ours.nextLocal(t);
        expect(got, `${expression} after ${new Date(t).toISOString()}`).toBe(expected);
        t = expected;
      }
    }
  });
});
