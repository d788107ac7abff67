/**
 * Alpaca's `/v2/calendar` against a core market calendar (XNYS): every date on which they
 * disagree, with the override that makes core's calendar agree where one exists. One-off
 * closures announced late (the national days of mourning of 2018 and 2025 are the classic case)
 * show up here first, and `applyCalendarDifferences` turns them into calendar overrides.
 */

import { localToInstant, type MarketCalendar, toLocal } from "@tradecron/core";
import type { AlpacaCalendarDay } from "./wire.js";

/** Alpaca's trading hours are New York wall times without an offset. */
const ALPACA_ZONE = "America/New_York";

/** Hours of one session as local 'HH:MM' times. */
export interface SessionHours {
  open: string;
  close: string;
}

/** One date on which Alpaca and the calendar disagree. */
export interface CalendarDifference {
  /** Local date 'YYYY-MM-DD'. */
  date: string;
  /**
   * - `alpaca_closed`: the calendar has a session, Alpaca does not (add a closure);
   * - `calendar_closed`: Alpaca trades, the calendar is closed (check the calendar's data);
   * - `hours_differ`: both trade, at different hours.
   */
  kind: "alpaca_closed" | "calendar_closed" | "hours_differ";
  alpaca: SessionHours | null;
  calendar: SessionHours | null;
  /** What makes the calendar agree, when an override can: a closure, an early close, a late open. */
  overrides: CalendarOverrideSuggestion[];
}

/** An override to apply with the calendar's `addClosure` / `addEarlyClose` / `addLateOpen`. */
export type CalendarOverrideSuggestion =
  | { kind: "closure"; date: string }
  | { kind: "early_close"; date: string; time: string }
  | { kind: "late_open"; date: string; time: string };

/** 'HH:MM' of an instant in `zone`. */
function localTime(zone: string, instant: Date): string {
  const d = new Date(toLocal(zone, instant.getTime()));
  return `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
}

/** Every date from `start` to `end`, both inclusive. */
function datesBetween(start: string, end: string): string[] {
  const dates: string[] = [];
  for (let t = Date.parse(`${start}T00:00:00Z`); t <= Date.parse(`${end}T00:00:00Z`); t += 86_400_000) {
    dates.push(new Date(t).toISOString().slice(0, 10));
  }
  return dates;
}

/**
 * The instant of Alpaca's local 'HH:MM' on `date` (New York time), for callers that need one.
 */
export function alpacaInstant(date: string, time: string): Date {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  const [hh, mm] = time.split(":").map(Number) as [number, number];
  return new Date(localToInstant(ALPACA_ZONE, Date.UTC(y, m - 1, d, hh, mm)));
}

/**
 * Compares Alpaca's trading days with `calendar` from `start` to `end` ('YYYY-MM-DD', both
 * inclusive, within the calendar's range). Pure: pass what `/v2/calendar` returned.
 */
export function diffCalendars(
  alpacaDays: readonly AlpacaCalendarDay[],
  calendar: MarketCalendar,
  start: string,
  end: string,
): CalendarDifference[] {
  const byDate = new Map(alpacaDays.map((d) => [d.date, d]));
  const differences: CalendarDifference[] = [];
  for (const date of datesBetween(start, end)) {
    const day = byDate.get(date);
    const session = calendar.session(date);
    const alpaca = day ? { open: day.open, close: day.close } : null;
    const mine = session
      ? {
          open: localTime(calendar.timezone, session.open),
          close: localTime(calendar.timezone, session.close),
        }
      : null;
    if (!alpaca && !mine) continue;
    if (alpaca && mine && alpaca.open === mine.open && alpaca.close === mine.close) continue;
    const overrides: CalendarOverrideSuggestion[] = [];
    let kind: CalendarDifference["kind"];
    if (!alpaca) {
      kind = "alpaca_closed";
      overrides.push({ kind: "closure", date });
    } else if (!mine) {
      kind = "calendar_closed";
    } else {
      kind = "hours_differ";
      if (alpaca.open > mine.open) overrides.push({ kind: "late_open", date, time: alpaca.open });
      if (alpaca.close < mine.close) overrides.push({ kind: "early_close", date, time: alpaca.close });
    }
    differences.push({ date, kind, alpaca, calendar: mine, overrides });
  }
  return differences;
}

/** Applies every suggested override to `calendar`; returns how many were applied. */
export function applyCalendarDifferences(
  calendar: MarketCalendar,
  differences: readonly CalendarDifference[],
  reason = "Alpaca calendar",
): number {
  let applied = 0;
  for (const difference of differences) {
    for (const o of difference.overrides) {
      if (o.kind === "closure") calendar.addClosure(o.date, reason);
      else if (o.kind === "early_close") calendar.addEarlyClose(o.date, o.time, reason);
      else calendar.addLateOpen(o.date, o.time, reason);
      applied++;
    }
  }
  return applied;
}
