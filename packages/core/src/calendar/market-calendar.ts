/**
 * The market calendar contract: which local dates are sessions, when each opens and closes, and
 * run-time overrides for closures announced after the data was published. Dates are local
 * 'YYYY-MM-DD' strings in the calendar's zone; instants are UTC.
 */

import type { InstantInput } from "../validation.js";

/** One trading session. */
export interface Session {
  /** Local date 'YYYY-MM-DD' in the calendar's zone. */
  readonly date: string;
  /** The open instant (trading is open from here, inclusive). */
  readonly open: Date;
  /** The close instant (trading is closed from here, exclusive). */
  readonly close: Date;
  /** True if the session closes before the regular close of its era (half day, override, ...). */
  readonly earlyClose: boolean;
  /** True if the session opens after the regular open of its era. */
  readonly lateOpen: boolean;
}

/** Why a date is or is not a session, for logs and for "skipped because" records. */
export interface DayInfo {
  /** Local date 'YYYY-MM-DD'. */
  readonly date: string;
  /** 0 = Sunday ... 6 = Saturday. */
  readonly weekday: number;
  /** The session on that date, or null when the market is closed all day. */
  readonly session: Session | null;
  /**
   * Why the day differs from a regular session: the holiday or closure ("Good Friday",
   * "Hurricane Sandy", "weekend"), or the reason for an early close or late open; null on a
   * regular session.
   */
  readonly reason: string | null;
}

/** A run-time change to one date, made with the calendar's add* methods. */
export interface CalendarOverride {
  /** Local date 'YYYY-MM-DD'. */
  readonly date: string;
  /** Closed all day, closing early, or opening late. */
  readonly kind: "closure" | "early_close" | "late_open";
  /** The new local close (early_close) or open (late_open) 'HH:MM'. */
  readonly time?: string;
  /** Why, as given. */
  readonly reason: string;
}

/** A market calendar. Every method validates its input and throws a ValidationError naming the field. */
export interface MarketCalendar {
  /** Registered code (XNYS, XLON, ...). */
  readonly code: string;
  /** Human name. */
  readonly name: string;
  /** IANA zone of the exchange; dates and hours are local to it. */
  readonly timezone: string;
  /** Version of the rules and one-off table the answers come from. */
  readonly dataVersion: string;
  /** First local date the calendar answers for. */
  readonly firstDate: string;
  /** Last local date the calendar answers for. */
  readonly lastDate: string;

  /** True if `date` has a session. */
  isSession(date: string): boolean;
  /** True if the market is in a session at `instant` (open inclusive, close exclusive). */
  isOpen(instant: InstantInput): boolean;
  /** The session on `date`, or null if the market is closed that day. */
  session(date: string): Session | null;
  /** Every session from `from` to `to`, both inclusive, in order. */
  sessionsBetween(from: string, to: string): Session[];
  /** The first open strictly after `after`, or null past the calendar's last date. */
  nextOpen(after: InstantInput): Date | null;
  /** The first close strictly after `after` (the current session's, when open), or null. */
  nextClose(after: InstantInput): Date | null;
  /** The last session strictly before `date`, or null before the calendar's first date. */
  previousSession(date: string): Session | null;
  /** The first session strictly after `date`, or null past the calendar's last date. */
  nextSession(date: string): Session | null;
  /**
   * Trading-day arithmetic: the date `n` sessions after `date` (n > 0) or before it (n < 0),
   * counting sessions strictly after (before) `date`; `n = 0` returns `date`, which must then be a
   * session. Null when the answer is outside the calendar's range.
   */
  addSessions(date: string, n: number): string | null;
  /** The session (if any) and the reason a date differs from a regular session. */
  dayInfo(date: string): DayInfo;

  /** Closes the market all day on a date that would otherwise be a session (an unscheduled closure). */
  addClosure(date: string, reason: string): void;
  /** Moves a session's close earlier, to local `closeTime` 'HH:MM'. */
  addEarlyClose(date: string, closeTime: string, reason: string): void;
  /** Moves a session's open later, to local `openTime` 'HH:MM'. */
  addLateOpen(date: string, openTime: string, reason: string): void;
  /** Removes every override on `date`; false if there was none. */
  removeOverride(date: string): boolean;
  /** The overrides in force, by date. */
  overrides(): CalendarOverride[];
}
