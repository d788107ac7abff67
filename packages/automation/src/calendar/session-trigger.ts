/**
 * The core triggers a recipe's schedule uses. A cadence recipe fires once per session at a time
 * relative to that day's open or close (a market trigger: 10:00 ET is 14:00 or 15:00 UTC by the
 * season, and "30 minutes before the close" is 12:30 on an early-close day), or at a fixed local
 * time (a cron in the calendar's zone, skipped by `marketHoursOnly` when it falls outside that
 * day's session). A loop fires every N seconds or minutes inside the calendar's trading hours: a
 * cron over those hours, so a year of 60-second checks is a few hundred thousand fires instead of
 * half a million, most of which would only be recorded as skipped.
 */

import { getCalendar, localToInstant, type MarketCalendar, type ScheduleInput } from "@tradecron/core";
import { z } from "zod";
import { addDays, localClock, localDate, weekdayOf } from "./dates.js";

/** When in a session a cadence recipe fires: relative to the open or close, or a local 'HH:MM'. */
export type SessionTimeInput = { event: "open" | "close"; offsetMinutes?: number } | string;

/** zod schema of {@link SessionTimeInput}; the default is 30 minutes after the open. */
export const sessionTimeInput = z
  .union([
    z.strictObject({
      event: z.enum(["open", "close"]),
      offsetMinutes: z.number().int().min(-1440).max(1440).default(0),
    }),
    z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be a local time 'HH:MM' or { event, offsetMinutes }"),
  ])
  .default({ event: "open", offsetMinutes: 30 });

/** The trigger and market fields of a schedule firing at `time` on every session of `calendar`. */
export function sessionTimeSchedule(
  time: z.output<typeof sessionTimeInput>,
  calendar: string,
): Pick<ScheduleInput, "trigger" | "marketHoursOnly" | "calendar"> {
  if (typeof time !== "string") {
    return {
      trigger: { calendar, event: time.event, offsetMinutes: time.offsetMinutes },
      // The market trigger only fires on sessions; an offset outside the session is the user's choice.
      marketHoursOnly: false,
      calendar,
    };
  }
  const [hour, minute] = time.split(":").map(Number);
  const cal = getCalendar(calendar);
  return {
    trigger: { cron: `${minute} ${hour} * * 1-5`, timezone: cal.timezone },
    marketHoursOnly: true,
    calendar,
  };
}

const SECOND_STEPS = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30];

/**
 * The local hours [first, last] that hold any part of a session of `cal` in the coming weeks, and
 * the cron weekday field of those sessions, or null when there is no session to look at.
 */
export function sessionHours(
  cal: MarketCalendar,
  now: number,
): { first: number; last: number; weekdays: string } | null {
  const today = localDate(cal.timezone, now);
  // Dates compare as strings: the later of today and the first date, the earlier of +45 days and the last.
  const from = [today, cal.firstDate].sort()[1] as string;
  const to = [addDays(from, 45), cal.lastDate].sort()[0] as string;
  if (from > to) return null;
  const sessions = cal.sessionsBetween(from, to);
  if (sessions.length === 0) return null;
  let first = 23;
  let last = 0;
  let weekend = false;
  for (const s of sessions) {
    const wd = weekdayOf(s.date);
    if (wd === 0 || wd === 6) weekend = true;
    const open = localClock(cal.timezone, s.open.getTime());
    const close = localClock(cal.timezone, s.close.getTime());
    first = Math.min(first, open.hour);
    last = Math.max(last, close.minute > 0 ? close.hour : close.hour - 1);
  }
  // Cron fires on weekend days would only be recorded as skipped, unless the market trades then.
  return first <= last ? { first, last, weekdays: weekend ? "*" : "1-5" } : null;
}

/**
 * The trigger of a loop that checks every `everyMs` while `calendar` is in session: a cron over
 * the session hours when the step divides a minute or an hour (fires before the open and after
 * the close inside those hours are skipped by `marketHoursOnly`, recorded as `market_closed`), an
 * interval otherwise.
 */
export function sessionIntervalSchedule(
  everyMs: number,
  calendar: string,
  now: number,
): Pick<ScheduleInput, "trigger" | "marketHoursOnly" | "calendar"> {
  const cal = getCalendar(calendar);
  const hours = sessionHours(cal, now);
  const market = { marketHoursOnly: true, calendar };
  if (hours !== null) {
    const h = `${hours.first}-${hours.last}`;
    const seconds = everyMs / 1000;
    if (SECOND_STEPS.includes(seconds)) {
      return {
        trigger: { cron: `*/${seconds} * ${h} * * ${hours.weekdays}`, timezone: cal.timezone },
        ...market,
      };
    }
    const minutes = everyMs / 60_000;
    if (SECOND_STEPS.includes(minutes)) {
      return {
        trigger: { cron: `0 */${minutes} ${h} * * ${hours.weekdays}`, timezone: cal.timezone },
        ...market,
      };
    }
  }
  return { trigger: { every: everyMs }, ...market };
}

/** The instant a recipe firing at `time` fires on session `date` of `cal` (null when not a session). */
export function fireInstantOn(
  time: z.output<typeof sessionTimeInput>,
  cal: MarketCalendar,
  date: string,
): number | null {
  const session = cal.session(date);
  if (!session) return null;
  if (typeof time !== "string") {
    return (time.event === "open" ? session.open : session.close).getTime() + time.offsetMinutes * 60_000;
  }
  const [hour, minute] = time.split(":").map(Number);
  const local = Date.parse(`${date}T00:00:00Z`) + ((hour as number) * 60 + (minute as number)) * 60_000;
  return localToInstant(cal.timezone, local);
}
