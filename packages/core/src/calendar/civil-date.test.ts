import { describe, expect, it } from "vitest";
import {
  dayOf,
  formatClock,
  formatDay,
  nthWeekdayOf,
  parseClock,
  parseDay,
  partsOf,
  weekdayOf,
  weekStartOf,
} from "./civil-date.js";
import { easterSunday } from "./easter.js";

describe("civil dates", () => {
  it("formats and splits every day from 1899 to 2201 exactly as Date does", () => {
    for (let day = dayOf(1899, 1, 1); day <= dayOf(2201, 12, 31); day++) {
      const d = new Date(day * 86_400_000);
      const iso = d.toISOString().slice(0, 10);
      if (formatDay(day) !== iso) expect(formatDay(day)).toBe(iso);
      if (weekdayOf(day) !== d.getUTCDay()) expect(weekdayOf(day)).toBe(d.getUTCDay());
      if (parseDay(iso) !== day) expect(parseDay(iso)).toBe(day);
    }
    expect(partsOf(dayOf(2024, 2, 29))).toEqual({ year: 2024, month: 2, day: 29 });
  });

  it("rejects impossible or loosely written dates", () => {
    for (const bad of [
      "2025-02-29",
      "2100-02-29",
      "2025-13-01",
      "2025-00-10",
      "2025-1-01",
      "25-01-01",
      "2025-01-01T00",
    ]) {
      expect(parseDay(bad), bad).toBeNull();
    }
    expect(parseDay("2000-02-29")).not.toBeNull();
  });

  it("finds nth and last weekdays of a month", () => {
    expect(formatDay(nthWeekdayOf(2025, 11, 4, 4) as number)).toBe("2025-11-27"); // Thanksgiving
    expect(formatDay(nthWeekdayOf(2025, 5, 1, -1) as number)).toBe("2025-05-26"); // Memorial Day
    expect(formatDay(nthWeekdayOf(2026, 8, 1, -1) as number)).toBe("2026-08-31");
    expect(nthWeekdayOf(2025, 2, 1, 5)).toBeNull(); // no fifth Monday in February 2025
  });

  it("starts weeks on Monday", () => {
    expect(formatDay(weekStartOf(dayOf(2025, 1, 19)))).toBe("2025-01-13"); // a Sunday
    expect(formatDay(weekStartOf(dayOf(2025, 1, 20)))).toBe("2025-01-20");
  });

  it("parses and formats clock times from 00:00 to 24:00", () => {
    expect(parseClock("09:30")).toBe(570);
    expect(parseClock("24:00")).toBe(1440);
    for (const bad of ["24:01", "9:30", "09:60", "0930", "25:00"]) expect(parseClock(bad), bad).toBeNull();
    expect(formatClock(780)).toBe("13:00");
  });
});

describe("Easter", () => {
  it("matches published Easter Sundays, including the extremes of its range", () => {
    const known: [number, string][] = [
      [1990, "1990-04-15"],
      [2000, "2000-04-23"],
      [2008, "2008-03-23"],
      [2011, "2011-04-24"],
      [2019, "2019-04-21"],
      [2024, "2024-03-31"],
      [2025, "2025-04-20"],
      [2038, "2038-04-25"],
      [2100, "2100-03-28"],
    ];
    for (const [year, date] of known) expect(formatDay(easterSunday(year))).toBe(date);
  });
});
