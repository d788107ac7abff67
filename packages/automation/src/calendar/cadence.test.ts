import { getCalendar } from "@tradecron/core";
import { describe, expect, it } from "vitest";
import { RecipeConfigError } from "../errors.js";
import { dueExecution, executionsBetween, nextExecution, parseCadence } from "./cadence.js";
import {
  fireInstantOn,
  sessionIntervalSchedule,
  sessionTimeInput,
  sessionTimeSchedule,
} from "./session-trigger.js";

const nyse = getCalendar("XNYS");
const lse = getCalendar("XLON");
const cadence = (input: unknown) => parseCadence(input, "test");
const dates = (input: unknown, from: string, to: string, cal = nyse) =>
  executionsBetween(cadence(input), cal, from, to).executions.map((e) => e.date);

describe("cadence: monthly on a day of the month", () => {
  it("rolls a weekend or holiday to the next session, naming why", () => {
    const { executions } = executionsBetween(
      cadence({ every: "month", day: 15 }),
      nyse,
      "2026-01-01",
      "2026-03-31",
    );
    expect(executions.map((e) => [e.period, e.nominal, e.date, e.rolledBecause])).toEqual([
      ["2026-01", "2026-01-15", "2026-01-15", null],
      // Feb 15 is a Sunday and Monday the 16th is Washington's Birthday: Tuesday.
      ["2026-02", "2026-02-15", "2026-02-17", "weekend"],
      ["2026-03", "2026-03-15", "2026-03-16", "weekend"],
    ]);
  });

  it("keeps day 31 at the month's end, and a month end on a weekend rolls by the convention", () => {
    const next = executionsBetween(
      cadence({ every: "month", day: 31 }),
      nyse,
      "2026-01-01",
      "2026-05-31",
    ).executions;
    expect(next.map((e) => [e.nominal, e.date, e.clamped])).toEqual([
      ["2026-01-31", "2026-02-02", false], // Saturday: Monday, in February
      ["2026-02-28", "2026-03-02", true], // clamped to the 28th, a Saturday
      ["2026-03-31", "2026-03-31", false],
      ["2026-04-30", "2026-04-30", true],
    ]);
    // May 31 is a Sunday: the next session is June 1, outside the window.
    expect(
      dates({ every: "month", day: 31, roll: "modified_following" }, "2026-01-01", "2026-05-31"),
    ).toEqual(["2026-01-30", "2026-02-27", "2026-03-31", "2026-04-30", "2026-05-29"]);
    expect(dates({ every: "month", day: 31, roll: "previous" }, "2026-01-01", "2026-02-28")).toEqual([
      "2026-01-30",
      "2026-02-27",
    ]);
  });

  it("modified preceding keeps a month start in its month", () => {
    // Feb 1 2026 is a Sunday: previous would be Jan 30, modified preceding stays in February.
    expect(dates({ every: "month", day: 1, roll: "modified_preceding" }, "2026-02-01", "2026-02-28")).toEqual(
      ["2026-02-02"],
    );
    // ... and March 1 (a Sunday too) rolls back into February.
    expect(dates({ every: "month", day: 1, roll: "previous" }, "2026-01-25", "2026-02-28")).toEqual([
      "2026-01-30",
      "2026-02-27",
    ]);
  });

  it("every other month counts from the start date", () => {
    expect(
      dates({ every: "month", day: 10, interval: 2, start: "2026-01-01" }, "2026-01-01", "2026-07-31"),
    ).toEqual(["2026-01-12", "2026-03-10", "2026-05-11", "2026-07-10"]);
  });
});

describe("cadence: the n-th trading day of the month", () => {
  it("counts sessions, skipping holidays, from the start or from the end", () => {
    expect(dates({ every: "month", tradingDay: 1 }, "2026-01-01", "2026-02-28")).toEqual([
      "2026-01-02",
      "2026-02-02",
    ]);
    expect(dates({ every: "month", tradingDay: 3 }, "2026-01-01", "2026-01-31")).toEqual(["2026-01-06"]);
    expect(dates({ every: "month", tradingDay: -1 }, "2026-11-01", "2026-12-31")).toEqual([
      "2026-11-30",
      "2026-12-31",
    ]);
    // The early close of Nov 27 is still a session: the last-but-one of November.
    expect(dates({ every: "month", tradingDay: -2 }, "2026-11-01", "2026-11-30")).toEqual(["2026-11-27"]);
  });

  it("reports a month without that many sessions as skipped", () => {
    const r = executionsBetween(
      cadence({ every: "month", tradingDay: 22 }),
      nyse,
      "2026-02-01",
      "2026-02-28",
    );
    expect(r.executions).toEqual([]);
    expect(r.skipped[0]).toMatchObject({ period: "2026-02", reason: expect.stringMatching(/19 sessions/) });
  });
});

describe("cadence: weekly and daily", () => {
  it("rolls a Monday holiday to Tuesday, or to the Friday before, or skips it", () => {
    const monday = executionsBetween(
      cadence({ every: "week", weekday: "monday" }),
      nyse,
      "2026-01-12",
      "2026-01-25",
    );
    expect(monday.executions.map((e) => [e.period, e.date, e.rolledBecause])).toEqual([
      ["2026-01-12", "2026-01-12", null],
      ["2026-01-19", "2026-01-20", "Martin Luther King, Jr. Day"],
    ]);
    expect(dates({ every: "week", weekday: 1, roll: "previous" }, "2026-01-13", "2026-01-23")).toEqual([
      "2026-01-16",
    ]);
    const skip = executionsBetween(
      cadence({ every: "week", weekday: 1, roll: "skip" }),
      nyse,
      "2026-01-13",
      "2026-01-25",
    );
    expect(skip.executions).toEqual([]);
    expect(skip.skipped).toEqual([
      expect.objectContaining({ period: "2026-01-19", reason: expect.stringMatching(/Martin Luther King/) }),
    ]);
  });

  it("every two weeks from a start date", () => {
    expect(
      dates({ every: "week", weekday: 5, interval: 2, start: "2026-01-02" }, "2026-01-01", "2026-02-15"),
    ).toEqual(["2026-01-02", "2026-01-16", "2026-01-30", "2026-02-13"]);
  });

  it("daily is every session: no weekend, no holiday", () => {
    expect(dates("daily", "2026-11-23", "2026-11-30")).toEqual([
      "2026-11-23",
      "2026-11-24",
      "2026-11-25",
      "2026-11-27",
      "2026-11-30",
    ]);
  });

  it("follows the calendar it is given (Easter Monday closes London, not New York)", () => {
    expect(dates({ every: "week", weekday: 1 }, "2026-04-06", "2026-04-10", lse)).toEqual(["2026-04-07"]);
    expect(dates({ every: "week", weekday: 1 }, "2026-04-06", "2026-04-10", nyse)).toEqual(["2026-04-06"]);
  });

  it("respects start and end", () => {
    expect(
      dates(
        { every: "week", weekday: 3, start: "2026-01-10", end: "2026-01-25" },
        "2026-01-01",
        "2026-02-28",
      ),
    ).toEqual(["2026-01-14", "2026-01-21"]);
  });
});

describe("cadence: next execution and what is due", () => {
  const monthly = cadence({ every: "month", day: 15 });

  it("gives the next execution date after a date or after the last period executed", () => {
    expect(nextExecution(monthly, nyse, "2026-01-15")?.date).toBe("2026-02-17");
    expect(nextExecution(monthly, nyse, "2026-01-15", { inclusive: true })?.date).toBe("2026-01-15");
    expect(nextExecution(monthly, nyse, "2026-01-10", { afterPeriod: "2026-01" })?.date).toBe("2026-02-17");
  });

  it("is due on its session, and a missed one catches up later in its period", () => {
    expect(dueExecution(monthly, nyse, "2026-02-17", { lastPeriod: "2026-01" }).due?.period).toBe("2026-02");
    expect(dueExecution(monthly, nyse, "2026-02-16", { lastPeriod: "2026-01" }).due).toBeNull();
    // The scheduler was down on the 17th: the 18th still buys February.
    const late = dueExecution(monthly, nyse, "2026-02-18", { lastPeriod: "2026-01" });
    expect(late.due?.period).toBe("2026-02");
    expect(late.next?.date).toBe("2026-03-16");
    // Without catch-up, the 18th owes nothing.
    const strict = dueExecution(monthly, nyse, "2026-02-18", { lastPeriod: "2026-01", catchUp: "none" });
    expect(strict.due).toBeNull();
    expect(strict.missed.map((m) => m.period)).toEqual(["2026-02"]);
  });

  it("executes one period per fire: an older unexecuted one is reported missed", () => {
    const r = dueExecution(monthly, nyse, "2026-03-16", { lastPeriod: "2026-01" });
    expect(r.due?.period).toBe("2026-03");
    expect(r.missed.map((m) => m.period)).toEqual(["2026-02"]);
  });

  it("owes nothing from before the rule existed", () => {
    const r = dueExecution(monthly, nyse, "2026-01-20", { lastPeriod: null, since: "2026-01-20" });
    expect(r.due).toBeNull();
    expect(r.next?.date).toBe("2026-02-17");
    expect(
      dueExecution(monthly, nyse, "2026-01-15", { lastPeriod: null, since: "2026-01-15" }).due?.period,
    ).toBe("2026-01");
  });
});

describe("cadence: validation", () => {
  it.each([
    [{ every: "month", day: 0 }, "cadence.day"],
    [{ every: "month", day: 32 }, "cadence.day"],
    [{ every: "week", weekday: 7 }, "cadence.weekday"],
    [{ every: "week", weekday: "funday" }, "cadence.weekday"],
    [{ every: "month", tradingDay: 0 }, "cadence.tradingDay"],
    [{ every: "month", day: 1, interval: 3 }, "cadence.start"],
    [{ every: "week", start: "2026-02-30" }, "cadence.start"],
    [{ every: "week", start: "2026-02-01", end: "2026-01-01" }, "cadence.end"],
    [{ every: "month", day: 1, roll: "sideways" }, "cadence.roll"],
    [{ every: "fortnight" }, "cadence.every"],
    ["weekly", "cadence"],
    [{ every: "month", day: 1, hour: 3 }, "cadence"],
  ])("rejects %j naming %s", (input, field) => {
    try {
      cadence(input);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(RecipeConfigError);
      expect((error as RecipeConfigError).field).toBe(field);
      expect((error as RecipeConfigError).code).toBe("VALIDATION");
    }
  });
});

describe("session times", () => {
  it("30 minutes after the open is 14:00 UTC before the US clock change and 13:00 after it", () => {
    const time = sessionTimeInput.parse(undefined);
    expect(new Date(fireInstantOn(time, nyse, "2026-03-06") as number).toISOString()).toBe(
      "2026-03-06T15:00:00.000Z",
    );
    expect(new Date(fireInstantOn(time, nyse, "2026-03-09") as number).toISOString()).toBe(
      "2026-03-09T14:00:00.000Z",
    );
    // London changes three weeks later.
    expect(new Date(fireInstantOn(time, lse, "2026-03-27") as number).toISOString()).toBe(
      "2026-03-27T08:30:00.000Z",
    );
    expect(new Date(fireInstantOn(time, lse, "2026-03-30") as number).toISOString()).toBe(
      "2026-03-30T07:30:00.000Z",
    );
  });

  it("30 minutes before the close follows an early close", () => {
    const time = sessionTimeInput.parse({ event: "close", offsetMinutes: -30 });
    expect(new Date(fireInstantOn(time, nyse, "2026-11-27") as number).toISOString()).toBe(
      "2026-11-27T17:30:00.000Z",
    );
    expect(fireInstantOn(time, nyse, "2026-11-26")).toBeNull();
  });

  it("maps to a market trigger, or a cron in the exchange's zone that skips outside the session", () => {
    expect(sessionTimeSchedule(sessionTimeInput.parse(undefined), "XNYS")).toEqual({
      trigger: { calendar: "XNYS", event: "open", offsetMinutes: 30 },
      marketHoursOnly: false,
      calendar: "XNYS",
    });
    expect(sessionTimeSchedule("14:05", "XLON")).toEqual({
      trigger: { cron: "5 14 * * 1-5", timezone: "Europe/London" },
      marketHoursOnly: true,
      calendar: "XLON",
    });
  });

  it("a loop checks inside the session hours only", () => {
    const now = Date.parse("2026-01-05T12:00:00Z");
    expect(sessionIntervalSchedule(60_000, "XNYS", now).trigger).toEqual({
      cron: "0 */1 9-15 * * 1-5",
      timezone: "America/New_York",
    });
    expect(sessionIntervalSchedule(30_000, "XLON", now).trigger).toEqual({
      cron: "*/30 * 8-16 * * 1-5",
      timezone: "Europe/London",
    });
    expect(sessionIntervalSchedule(45_000, "XNYS", now).trigger).toEqual({ every: 45_000 });
  });
});
