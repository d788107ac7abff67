/**
 * XNYS: the New York Stock Exchange (NASDAQ keeps the same sessions). Rules are stated with the
 * years they are in force; the calendar answers for 1990-2100, so rules older than 1990 only
 * matter from 1990 on.
 *
 * Sources: NYSE Rule 7.2 (holidays), NYSE/ICE holiday and early-closing announcements (2025-2027:
 * ICE press release of 2024-11-08), and the NYSE closings history (Stocks.NYSE-Closings.pdf) for
 * the years before published calendars were online.
 */

import type { CalendarDefinition } from "./calendar-definition.js";
import {
  type EarlyCloseRule,
  easterOffset,
  fixedDate,
  type HolidayRule,
  nthWeekday,
  shifted,
} from "./holiday-rules.js";
import { SPECIAL_DAYS_DATA_VERSION, XNYS_SPECIAL_DAYS } from "./special-days.js";

const MON = 1;
const TUE = 2;
const WED = 3;
const THU = 4;
const FRI = 5;

const thanksgiving = nthWeekday(11, THU, 4);

/** NYSE full-day holidays. */
export const XNYS_HOLIDAYS: readonly HolidayRule[] = [
  {
    name: "New Year's Day",
    firstYear: 1952,
    lastYear: null,
    date: fixedDate(1, 1),
    // NYSE Rule 7.2: a Saturday holiday is not moved to Friday when that Friday ends a monthly or
    // yearly accounting period, which December 31st always does (1994, 2000, 2005, 2011, 2022).
    observance: "sunday_to_monday",
  },
  {
    name: "Martin Luther King, Jr. Day",
    firstYear: 1998, // the NYSE traded on MLK Day until 1997
    lastYear: null,
    date: nthWeekday(1, MON, 3),
    observance: "none",
  },
  {
    name: "Washington's Birthday",
    firstYear: 1971, // third Monday of February since the Uniform Monday Holiday Act
    lastYear: null,
    date: nthWeekday(2, MON, 3),
    observance: "none",
  },
  {
    name: "Good Friday",
    firstYear: 1908, // closed every year since (not a federal holiday; an exchange holiday)
    lastYear: null,
    date: easterOffset(-2),
    observance: "none",
  },
  {
    name: "Memorial Day",
    firstYear: 1971, // last Monday of May since the Uniform Monday Holiday Act
    lastYear: null,
    date: nthWeekday(5, MON, -1),
    observance: "none",
  },
  {
    name: "Juneteenth National Independence Day",
    firstYear: 2022, // federal holiday from 2021, but the NYSE first closed for it in 2022
    lastYear: null,
    date: fixedDate(6, 19),
    observance: "nearest_weekday",
  },
  {
    name: "Independence Day",
    firstYear: 1954,
    lastYear: null,
    date: fixedDate(7, 4),
    observance: "nearest_weekday",
  },
  {
    name: "Labor Day",
    firstYear: 1887,
    lastYear: null,
    date: nthWeekday(9, MON, 1),
    observance: "none",
  },
  {
    name: "Thanksgiving Day",
    firstYear: 1942, // fourth Thursday of November by federal law since 1942
    lastYear: null,
    date: thanksgiving,
    observance: "none",
  },
  {
    name: "Christmas Day",
    firstYear: 1954,
    lastYear: null,
    date: fixedDate(12, 25),
    observance: "nearest_weekday",
  },
];

/** NYSE early closes (the close moves to 13:00, 14:00 before 1993). A holiday on the date wins. */
export const XNYS_EARLY_CLOSES: readonly EarlyCloseRule[] = [
  {
    name: "Day before Independence Day",
    // July 3rd on a Monday, Tuesday or Thursday (July 4th on a Tuesday, Wednesday or Friday).
    // A July 3rd Friday is the observed holiday; none when July 4th is a Saturday, Sunday or Monday.
    firstYear: 1995,
    lastYear: null,
    date: fixedDate(7, 3),
    weekdays: [MON, TUE, THU],
    close: "13:00",
  },
  {
    name: "Day before Independence Day",
    // July 4th on a Thursday: the Wednesday before closes early since 2013 (2013, 2019, 2024).
    firstYear: 2013,
    lastYear: null,
    date: fixedDate(7, 3),
    weekdays: [WED],
    close: "13:00",
  },
  {
    name: "Day after Independence Day",
    // July 4th on a Thursday: the Friday after closed early until 2012 (1996, 2002); since 2013
    // it is a full day.
    firstYear: 1996,
    lastYear: 2012,
    date: fixedDate(7, 5),
    weekdays: [FRI],
    close: "13:00",
  },
  {
    name: "Day after Thanksgiving",
    firstYear: 1992, // first shortened in 1992, at 14:00
    lastYear: 1992,
    date: shifted(thanksgiving, 1),
    close: "14:00",
  },
  {
    name: "Day after Thanksgiving",
    firstYear: 1993, // 13:00 since 1993
    lastYear: null,
    date: shifted(thanksgiving, 1),
    close: "13:00",
  },
  {
    name: "Christmas Eve",
    // December 24th Monday-Thursday; on a Friday it is the observed Christmas holiday.
    // 14:00 in 1990-1992 (none in the 1980s); 1993-1995 had no weekday Christmas Eve to shorten.
    firstYear: 1990,
    lastYear: 1992,
    date: fixedDate(12, 24),
    weekdays: [MON, TUE, WED, THU],
    close: "14:00",
  },
  {
    name: "Christmas Eve",
    firstYear: 1993,
    lastYear: null,
    date: fixedDate(12, 24),
    weekdays: [MON, TUE, WED, THU],
    close: "13:00",
  },
];

/** The XNYS calendar definition, 1990-2100. Regular hours 09:30-16:00 ET since 1985-09-30. */
export const XNYS_DEFINITION: CalendarDefinition = {
  code: "XNYS",
  name: "New York Stock Exchange",
  timezone: "America/New_York",
  firstYear: 1990,
  lastYear: 2100,
  weekdays: [MON, TUE, WED, THU, FRI],
  hours: [{ from: "1985-09-30", open: "09:30", close: "16:00" }],
  holidays: XNYS_HOLIDAYS,
  earlyCloses: XNYS_EARLY_CLOSES,
  specialDays: XNYS_SPECIAL_DAYS,
  dataVersion: SPECIAL_DAYS_DATA_VERSION,
};
