/**
 * Recurring holiday and early-close rules: each has a name, the years it is in force, a date
 * function and (for holidays) an observance that says what happens when the date is not a trading
 * weekday. Rules are data plus small pure date functions, so a calendar is computed for any year
 * without a downloaded table.
 */

import { dayOf, nthWeekdayOf, parseDay, weekdayOf } from "./civil-date.js";
import { easterSunday } from "./easter.js";

/** The nominal date of a rule in a year, as an epoch day, or null when it has none that year. */
export type DateRule = (year: number) => number | null;

/**
 * What happens to a holiday whose date is not a trading weekday.
 * - `none`: nothing; a weekend holiday is simply lost.
 * - `sunday_to_monday`: a Sunday holiday is observed the Monday after; a Saturday one is lost
 *   (NYSE New Year's Day, NYSE Rule 7.2: no Friday closure at the end of an accounting period).
 * - `nearest_weekday`: Saturday is observed the Friday before, Sunday the Monday after (US federal).
 * - `next_free_weekday`: observed on the next trading weekday that is not already a holiday (UK
 *   "substitute day": Christmas on a Saturday moves to Monday, Boxing Day then to Tuesday).
 */
export type Observance = "none" | "sunday_to_monday" | "nearest_weekday" | "next_free_weekday";

/** A recurring full-day closure. */
export interface HolidayRule {
  /** Human name, reported as the reason a day is closed. */
  readonly name: string;
  /** First year the rule is in force. */
  readonly firstYear: number;
  /** Last year the rule is in force, or null while it still is. */
  readonly lastYear: number | null;
  /** The nominal date in a year. */
  readonly date: DateRule;
  /** How a nominal date that is not a trading weekday is observed. */
  readonly observance: Observance;
  /**
   * Years in which the holiday was moved by proclamation: year -> 'YYYY-MM-DD'. A moved date is
   * taken as given (no observance), e.g. the UK Early May bank holiday on VE Day 1995 and 2020.
   */
  readonly moved?: Readonly<Record<number, string>>;
  /** Where the rule comes from and why its years are what they are. */
  readonly source?: string;
}

/** A recurring shortened session (the close moves earlier). */
export interface EarlyCloseRule {
  /** Human name, reported as the reason the session is short. */
  readonly name: string;
  /** First year the rule is in force. */
  readonly firstYear: number;
  /** Last year the rule is in force, or null while it still is. */
  readonly lastYear: number | null;
  /** The candidate date in a year. */
  readonly date: DateRule;
  /** The rule applies only when the date falls on one of these weekdays (0 = Sunday); all if absent. */
  readonly weekdays?: readonly number[];
  /** Local close time 'HH:MM' on that day. */
  readonly close: string;
  /** Where the rule comes from. */
  readonly source?: string;
}

/** Month (1-12) and day, every year. */
export function fixedDate(month: number, day: number): DateRule {
  return (year) => dayOf(year, month, day);
}

/** The `n`-th weekday (0 = Sunday) of a month; n = -1 is the last one. */
export function nthWeekday(month: number, weekday: number, n: number): DateRule {
  return (year) => nthWeekdayOf(year, month, weekday, n);
}

/** Easter Sunday plus `offset` days (Good Friday = -2, Easter Monday = +1). */
export function easterOffset(offset: number): DateRule {
  return (year) => easterSunday(year) + offset;
}

/** Another rule's date shifted by `days` (the day after Thanksgiving = 4th Thursday + 1). */
export function shifted(rule: DateRule, days: number): DateRule {
  return (year) => {
    const day = rule(year);
    return day === null ? null : day + days;
  };
}

/** Month/day if it is Monday-Friday, else the Friday before (the last weekday on or before it). */
export function weekdayOnOrBefore(month: number, day: number): DateRule {
  return (year) => {
    const d = dayOf(year, month, day);
    const w = weekdayOf(d);
    return w === 6 ? d - 1 : w === 0 ? d - 2 : d;
  };
}

/** True if the rule is in force in `year`. */
export function inForce(rule: { firstYear: number; lastYear: number | null }, year: number): boolean {
  return year >= rule.firstYear && (rule.lastYear === null || year <= rule.lastYear);
}

/**
 * The observed holidays produced by the rules of one rule-year: epoch day -> name. Observance can
 * move a date into the adjacent year (a Saturday January 1st observed on Friday December 31st), so
 * callers collect the neighbouring rule-years too and keep the days they need.
 *
 * Unshifted dates are placed first and substitutes after, in rule order, so a substitute never
 * lands on a day that is already a holiday in its own right (UK: Christmas on a Sunday moves to
 * Tuesday because Monday is Boxing Day).
 */
export function observedHolidays(
  rules: readonly HolidayRule[],
  year: number,
  isTradingWeekday: (weekday: number) => boolean,
): Map<number, string> {
  const out = new Map<number, string>();
  const pending: { day: number; rule: HolidayRule }[] = [];
  const add = (day: number, name: string) => {
    if (!out.has(day)) out.set(day, name);
  };
  for (const rule of rules) {
    if (!inForce(rule, year)) continue;
    const moved = rule.moved?.[year];
    if (moved !== undefined) {
      const day = parseDay(moved);
      if (day !== null) add(day, `${rule.name} (moved)`);
      continue;
    }
    const day = rule.date(year);
    if (day === null) continue;
    if (isTradingWeekday(weekdayOf(day))) add(day, rule.name);
    else pending.push({ day, rule });
  }
  for (const { day, rule } of pending) {
    const w = weekdayOf(day);
    const name = `${rule.name} (observed)`;
    switch (rule.observance) {
      case "none":
        break;
      case "sunday_to_monday":
        if (w === 0) add(day + 1, name);
        break;
      case "nearest_weekday":
        if (w === 6) add(day - 1, name);
        else if (w === 0) add(day + 1, name);
        break;
      case "next_free_weekday": {
        let d = day + 1;
        // A week always holds a trading weekday unless the calendar has none, which validation forbids.
        for (let i = 0; i < 14 && (!isTradingWeekday(weekdayOf(d)) || out.has(d)); i++) d++;
        add(d, name);
        break;
      }
    }
  }
  return out;
}

/** The early closes the rules produce in `year`: epoch day -> { close 'HH:MM', name }. */
export function ruleEarlyCloses(
  rules: readonly EarlyCloseRule[],
  year: number,
): Map<number, { close: string; name: string }> {
  const out = new Map<number, { close: string; name: string }>();
  for (const rule of rules) {
    if (!inForce(rule, year)) continue;
    const day = rule.date(year);
    if (day === null) continue;
    if (rule.weekdays && !rule.weekdays.includes(weekdayOf(day))) continue;
    if (!out.has(day)) out.set(day, { close: rule.close, name: rule.name });
  }
  return out;
}
