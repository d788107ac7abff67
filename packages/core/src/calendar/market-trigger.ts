/**
 * Market-relative trigger: N minutes after the open or before the close of each session of a
 * calendar, optionally only on chosen weekdays or on the first/last session of the week or month
 * (the model is QuantConnect LEAN's DateRules x TimeRules). Fires use that day's real open and
 * close, so "30 minutes before the close" is 12:30 ET on a 13:00 early-close day, and holidays
 * simply have no fire.
 */

import { z } from "zod";
import { toLocal } from "../time/zone.js";
import type { Trigger } from "../triggers/trigger.js";
import { addIssue, parseInput } from "../validation.js";
import { invalid } from "./calendar-input.js";
import { DAY_MS, formatDay, parseDay, partsOf, weekdayOf, weekStartOf } from "./civil-date.js";
import type { MarketCalendar, Session } from "./market-calendar.js";
import { getCalendar, hasCalendar } from "./registry.js";

const COMPONENT = "market trigger";
const MINUTE_MS = 60_000;
/** Offsets are bounded to a day either way: further than that is a different session's event. */
const MAX_OFFSET_MINUTES = 1440;

/** Which sessions fire. Weeks run Monday to Sunday; months are the session's local month. */
export type MarketDayRule =
  | "every_session"
  | "first_of_week"
  | "last_of_week"
  | "first_of_month"
  | "last_of_month";

/** A market-relative trigger in canonical (stored) form. */
export interface MarketTriggerSpec {
  type: "market";
  /** Calendar code (upper case), e.g. XNYS. */
  calendar: string;
  /** The session event the offset is measured from. */
  event: "open" | "close";
  /** Minutes after the event; negative for before ("30 minutes before the close" = -30). */
  offsetMinutes: number;
  /** Weekdays (0 = Sunday) of the session date that fire, or "every". */
  days: "every" | number[];
  /** Which sessions fire, combined with `days` (both must hold). */
  rule: MarketDayRule;
}

/** Input form of {@link MarketTriggerSpec}: `type`, `offsetMinutes`, `days` and `rule` may be omitted. */
export interface MarketTriggerInput {
  type?: "market";
  calendar: string;
  event: "open" | "close";
  /** Default 0. */
  offsetMinutes?: number;
  /** Default "every". */
  days?: "every" | readonly number[];
  /** Default "every_session". */
  rule?: MarketDayRule;
}

/**
 * The zod schema of a market-relative trigger spec, for the schedule's trigger union. Strict: an
 * unknown key is an error. The calendar must be registered when the spec is parsed.
 */
export const marketTriggerSpecSchema = z.strictObject({
  type: z.literal("market"),
  calendar: z
    .string({ error: "expected a calendar code such as XNYS" })
    .trim()
    .transform((value) => value.toUpperCase())
    .superRefine((value, ctx) => {
      if (!hasCalendar(value)) addIssue(ctx, "UNKNOWN_CALENDAR", `unknown calendar '${value}'`);
    }),
  event: z.enum(["open", "close"], { error: "event must be 'open' or 'close'" }),
  offsetMinutes: z
    .number({ error: "expected a whole number of minutes (negative for before the event)" })
    .int({ error: "expected a whole number of minutes (negative for before the event)" })
    .min(-MAX_OFFSET_MINUTES, { error: `must be at least -${MAX_OFFSET_MINUTES} minutes` })
    .max(MAX_OFFSET_MINUTES, { error: `must be at most ${MAX_OFFSET_MINUTES} minutes` })
    .default(0),
  days: z
    .union(
      [
        z.literal("every"),
        z
          .array(z.number().int().min(0).max(6))
          .min(1)
          .transform((days) => [...new Set(days)].sort((a, b) => a - b)),
      ],
      { error: "expected 'every' or a non-empty list of weekday numbers 0-6 (0 = Sunday)" },
    )
    .default("every"),
  rule: z
    .enum(["every_session", "first_of_week", "last_of_week", "first_of_month", "last_of_month"])
    .default("every_session"),
});

/**
 * Compiles a market-relative trigger. `calendar` defaults to the registered calendar named by the
 * spec. `next(after)` returns the first fire strictly after `after`, or null past the calendar's
 * last date; asked about an instant before the calendar's first date, it starts from that date.
 * A fire can fall outside its session when the offset is longer than the session.
 */
export function marketTrigger(
  spec: MarketTriggerInput | MarketTriggerSpec,
  calendar?: MarketCalendar,
): Trigger {
  const parsed = parseInput(marketTriggerSpecSchema, { type: "market", ...spec }, COMPONENT);
  const cal = calendar ?? getCalendar(parsed.calendar);
  const offset = parsed.offsetMinutes * MINUTE_MS;
  const firstDay = parseDay(cal.firstDate) as number;
  const lastDay = parseDay(cal.lastDate) as number;
  const eventOf = (s: Session) => (parsed.event === "open" ? s.open : s.close).getTime();
  const dayOfSession = (s: Session) => parseDay(s.date) as number;

  const selected = (s: Session): boolean => {
    const day = dayOfSession(s);
    if (parsed.days !== "every" && !parsed.days.includes(weekdayOf(day))) return false;
    switch (parsed.rule) {
      case "every_session":
        return true;
      case "first_of_week": {
        const prev = cal.previousSession(s.date);
        return prev === null || weekStartOf(dayOfSession(prev)) !== weekStartOf(day);
      }
      case "last_of_week": {
        const next = cal.nextSession(s.date);
        return next === null || weekStartOf(dayOfSession(next)) !== weekStartOf(day);
      }
      case "first_of_month": {
        const prev = cal.previousSession(s.date);
        return prev === null || !sameMonth(dayOfSession(prev), day);
      }
      case "last_of_month": {
        const next = cal.nextSession(s.date);
        return next === null || !sameMonth(dayOfSession(next), day);
      }
    }
  };

  /** The first session whose event is strictly after `t`. */
  const firstSessionAfter = (t: number): Session | null => {
    const localDay = Math.floor(toLocal(cal.timezone, t) / DAY_MS);
    if (localDay > lastDay) return null;
    const date = formatDay(Math.max(localDay, firstDay));
    let s = cal.session(date);
    if (s === null || eventOf(s) <= t) s = cal.nextSession(date);
    while (s !== null && eventOf(s) <= t) s = cal.nextSession(s.date);
    return s;
  };

  return {
    next(after: number): number | null {
      if (typeof after !== "number" || !Number.isFinite(after)) {
        throw invalid("after", `expected epoch milliseconds, got ${String(after)}`, COMPONENT);
      }
      for (let s = firstSessionAfter(after - offset); s !== null; s = cal.nextSession(s.date)) {
        if (selected(s)) return eventOf(s) + offset;
      }
      return null;
    },
  };
}

function sameMonth(a: number, b: number): boolean {
  const pa = partsOf(a);
  const pb = partsOf(b);
  return pa.year === pb.year && pa.month === pb.month;
}
