/**
 * XLON: the London Stock Exchange. It closes on the bank holidays of England and Wales (not the
 * Scottish 2nd of January or St Andrew's Day) and closes at 12:30 on the last business day before
 * Christmas and before New Year.
 *
 * Sources: Banking and Financial Dealings Act 1971 and the yearly proclamations (gov.uk "UK bank
 * holidays"), LSE "Business days" notices for the half days.
 */

import type { CalendarDefinition } from "./calendar-definition.js";
import {
  type EarlyCloseRule,
  easterOffset,
  fixedDate,
  type HolidayRule,
  nthWeekday,
  weekdayOnOrBefore,
} from "./holiday-rules.js";
import { SPECIAL_DAYS_DATA_VERSION, XLON_SPECIAL_DAYS } from "./special-days.js";

const MON = 1;

/** England and Wales bank holidays, as the LSE observes them. */
export const XLON_HOLIDAYS: readonly HolidayRule[] = [
  {
    name: "New Year's Day",
    firstYear: 1974, // a bank holiday in England and Wales since 1974
    lastYear: null,
    date: fixedDate(1, 1),
    observance: "next_free_weekday", // substitute day: Saturday or Sunday -> the Monday after
  },
  {
    name: "Good Friday",
    firstYear: 1871, // a common-law holiday
    lastYear: null,
    date: easterOffset(-2),
    observance: "none",
  },
  {
    name: "Easter Monday",
    firstYear: 1871,
    lastYear: null,
    date: easterOffset(1),
    observance: "none",
  },
  {
    name: "Early May bank holiday",
    firstYear: 1978, // first Monday of May since 1978
    lastYear: null,
    date: nthWeekday(5, MON, 1),
    observance: "none",
    // Moved to VE Day for its 50th (Monday) and 75th (Friday) anniversaries.
    moved: { 1995: "1995-05-08", 2020: "2020-05-08" },
  },
  {
    name: "Spring bank holiday",
    firstYear: 1971, // last Monday of May under the 1971 Act
    lastYear: null,
    date: nthWeekday(5, MON, -1),
    observance: "none",
    // Moved next to the extra jubilee day: Golden (Tue 4 June 2002, extra Mon 3 June), Diamond
    // (Mon 4 June 2012, extra Tue 5 June), Platinum (Thu 2 June 2022, extra Fri 3 June).
    moved: { 2002: "2002-06-04", 2012: "2012-06-04", 2022: "2022-06-02" },
  },
  {
    name: "Summer bank holiday",
    firstYear: 1971, // last Monday of August under the 1971 Act
    lastYear: null,
    date: nthWeekday(8, MON, -1),
    observance: "none",
  },
  {
    name: "Christmas Day",
    firstYear: 1871,
    lastYear: null,
    date: fixedDate(12, 25),
    // Substitutes are placed after Boxing Day's own date, so Christmas on a Sunday moves to
    // Tuesday 27th and Christmas on a Saturday to Monday 27th (Boxing Day then Tuesday 28th).
    observance: "next_free_weekday",
  },
  {
    name: "Boxing Day",
    firstYear: 1871,
    lastYear: null,
    date: fixedDate(12, 26),
    observance: "next_free_weekday",
  },
];

/** LSE half days: the market closing process starts at 12:30 London time. */
export const XLON_EARLY_CLOSES: readonly EarlyCloseRule[] = [
  {
    name: "Christmas Eve half day",
    // The last business day before Christmas: December 24th, or the Friday before when it falls on
    // a weekend (Friday 23 December 2022, Friday 22 December 2023).
    firstYear: 1990,
    lastYear: null,
    date: weekdayOnOrBefore(12, 24),
    close: "12:30",
  },
  {
    name: "New Year's Eve half day",
    // December 31st, or the Friday before (Friday 29 December 2023). 1999-12-31 was a bank
    // holiday instead (special-days.ts), which wins over this rule.
    firstYear: 1990,
    lastYear: null,
    date: weekdayOnOrBefore(12, 31),
    close: "12:30",
  },
];

/**
 * The XLON calendar definition, 1990-2100, with regular hours 08:00-16:30 London time.
 *
 * One hours era, applied to every year: 08:00-16:30 is the order book's schedule today, but the
 * LSE's hours moved during the early SETS years (from 1997) in ways our sources do not pin down,
 * and the quote-driven SEAQ market before SETS had no single open and close. exchange_calendars
 * makes the same choice. Treat XLON open/close instants before 2000 as approximate; the dates of
 * sessions and holidays are not affected.
 */
export const XLON_DEFINITION: CalendarDefinition = {
  code: "XLON",
  name: "London Stock Exchange",
  timezone: "Europe/London",
  firstYear: 1990,
  lastYear: 2100,
  weekdays: [1, 2, 3, 4, 5],
  hours: [{ from: "1990-01-01", open: "08:00", close: "16:30" }],
  holidays: XLON_HOLIDAYS,
  earlyCloses: XLON_EARLY_CLOSES,
  specialDays: XLON_SPECIAL_DAYS,
  dataVersion: SPECIAL_DAYS_DATA_VERSION,
};
