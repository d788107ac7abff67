import { CronExpressionParser } from "cron-parser";
import { describe, expect, it } from "vitest";
import { compileCron, parserCronMasks, plainCronMasks } from "./cron-matcher.js";

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

/** Asserts that our matcher and cron-parser's iterator (UTC) agree on `steps` fires from a random start. */
function expectAgreement(expression: string, rand: () => number, steps: number): void {
  const ours = compileCron(expression);
  const start = Date.UTC(2020, 0, 1) + Math.floor(rand() * 5 * 365 * 86_400_000);
  const theirs = CronExpressionParser.parse(expression, { currentDate: new Date(start), tz: "UTC" });
  let t = start;
  for (let step = 0; step < steps; step++) {
    const expected = theirs.next().getTime();
    const got = ours.nextLocal(t);
    expect(got, `${expression} after ${new Date(t).toISOString()}`).toBe(expected);
    t = expected;
  }
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
      expectAgreement(expression, rand, 15);
    }
  });
});

/** A plain field (`*` or a list of numbers) for the fast path, now and then one it must refuse. */
function plainish(rand: () => number, min: number, max: number): string {
  const r = rand();
  if (r < 0.3) return "*";
  const pick = () => min + Math.floor(rand() * (max - min + 1));
  if (r < 0.5) return [...new Set([pick(), pick(), pick()])].join(",");
  if (r < 0.55) return `${pick()},${pick()}`; // maybe a repeated value: refused
  if (r < 0.58) return String(max + 1); // out of range: refused
  if (r < 0.6) return `0${pick()}`; // a leading zero: refused
  return String(pick());
}

describe("plain cron patterns (the path without cron-parser)", () => {
  it("gives the same masks as cron-parser's path, and refuses what it does not cover", () => {
    const rand = prng(20_261_201);
    let plain = 0;
    for (let n = 0; n < 3000; n++) {
      const parts = [
        plainish(rand, 0, 59),
        plainish(rand, 0, 59),
        plainish(rand, 0, 23),
        rand() < 0.6 ? "*" : plainish(rand, 1, 31),
        rand() < 0.7 ? "*" : plainish(rand, 1, 12),
        rand() < 0.6 ? "*" : plainish(rand, 0, 7),
      ].slice(rand() < 0.5 ? 1 : 0);
      const expression = parts.join(" ");
      const fast = plainCronMasks(parts);
      let slow: ReturnType<typeof parserCronMasks> | Error;
      try {
        slow = parserCronMasks(expression, expression);
      } catch (error) {
        slow = error as Error;
      }
      // What cron-parser rejects, the plain path never accepts.
      if (slow instanceof Error) expect(fast, expression).toBeNull();
      else if (fast !== null) {
        plain++;
        expect(fast, expression).toEqual(slow);
      }
    }
    expect(plain).toBeGreaterThan(500);
  });

  it("compiles the common forms without cron-parser and the rest with it", () => {
    expect(plainCronMasks("30 9 * * 1,3,5".split(" "))).not.toBeNull();
    expect(plainCronMasks("5 30 9 * * *".split(" "))).not.toBeNull();
    for (const refused of [
      "0 9 * * 1-5",
      "*/5 * * * *",
      "0 9 * * MON",
      "0 9 L * *",
      "0 9 * * 7",
      "0 9 1 2 *",
      "0 9 * 1,7 *",
    ]) {
      expect(plainCronMasks(refused.split(" ")), refused).toBeNull();
    }
    // Either path, one matcher: the same next fires.
    const a = compileCron("0 30 9 * * 1,3,5");
    const b = compileCron("0 30 9 * * MON,WED,FRI");
    let t = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 20; i++) {
      const next = a.nextLocal(t);
      expect(next).toBe(b.nextLocal(t));
      t = next as number;
    }
  });
});

/** Leap days in [fromYear, toYear) that fall on `weekday` (0 = Sunday), by brute force over the calendar. */
function leapDaysOn(weekday: number, fromYear: number, toYear: number): number[] {
  const out: number[] = [];
  for (let y = fromYear; y < toYear; y++) {
    const t = Date.UTC(y, 1, 29);
    if (new Date(t).getUTCMonth() === 1 && new Date(t).getUTCDay() === weekday) out.push(t);
  }
  return out;
}

describe("compiled cron matcher: rare patterns and the search horizon", () => {
  it("finds the fifth Monday of February across 2100, which is not a leap year (2072 -> 2112)", () => {
    const m = compileCron("0 0 * 2 1#5");
    expect(m.nextLocal(Date.UTC(2072, 1, 29))).toBe(Date.UTC(2112, 1, 29));
    expect(m.nextLocal(Date.UTC(2073, 0, 1))).toBe(Date.UTC(2112, 1, 29));
  });

  it("walks every fifth-weekday-of-February pattern through a whole 400-year cycle without a miss", () => {
    // The rarest patterns cron-parser accepts: each fire is a leap day on one weekday, up to 40 years apart.
    for (let weekday = 0; weekday < 7; weekday++) {
      const m = compileCron(`0 0 * 2 ${weekday}#5`);
      const expected = leapDaysOn(weekday, 2001, 2401);
      const got: number[] = [];
      let t = Date.UTC(2001, 0, 1);
      for (;;) {
        const next = m.nextLocal(t);
        if (next === null || next >= Date.UTC(2401, 0, 1)) break;
        got.push(next);
        t = next;
      }
      expect(
        got.map((x) => new Date(x).toISOString()),
        `weekday ${weekday}`,
      ).toEqual(expected.map((x) => new Date(x).toISOString()));
    }
  });

  it("agrees with cron-parser on month-day lists, last days and nth or last weekdays", () => {
    const rand = prng(9_2026);
    const dayFields: [string, string][] = [];
    for (let n = 0; n < 60; n++) {
      const days = [...new Set([1 + Math.floor(rand() * 31), 1 + Math.floor(rand() * 31)])].join(",");
      const weekday = Math.floor(rand() * 7);
      const months = [...new Set([1 + Math.floor(rand() * 12), 1 + Math.floor(rand() * 12), 1])].join(",");
      const pick = n % 4;
      dayFields.push(
        pick === 0
          ? [days, months]
          : pick === 1
            ? ["L", months]
            : pick === 2
              ? [`* ${months} ${weekday}#${1 + Math.floor(rand() * 5)}`, ""]
              : [`* ${months} ${weekday}L`, ""],
      );
    }
    for (const [days, months] of dayFields) {
      const expression = months === "" ? `0 0 ${days}` : `0 0 ${days} ${months} *`;
      try {
        compileCron(expression);
      } catch {
        continue; // a day that no listed month has (31 in April): cron-parser rejects it too
      }
      expectAgreement(expression, rand, 12);
    }
  });

  it("answers null at the end of the Date range instead of searching past it", () => {
    // Date ends in September 275760; the last Monday leap day before it is 275740-02-29.
    const rare = compileCron("0 0 * 2 1#5");
    expect(rare.nextLocal(Date.UTC(275_735, 0, 1))).toBe(Date.UTC(275_740, 1, 29));
    expect(rare.nextLocal(Date.UTC(275_740, 1, 29))).toBeNull();
    expect(compileCron("0 0 1 1 *").nextLocal(8.64e15 - 1000)).toBeNull();
  });
});
