/**
 * GAP (move into core): `Scheduler.preview` says a fire is skipped with `market_closed` but not
 * why. The API adds the holiday, early close or session hours behind it (from the calendar's
 * `dayInfo`), and the next fire a paused schedule would run once resumed. Core version: a
 * `skipDetail` on `PreviewFire` and a `nextFireOnceResumedAt` on `ScheduleStatus`.
 */

import { compileTrigger, getCalendar, nextFires, type ScheduleRecord, toLocal } from "@tradecron/core";

const localDate = (local: number) => new Date(local).toISOString().slice(0, 10);
const localTime = (local: number) => new Date(local).toISOString().slice(11, 16);

/**
 * Why `record` would be outside market hours at `at` ("Good Friday", "weekend", "early close at
 * 13:00 (Christmas Eve)", "outside market hours 09:30-16:00"), or null when it is not market-bound
 * or the market is open then.
 */
export function marketSkipDetail(record: ScheduleRecord, at: number): string | null {
  if (!record.marketHoursOnly) return null;
  const calendar = getCalendar(record.calendar ?? "XNYS");
  if (calendar.isOpen(at)) return null;
  const zone = calendar.timezone;
  const day = calendar.dayInfo(localDate(toLocal(zone, at)));
  const session = day.session;
  if (!session) return day.reason ?? "market closed";
  const open = localTime(toLocal(zone, session.open.getTime()));
  const close = localTime(toLocal(zone, session.close.getTime()));
  const why = day.reason ? ` (${day.reason})` : "";
  if (session.earlyClose && at >= session.close.getTime()) return `early close at ${close}${why}`;
  if (session.lateOpen && at < session.open.getTime()) return `late open at ${open}${why}`;
  return `outside market hours ${open}-${close} ${calendar.code}`;
}

/** Fires looked at when searching for the next fire a paused schedule would run. */
const LOOKAHEAD = 500;

/**
 * The first fire after `now` that `record` would run if it were not paused (market hours
 * respected), or null when it is not paused or never fires again.
 */
export function nextFireOnceResumed(record: ScheduleRecord, now: number, pausedAll: boolean): number | null {
  if (!record.paused && !pausedAll) return null;
  if (!record.enabled) return null;
  let trigger: ReturnType<typeof compileTrigger>;
  try {
    trigger = compileTrigger(record.trigger, record.id);
  } catch {
    return null;
  }
  for (const at of nextFires(trigger, now, LOOKAHEAD)) {
    if (marketSkipDetail(record, at) === null) return at;
  }
  return null;
}
