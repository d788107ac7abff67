import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { Scheduler } from "../scheduler/scheduler.js";
import { TestClock } from "../testing/test-clock.js";
import { nextFires } from "./compile.js";
import { cachedMatcher, cronTrigger, nextCronFire } from "./cron.js";

const iso = (t: number) => new Date(t).toISOString();
const fires = (expr: string, tz: string, after: string, n: number) =>
  nextFires(cronTrigger(expr, tz), Date.parse(after), n).map(iso);

describe("cron trigger: America/New_York spring forward (2025-03-09, 02:00 EST -> 03:00 EDT)", () => {
  it("fires a nonexistent fixed 02:30 once that day, shifted forward by the gap to 03:30 EDT", () => {
    expect(fires("30 2 * * *", "America/New_York", "2025-03-08T00:00:00Z", 3)).toEqual([
      "2025-03-08T07:30:00.000Z", // 02:30 EST
      "2025-03-09T07:30:00.000Z", // 03:30 EDT (shifted)
      "2025-03-10T06:30:00.000Z", // 02:30 EDT
    ]);
  });

  it("still finds the shifted fire when asked from inside the new hour (03:10 EDT)", () => {
    expect(fires("30 2 * * *", "America/New_York", "2025-03-09T07:10:00Z", 1)).toEqual([
      "2025-03-09T07:30:00.000Z",
    ]);
  });

  it("steps every 15 minutes through elapsed time: 01:45 EST is followed by 03:00 EDT", () => {
    expect(fires("*/15 * * * *", "America/New_York", "2025-03-09T06:30:00Z", 3)).toEqual([
      "2025-03-09T06:45:00.000Z", // 01:45 EST
      "2025-03-09T07:00:00.000Z", // 03:00 EDT, 15 minutes later
      "2025-03-09T07:15:00.000Z",
    ]);
  });
});

describe("cron trigger: America/New_York fall back (2025-11-02, 02:00 EDT -> 01:00 EST)", () => {
  it("fires a repeated fixed 01:30 once, at its first occurrence (EDT)", () => {
    expect(fires("30 1 * * *", "America/New_York", "2025-11-01T12:00:00Z", 2)).toEqual([
      "2025-11-02T05:30:00.000Z", // 01:30 EDT
      "2025-11-03T06:30:00.000Z", // next day 01:30 EST
    ]);
  });

  it("does not fire the repeated fixed time again when asked from inside the second pass", () => {
    expect(fires("30 1 * * *", "America/New_York", "2025-11-02T06:10:00Z", 1)).toEqual([
      "2025-11-03T06:30:00.000Z",
    ]);
  });

  it("steps every 15 minutes through both passes of the repeated hour", () => {
    expect(fires("*/15 * * * *", "America/New_York", "2025-11-02T05:30:00Z", 7)).toEqual([
      "2025-11-02T05:45:00.000Z", // 01:45 EDT
      "2025-11-02T06:00:00.000Z", // 01:00 EST
      "2025-11-02T06:15:00.000Z",
      "2025-11-02T06:30:00.000Z",
      "2025-11-02T06:45:00.000Z",
      "2025-11-02T07:00:00.000Z", // 02:00 EST
      "2025-11-02T07:15:00.000Z",
    ]);
  });

  it("continues into the second pass when asked from late in the first pass", () => {
    expect(fires("*/15 * * * *", "America/New_York", "2025-11-02T05:50:00Z", 2)).toEqual([
      "2025-11-02T06:00:00.000Z",
      "2025-11-02T06:15:00.000Z",
    ]);
  });
});

describe("cron trigger: Europe/London", () => {
  it("shifts 01:30 on the spring-forward night (01:00 GMT -> 02:00 BST) to 02:30 BST", () => {
    expect(fires("30 1 * * *", "Europe/London", "2025-03-29T00:00:00Z", 3)).toEqual([
      "2025-03-29T01:30:00.000Z",
      "2025-03-30T01:30:00.000Z", // 02:30 BST
      "2025-03-31T00:30:00.000Z",
    ]);
  });

  it("fires an existing 02:30 on the spring-forward night at 02:30 BST", () => {
    expect(fires("0 30 2 * * *", "Europe/London", "2025-03-30T00:00:00Z", 1)).toEqual([
      "2025-03-30T01:30:00.000Z",
    ]);
  });

  it("fires 01:30 once on the fall-back night (02:00 BST -> 01:00 GMT)", () => {
    expect(fires("30 1 * * *", "Europe/London", "2025-10-25T12:00:00Z", 2)).toEqual([
      "2025-10-26T00:30:00.000Z", // 01:30 BST
      "2025-10-27T01:30:00.000Z",
    ]);
  });

  it("steps every 15 minutes through elapsed time on both nights", () => {
    expect(fires("*/15 * * * *", "Europe/London", "2025-03-30T00:30:00Z", 3)).toEqual([
      "2025-03-30T00:45:00.000Z", // 00:45 GMT
      "2025-03-30T01:00:00.000Z", // 02:00 BST
      "2025-03-30T01:15:00.000Z",
    ]);
    expect(fires("*/15 * * * *", "Europe/London", "2025-10-26T00:30:00Z", 4)).toEqual([
      "2025-10-26T00:45:00.000Z", // 01:45 BST
      "2025-10-26T01:00:00.000Z", // 01:00 GMT
      "2025-10-26T01:15:00.000Z",
      "2025-10-26T01:30:00.000Z",
    ]);
  });
});

describe("cron trigger: fields and zones", () => {
  it("fires a midnight that does not exist (Sao Paulo 2018-11-04) at 01:00 that day", () => {
    expect(fires("0 0 * * *", "America/Sao_Paulo", "2018-11-03T12:00:00Z", 2)).toEqual([
      "2018-11-04T03:00:00.000Z",
      "2018-11-05T02:00:00.000Z",
    ]);
  });

  it("reads weekdays in the schedule's zone", () => {
    // Friday 2025-11-21 15:00Z; next weekday 09:00 New York is Monday 2025-11-24.
    expect(fires("0 9 * * 1-5", "America/New_York", "2025-11-21T15:00:00Z", 2)).toEqual([
      "2025-11-24T14:00:00.000Z",
      "2025-11-25T14:00:00.000Z",
    ]);
  });

  it("supports a seconds field", () => {
    expect(fires("*/10 * * * * *", "UTC", "2025-03-30T00:00:00Z", 2)).toEqual([
      "2025-03-30T00:00:10.000Z",
      "2025-03-30T00:00:20.000Z",
    ]);
  });

  it("supports last day of month, last weekday of month and nth weekday", () => {
    expect(fires("0 0 L * *", "UTC", "2024-02-01T00:00:00Z", 2)).toEqual([
      "2024-02-29T00:00:00.000Z",
      "2024-03-31T00:00:00.000Z",
    ]);
    expect(fires("0 16 * * 5L", "America/New_York", "2025-01-01T00:00:00Z", 2)).toEqual([
      "2025-01-31T21:00:00.000Z",
      "2025-02-28T21:00:00.000Z",
    ]);
    expect(fires("0 10 * * 1#3", "UTC", "2025-01-01T00:00:00Z", 2)).toEqual([
      "2025-01-20T10:00:00.000Z",
      "2025-02-17T10:00:00.000Z",
    ]);
  });

  it("matches either day field when both are restricted, as classic cron does", () => {
    expect(fires("0 0 1,15 * 1", "UTC", "2025-09-01T00:00:00Z", 4)).toEqual([
      "2025-09-08T00:00:00.000Z",
      "2025-09-15T00:00:00.000Z",
      "2025-09-22T00:00:00.000Z",
      "2025-09-29T00:00:00.000Z",
    ]);
  });

  it("understands @aliases and month/day names", () => {
    expect(fires("@daily", "UTC", "2025-01-01T12:00:00Z", 1)).toEqual(["2025-01-02T00:00:00.000Z"]);
    expect(fires("0 12 * JAN MON", "UTC", "2025-01-01T00:00:00Z", 1)).toEqual(["2025-01-06T12:00:00.000Z"]);
  });

  it("finds a leap day years ahead, and rejects a day that never exists", () => {
    expect(fires("0 0 29 2 *", "UTC", "2025-03-01T00:00:00Z", 2)).toEqual([
      "2028-02-29T00:00:00.000Z",
      "2032-02-29T00:00:00.000Z",
    ]);
    expect(() => cronTrigger("0 0 31 2 *", "UTC")).toThrow(ValidationError);
  });

  it("rejects an invalid expression with a typed error naming the field", () => {
    for (const bad of ["61 * * * *", "* * * *", "* * * * * * *", "H * * * *", "", "@fortnightly"]) {
      try {
        cronTrigger(bad, "UTC");
        expect.unreachable(`accepted '${bad}'`);
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).code).toBe("INVALID_CRON");
        expect((error as ValidationError).field).toBe("expression");
      }
    }
  });

  it("rejects an unknown time zone with a typed error naming the field", () => {
    try {
      cronTrigger("0 9 * * *", "America/Atlantis");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).code).toBe("UNKNOWN_TIMEZONE");
      expect((error as ValidationError).field).toBe("timezone");
    }
  });
});

describe("cron trigger: patterns rarer than the 28-year cycle", () => {
  it("finds the fifth Monday of February in New York after 2072: 2112-02-29, across a century", () => {
    expect(fires("0 0 * 2 1#5", "America/New_York", "2073-01-01T00:00:00Z", 2)).toEqual([
      "2112-02-29T05:00:00.000Z",
      "2140-02-29T05:00:00.000Z",
    ]);
  });

  it("is accepted by createSchedule in 2073 and previews its 2112 fire", async () => {
    const scheduler = new Scheduler({ clock: new TestClock("2073-01-01T00:00:00Z") });
    scheduler.register("leap-monday", async () => {});
    await scheduler.createSchedule({
      id: "rare",
      job: "leap-monday",
      trigger: { cron: "0 0 * 2 1#5", timezone: "America/New_York" },
    });
    const [first] = await scheduler.preview("rare", { count: 1 });
    expect(first?.iso).toBe("2112-02-29T05:00:00.000Z");
  });
});

describe("cron trigger: shared per expression and zone", () => {
  it("is shared in the zone it is first asked for, even after a check of the expression alone", () => {
    cachedMatcher("0 45 15 * * 1-5");
    const ny = cronTrigger("0 45 15 * * 1-5", "America/New_York");
    expect(cronTrigger("0 45 15 * * 1-5", "America/New_York")).toBe(ny);
    expect(ny.next(Date.parse("2026-12-03T00:00:00Z"))).toBe(Date.parse("2026-12-03T20:45:00Z"));
    const utc = cronTrigger("0 45 15 * * 1-5", "UTC");
    expect(utc.next(Date.parse("2026-12-03T00:00:00Z"))).toBe(Date.parse("2026-12-03T15:45:00Z"));
  });

  it("is one object for every schedule of the same expression and zone, another for another zone", () => {
    const a = cronTrigger("0 30 9 * * 1-5", "America/New_York");
    expect(cronTrigger("0 30 9 * * 1-5", "America/New_York")).toBe(a);
    expect(cronTrigger("0 30 9 * * 1-5", "Europe/London")).not.toBe(a);
    expect(cronTrigger("0 31 9 * * 1-5", "America/New_York")).not.toBe(a);
  });

  it("answers from its memo exactly what it computes, whatever order it is asked in", () => {
    const shared = cronTrigger("*/20 30 1 * * *", "Europe/London");
    // Instants around the autumn fold (2026-10-25 01:00-02:00 happens twice in London) and
    // plain ones, each asked twice in a row and then again after another.
    const afters = [
      "2026-10-25T00:29:59Z",
      "2026-10-25T00:30:00Z",
      "2026-10-25T01:30:40Z",
      "2026-06-01T00:00:00Z",
    ].map(Date.parse);
    const expected = afters.map((t) => nextCronFire(cachedMatcher("*/20 30 1 * * *"), "Europe/London", t));
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < afters.length; i++) {
        const t = afters[i] as number;
        expect(shared.next(t)).toBe(expected[i]);
        expect(shared.next(t)).toBe(expected[i]);
      }
    }
    expect(expected.map((t) => (t === null ? null : new Date(t).toISOString()))).toEqual([
      "2026-10-25T00:30:00.000Z",
      "2026-10-25T00:30:20.000Z",
      "2026-10-26T01:30:00.000Z",
      "2026-06-01T00:30:00.000Z",
    ]);
  });
});
