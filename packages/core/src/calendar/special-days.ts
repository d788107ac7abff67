/**
 * One-off days that no recurring rule produces: closures (days of mourning, 9/11, storms, royal
 * events) and irregular hours (late opens, unscheduled early closes). The table is versioned by
 * {@link SPECIAL_DAYS_DATA_VERSION}: bump it whenever an entry is added or corrected, so a user can
 * tell which data a calendar answered from.
 *
 * Main sources:
 * - NYSE: "NYSE closings" history (Stocks.NYSE-Closings.pdf, the reference used by
 *   pandas_market_calendars) through 2011; NYSE/ICE press releases after it.
 * - XLON: UK bank holiday proclamations (gov.uk "UK bank holidays"); the LSE follows England and
 *   Wales bank holidays.
 */

/** A day that differs from what the rules say. Explicit data wins over rules. */
export type SpecialDay =
  | {
      /** 'YYYY-MM-DD' local date. */
      readonly date: string;
      /** The exchange was (or will be) closed all day. */
      readonly kind: "closed";
      /** Why, reported by the calendar. */
      readonly reason: string;
    }
  | {
      /** 'YYYY-MM-DD' local date. */
      readonly date: string;
      /** The exchange traded with irregular hours. */
      readonly kind: "hours";
      /** Local open 'HH:MM' if it differs from the regular open (a late open). */
      readonly open?: string;
      /** Local close 'HH:MM' if it differs from the regular close (an early close). */
      readonly close?: string;
      /** Why, reported by the calendar. */
      readonly reason: string;
    };

/** Version of the one-off tables below: 'YYYY.N', N counting revisions within the year. */
export const SPECIAL_DAYS_DATA_VERSION = "2026.2";

/** NYSE one-off closures and irregular hours since 1990 (NASDAQ closed on the same days). */
export const XNYS_SPECIAL_DAYS: readonly SpecialDay[] = [
  // The history lists this as "Late Open 11am ... explosion of Con Edison transformer"; the
  // pandas_market_calendars code files it under a 9:31 open. We follow the history's text.
  { date: "1990-12-27", kind: "hours", open: "11:00", reason: "Late open: Con Edison transformer explosion" },
  {
    date: "1991-01-17",
    kind: "hours",
    open: "09:31",
    reason: "Late open: moment of silence for troops in the Gulf",
  },
  {
    date: "1991-02-25",
    kind: "hours",
    open: "09:31",
    reason: "Late open: moment of silence for troops in the Gulf",
  },
  { date: "1994-02-11", kind: "hours", close: "14:30", reason: "Early close: snowstorm" },
  { date: "1994-04-27", kind: "closed", reason: "National Day of Mourning for President Richard Nixon" },
  { date: "1995-12-18", kind: "hours", open: "10:30", reason: "Late open: computer system troubles" },
  {
    date: "1996-01-08",
    kind: "hours",
    open: "11:00",
    close: "14:00",
    reason: "Blizzard: late open, early close",
  },
  { date: "1997-10-27", kind: "hours", close: "15:30", reason: "Early close: market-wide circuit breaker" },
  // Friday after a Thursday Christmas: a 13:00 close in 1997 and 2003 only. 2008-12-26, 2014-12-26
  // and 2025-12-26 were full days, so this is data, not a rule.
  { date: "1997-12-26", kind: "hours", close: "13:00", reason: "Early close: Friday after Christmas" },
  // The NYSE board approved a 1 p.m. close for New Year's Eve 1999 (Y2K); press coverage of the
  // decision and exchange_calendars' special closes agree. The closings history does not list it.
  { date: "1999-12-31", kind: "hours", close: "13:00", reason: "Early close: New Year's Eve 1999 (Y2K)" },
  { date: "2001-09-11", kind: "closed", reason: "September 11 attacks" },
  { date: "2001-09-12", kind: "closed", reason: "September 11 attacks" },
  { date: "2001-09-13", kind: "closed", reason: "September 11 attacks" },
  { date: "2001-09-14", kind: "closed", reason: "September 11 attacks" },
  { date: "2001-09-17", kind: "hours", open: "09:33", reason: "Late open: two minutes of silence for 9/11" },
  {
    date: "2001-10-08",
    kind: "hours",
    open: "09:31",
    reason: "Late open: moment of silence (Enduring Freedom)",
  },
  { date: "2002-09-11", kind: "hours", open: "12:00", reason: "Late open: first anniversary of 9/11" },
  {
    date: "2003-03-20",
    kind: "hours",
    open: "09:32",
    reason: "Late open: moment of silence (Iraqi Freedom)",
  },
  { date: "2003-12-26", kind: "hours", close: "13:00", reason: "Early close: Friday after Christmas" },
  {
    date: "2004-06-07",
    kind: "hours",
    open: "09:32",
    reason: "Late open: moment of silence for President Reagan",
  },
  { date: "2004-06-11", kind: "closed", reason: "National Day of Mourning for President Ronald Reagan" },
  { date: "2005-06-01", kind: "hours", close: "15:56", reason: "Early close: systems communication problem" },
  {
    date: "2006-12-27",
    kind: "hours",
    open: "09:32",
    reason: "Late open: moment of silence for President Ford",
  },
  { date: "2007-01-02", kind: "closed", reason: "National Day of Mourning for President Gerald Ford" },
  { date: "2012-10-29", kind: "closed", reason: "Hurricane Sandy" },
  { date: "2012-10-30", kind: "closed", reason: "Hurricane Sandy" },
  { date: "2018-12-05", kind: "closed", reason: "National Day of Mourning for President George H. W. Bush" },
  { date: "2025-01-09", kind: "closed", reason: "National Day of Mourning for President Jimmy Carter" },
];

/**
 * London Stock Exchange one-off closures since 1990: extra bank holidays proclaimed for royal and
 * national events. Bank holidays that were *moved* (VE Day, the jubilees) live on their rule in
 * xlon.ts; only the additional days are here.
 */
export const XLON_SPECIAL_DAYS: readonly SpecialDay[] = [
  { date: "1999-12-31", kind: "closed", reason: "Millennium bank holiday" },
  { date: "2002-06-03", kind: "closed", reason: "Golden Jubilee of Queen Elizabeth II" },
  { date: "2011-04-29", kind: "closed", reason: "Wedding of Prince William and Catherine Middleton" },
  { date: "2012-06-05", kind: "closed", reason: "Diamond Jubilee of Queen Elizabeth II" },
  { date: "2022-06-03", kind: "closed", reason: "Platinum Jubilee of Queen Elizabeth II" },
  { date: "2022-09-19", kind: "closed", reason: "State funeral of Queen Elizabeth II" },
  { date: "2023-05-08", kind: "closed", reason: "Coronation of King Charles III" },
];
