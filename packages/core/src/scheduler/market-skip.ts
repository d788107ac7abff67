/**
 * Whether the market lets a `marketHoursOnly` fire run: a pure function of (schedule, instant)
 * and the schedule's calendar, shared by the dispatcher (a fire due now) and the preview.
 */

import { getCalendar } from "../calendar/registry.js";
import type { SkipReason } from "../events.js";
import type { JsonValue, ScheduleRecord } from "../storage/records.js";
import { toLocal } from "../time/zone.js";

function formatLocalDate(local: number): string {
  return new Date(local).toISOString().slice(0, 10);
}

/** Why `record` would not run at `at` because of the market (null: it would). */
export function marketSkip(
  record: ScheduleRecord,
  at: number,
): { reason: SkipReason; details: JsonValue } | null {
  if (!record.marketHoursOnly) return null;
  const calendar = getCalendar(record.calendar);
  if (calendar.isOpen(at)) return null;
  const day = calendar.dayInfo(formatLocalDate(toLocal(calendar.timezone, at)));
  return {
    reason: "market_closed",
    details: {
      calendar: calendar.code,
      date: day.date,
      why: day.reason ?? (day.session ? "outside session hours" : "no session"),
    },
  };
}
