import { describe, expect, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import { ValidationError } from "../errors.js";
import { nextFires } from "../triggers/compile.js";
import {
  type MarketTriggerInput,
  type MarketTriggerSpec,
  marketTrigger,
  marketTriggerSpecSchema,
} from "./market-trigger.js";
import { registerCalendar } from "./registry.js";

const iso = (t: number) => new Date(t).toISOString();
const fires = (spec: MarketTriggerInput, after: string, n: number) =>
  nextFires(marketTrigger(spec), Date.parse(after), n).map(iso);

/** Local 'YYYY-MM-DD HH:MM' of an instant in `zone`. */
function local(t: number, zone: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(t);
  const get = (type: string) => parts.find((p) => p.type === type)?.value;
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}`;
}

describe("market trigger on early-close days", () => {
  it("fires 30 minutes before the close at 12:30 ET on the day after Thanksgiving", () => {
    expect(
      fires({ calendar: "XNYS", event: "close", offsetMinutes: -30 }, "2025-11-25T00:00:00Z", 4),
    ).toEqual([
      "2025-11-25T20:30:00.000Z", // 15:30 EST
      "2025-11-26T20:30:00.000Z",
      "2025-11-28T17:30:00.000Z", // 12:30 EST: 13:00 close; Thanksgiving has no fire
      "2025-12-01T20:30:00.000Z",
    ]);
  });

  it("fires at 12:30 ET on the day before Independence Day and on Christmas Eve", () => {
    const spec = { calendar: "XNYS", event: "close", offsetMinutes: -30 } as const;
    expect(fires(spec, "2025-07-03T00:00:00Z", 2)).toEqual([
      "2025-07-03T16:30:00.000Z", // 12:30 EDT
      "2025-07-07T19:30:00.000Z", // July 4th closed, then a weekend
    ]);
    expect(fires(spec, "2025-12-24T00:00:00Z", 2)).toEqual([
      "2025-12-24T17:30:00.000Z",
      "2025-12-26T20:30:00.000Z",
    ]);
  });

  it("fires 10 minutes before the LSE close at 12:20 on a half day", () => {
    expect(
      fires({ calendar: "XLON", event: "close", offsetMinutes: -10 }, "2025-12-24T00:00:00Z", 2),
    ).toEqual([
      "2025-12-24T12:20:00.000Z",
      "2025-12-29T16:20:00.000Z", // Christmas and Boxing Day closed
    ]);
  });

  it("keeps an after-the-open fire at its regular time on an early-close day", () => {
    expect(fires({ calendar: "XNYS", event: "open", offsetMinutes: 10 }, "2025-11-27T00:00:00Z", 1)).toEqual([
      "2025-11-28T14:40:00.000Z",
    ]);
  });
});

describe("market trigger on holidays", () => {
  it("skips Good Friday on XNYS and Good Friday and Easter Monday on XLON", () => {
    expect(fires({ calendar: "XNYS", event: "open" }, "2025-04-17T12:00:00Z", 2)).toEqual([
      "2025-04-17T13:30:00.000Z",
      "2025-04-21T13:30:00.000Z",
    ]);
    expect(fires({ calendar: "XLON", event: "open" }, "2025-04-17T06:00:00Z", 2)).toEqual([
      "2025-04-17T07:00:00.000Z",
      "2025-04-22T07:00:00.000Z",
    ]);
  });

  it("skips a one-off closure (Hurricane Sandy)", () => {
    expect(fires({ calendar: "XNYS", event: "open", offsetMinutes: 5 }, "2012-10-26T12:00:00Z", 2)).toEqual([
      "2012-10-26T13:35:00.000Z",
      "2012-10-31T13:35:00.000Z",
    ]);
  });
});

describe("market trigger on DST switch days", () => {
  it("keeps 10 minutes after the New York open at 09:40 local across the spring and fall changes", () => {
    const spec = { calendar: "XNYS", event: "open", offsetMinutes: 10 } as const;
    expect(fires(spec, "2025-03-07T00:00:00Z", 2)).toEqual([
      "2025-03-07T14:40:00.000Z", // 09:40 EST
      "2025-03-10T13:40:00.000Z", // 09:40 EDT, the Monday after the switch
    ]);
    expect(fires(spec, "2025-10-31T00:00:00Z", 2)).toEqual([
      "2025-10-31T13:40:00.000Z", // 09:40 EDT
      "2025-11-03T14:40:00.000Z", // 09:40 EST
    ]);
  });

  it("keeps the London open at 08:00 local across the UK changes", () => {
    expect(fires({ calendar: "XLON", event: "open" }, "2025-03-28T00:00:00Z", 2)).toEqual([
      "2025-03-28T08:00:00.000Z", // GMT
      "2025-03-31T07:00:00.000Z", // BST
    ]);
  });

  it("moves a London-close job seen from New York in the weeks the US and UK clocks disagree", () => {
    const trigger = marketTrigger({ calendar: "XLON", event: "close" });
    const seen = (from: string, to: string) =>
      nextFires(trigger, Date.parse(from), 40)
        .filter((t) => t < Date.parse(to))
        .map((t) => local(t, "America/New_York"));
    // Spring 2025: New York moves on March 9th, London on March 30th.
    const spring = seen("2025-03-06T00:00:00Z", "2025-04-02T00:00:00Z");
    expect(spring.filter((s) => s.endsWith("12:30")).map((s) => s.slice(0, 10))).toEqual([
      "2025-03-10",
      "2025-03-11",
      "2025-03-12",
      "2025-03-13",
      "2025-03-14",
      "2025-03-17",
      "2025-03-18",
      "2025-03-19",
      "2025-03-20",
      "2025-03-21",
      "2025-03-24",
      "2025-03-25",
      "2025-03-26",
      "2025-03-27",
      "2025-03-28",
    ]);
    expect(spring.filter((s) => !s.endsWith("12:30"))).toEqual([
      "2025-03-06 11:30",
      "2025-03-07 11:30",
      "2025-03-31 11:30",
      "2025-04-01 11:30",
    ]);
    // Autumn 2025: London moves on October 26th, New York on November 2nd.
    expect(seen("2025-10-23T00:00:00Z", "2025-11-05T00:00:00Z")).toEqual([
      "2025-10-23 11:30",
      "2025-10-24 11:30",
      "2025-10-27 12:30",
      "2025-10-28 12:30",
      "2025-10-29 12:30",
      "2025-10-30 12:30",
      "2025-10-31 12:30",
      "2025-11-03 11:30",
      "2025-11-04 11:30",
    ]);
  });
});

describe("market trigger with a session on the switch day itself", () => {
  // A made-up seven-day market in New York hours that straddle the 02:00 clock changes.
  const night = registerCalendar({
    code: "XNIGHT",
    name: "Night session test market",
    timezone: "America/New_York",
    weekdays: [0, 1, 2, 3, 4, 5, 6],
    hours: [{ from: "1990-01-01", open: "01:30", close: "04:00" }],
  });
  const gap = registerCalendar({
    code: "XGAP",
    name: "Gap test market",
    timezone: "America/New_York",
    weekdays: [0, 1, 2, 3, 4, 5, 6],
    hours: [{ from: "1990-01-01", open: "02:30", close: "04:00" }],
  });

  it("opens at the first 01:30 on the fall-back night and closes at 04:00 EST", () => {
    expect(night.session("2025-11-02")).toMatchObject({
      open: new Date("2025-11-02T05:30:00Z"), // 01:30 EDT, the first of the two
      close: new Date("2025-11-02T09:00:00Z"), // 04:00 EST
    });
    expect(
      fires({ calendar: "XNIGHT", event: "close", offsetMinutes: -30 }, "2025-11-01T12:00:00Z", 2),
    ).toEqual([
      "2025-11-02T08:30:00.000Z", // 03:30 EST
      "2025-11-03T08:30:00.000Z",
    ]);
  });

  it("moves an open that does not exist on the spring-forward night forward by the gap", () => {
    expect(gap.session("2025-03-09")).toMatchObject({
      open: new Date("2025-03-09T07:30:00Z"), // 02:30 does not exist: 03:30 EDT
      close: new Date("2025-03-09T08:00:00Z"), // 04:00 EDT
    });
    expect(night.session("2025-03-09")).toMatchObject({
      open: new Date("2025-03-09T06:30:00Z"), // 01:30 EST
      close: new Date("2025-03-09T08:00:00Z"), // 04:00 EDT: a 90-minute session
    });
    expect(
      fires({ calendar: "XNIGHT", event: "open", offsetMinutes: 60 }, "2025-03-08T12:00:00Z", 2),
    ).toEqual([
      "2025-03-09T07:30:00.000Z", // 60 elapsed minutes after 01:30 EST is 03:30 EDT
      "2025-03-10T06:30:00.000Z", // 02:30 EDT
    ]);
  });
});

describe("market trigger day rules", () => {
  it("fires on the first session of the week (Tuesday after Martin Luther King, Jr. Day)", () => {
    expect(
      fires({ calendar: "XNYS", event: "open", rule: "first_of_week" }, "2025-01-12T00:00:00Z", 3),
    ).toEqual(["2025-01-13T14:30:00.000Z", "2025-01-21T14:30:00.000Z", "2025-01-27T14:30:00.000Z"]);
  });

  it("fires on the last session of the week (Thursday before Good Friday)", () => {
    expect(
      fires({ calendar: "XNYS", event: "close", rule: "last_of_week" }, "2025-04-07T00:00:00Z", 3),
    ).toEqual(["2025-04-11T20:00:00.000Z", "2025-04-17T20:00:00.000Z", "2025-04-25T20:00:00.000Z"]);
  });

  it("fires on the first session of the month (after Labor Day and New Year's Day)", () => {
    const spec = { calendar: "XNYS", event: "open", offsetMinutes: 30, rule: "first_of_month" } as const;
    expect(fires(spec, "2025-08-15T00:00:00Z", 2)).toEqual([
      "2025-09-02T14:00:00.000Z",
      "2025-10-01T14:00:00.000Z",
    ]);
    expect(fires(spec, "2025-12-15T00:00:00Z", 1)).toEqual(["2026-01-02T15:00:00.000Z"]);
  });

  it("fires on the last session of the month, before an early close", () => {
    const spec = { calendar: "XNYS", event: "close", offsetMinutes: -30, rule: "last_of_month" } as const;
    expect(fires(spec, "2025-08-01T00:00:00Z", 1)).toEqual(["2025-08-29T19:30:00.000Z"]);
    expect(fires(spec, "2025-11-01T00:00:00Z", 3)).toEqual([
      "2025-11-28T17:30:00.000Z", // 12:30 EST: the last November session closes at 13:00
      "2025-12-31T20:30:00.000Z",
      "2026-01-30T20:30:00.000Z",
    ]);
  });

  it("fires only on chosen weekdays, skipping one that is a holiday", () => {
    expect(fires({ calendar: "XNYS", event: "open", days: [1] }, "2025-01-12T00:00:00Z", 2)).toEqual([
      "2025-01-13T14:30:00.000Z",
      "2025-01-27T14:30:00.000Z", // Monday the 20th is Martin Luther King, Jr. Day
    ]);
  });
});

describe("market trigger next()", () => {
  const trigger = marketTrigger({ calendar: "XNYS", event: "open" });
  const open = Date.parse("2025-06-02T13:30:00Z");

  it("returns the first fire strictly after the instant", () => {
    expect(trigger.next(open - 1)).toBe(open);
    expect(trigger.next(open)).toBe(Date.parse("2025-06-03T13:30:00Z"));
  });

  it("starts from the first session when asked about an instant before the calendar's range", () => {
    expect(trigger.next(Date.parse("1980-01-01T00:00:00Z"))).toBe(Date.parse("1990-01-02T14:30:00Z"));
  });

  it("is exhausted after the calendar's last session", () => {
    expect(trigger.next(Date.parse("2100-12-31T15:00:00Z"))).toBeNull();
    expect(trigger.next(Date.parse("2101-06-01T00:00:00Z"))).toBeNull();
  });

  it("fires before the open for a negative offset", () => {
    expect(fires({ calendar: "XNYS", event: "open", offsetMinutes: -60 }, "2025-06-02T00:00:00Z", 1)).toEqual(
      ["2025-06-02T12:30:00.000Z"],
    );
  });
});

describe("marketTriggerSpecSchema", () => {
  const fieldOf = (input: unknown) => {
    const parsed = marketTriggerSpecSchema.safeParse(input);
    expect(parsed.success).toBe(false);
    return parsed.error?.issues[0]?.path.join(".");
  };

  it("fills defaults and normalises the calendar code and weekdays", () => {
    expect(marketTriggerSpecSchema.parse({ type: "market", calendar: "nyse", event: "open" })).toEqual({
      type: "market",
      calendar: "NYSE",
      event: "open",
      offsetMinutes: 0,
      days: "every",
      rule: "every_session",
    });
    expect(
      marketTriggerSpecSchema.parse({ type: "market", calendar: "XLON", event: "close", days: [5, 1, 5] })
        .days,
    ).toEqual([1, 5]);
  });

  it("names the offending field", () => {
    const base = { type: "market", calendar: "XNYS", event: "close" };
    expect(fieldOf({ ...base, calendar: "MARS" })).toBe("calendar");
    expect(fieldOf({ ...base, event: "noon" })).toBe("event");
    expect(fieldOf({ ...base, offsetMinutes: 2.5 })).toBe("offsetMinutes");
    expect(fieldOf({ ...base, offsetMinutes: -2000 })).toBe("offsetMinutes");
    expect(fieldOf({ ...base, days: [7] })?.startsWith("days")).toBe(true);
    expect(fieldOf({ ...base, rule: "first_of_year" })).toBe("rule");
    expect(fieldOf({ ...base, type: "cron" })).toBe("type");
  });

  it("is strict about unknown keys", () => {
    expect(
      marketTriggerSpecSchema.safeParse({ type: "market", calendar: "XNYS", event: "open", tz: "X" }).success,
    ).toBe(false);
  });

  it("throws a ValidationError from marketTrigger naming the field", () => {
    expect(() => marketTrigger({ calendar: "XNYS", event: "close", offsetMinutes: 0.5 })).toThrow(
      ValidationError,
    );
    expect(() => marketTrigger({ calendar: "NOPE", event: "close" })).toThrow(
      expect.objectContaining({ field: "calendar", code: "UNKNOWN_CALENDAR" }),
    );
  });

  it("outputs exactly the canonical spec type", () => {
    expectTypeOf<z.output<typeof marketTriggerSpecSchema>>().toEqualTypeOf<MarketTriggerSpec>();
  });
});
