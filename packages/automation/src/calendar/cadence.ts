/**
 * Cadences on trading days, as pure functions of (cadence, calendar, date): every session, weekly
 * on a weekday, monthly on a day of the month or on the n-th trading day, optionally every k-th
 * week or month from a start date. A nominal day that is not a session rolls to the next session,
 * the previous one, either of them without leaving the month ("modified following/preceding", the
 * business-day conventions of finance), or is skipped. The planner answers the questions a rule
 * needs: the next execution date (seed 001's `next_execution_date`), every execution in a window,
 * and which period is due on a given session given the last one executed.
 *
 * Periods: a session (`every: "day"`), an ISO week keyed by its Monday, a month keyed 'YYYY-MM'.
 * Each period executes at most once; its key is what a recipe's state remembers.
 */

import type { MarketCalendar } from "@tradecron/core";
import { z } from "zod";
import { addIssue, dateInput, parseConfig } from "../validation.js";
import { addDays, dateOf, dayOf, daysInMonth, formatDate, mondayOf, monthOf, weekdayOf } from "./dates.js";

/** What happens to a nominal day that is not a session. */
export type RollConvention = "next" | "previous" | "modified_following" | "modified_preceding" | "skip";

/** Weekday names accepted where a weekday number (0 = Sunday) is. */
const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"] as const;

/** A weekday: 0 (Sunday) to 6 (Saturday), or its English name. */
export type WeekdayInput = number | (typeof WEEKDAYS)[number];

/** A cadence as accepted by the recipes. */
export type CadenceInput =
  | "daily"
  | { every: "day"; start?: string; end?: string }
  | {
      every: "week";
      /** 1 = Monday (default), or a name. */
      weekday?: WeekdayInput;
      /** Every `interval`-th week, counted from the week of `start` (default 1). */
      interval?: number;
      roll?: RollConvention;
      /** First date an execution may be nominally due (required when `interval` > 1). */
      start?: string;
      /** Last date an execution may be nominally due. */
      end?: string;
    }
  | {
      every: "month";
      /** Day of the month 1-31, clamped to the month's last day (31 is always the month end). */
      day: number;
      interval?: number;
      roll?: RollConvention;
      start?: string;
      end?: string;
    }
  | {
      every: "month";
      /** The n-th session of the month: 1 is the first, -1 the last. */
      tradingDay: number;
      interval?: number;
      start?: string;
      end?: string;
    };

/** A validated cadence. */
export type Cadence =
  | { kind: "day"; interval: 1; roll: "next"; start: string | null; end: string | null }
  | {
      kind: "week";
      weekday: number;
      interval: number;
      roll: RollConvention;
      start: string | null;
      end: string | null;
    }
  | {
      kind: "month_day";
      day: number;
      interval: number;
      roll: RollConvention;
      start: string | null;
      end: string | null;
    }
  | {
      kind: "month_session";
      tradingDay: number;
      interval: number;
      roll: "next";
      start: string | null;
      end: string | null;
    };

/** One execution of a cadence: the period it belongs to, the day the rule names, and the session it runs on. */
export interface CadenceExecution {
  /** The period key ('YYYY-MM-DD' session, Monday 'YYYY-MM-DD' of a week, or 'YYYY-MM'). */
  period: string;
  /** The day the rule names before rolling (the 15th, the Monday; for trading-day rules the session itself). */
  nominal: string;
  /** The session it executes on. */
  date: string;
  /** Why `date` differs from `nominal` (the holiday's name, "weekend"), or null. */
  rolledBecause: string | null;
  /** True when the day of month was past the month's end and clamped to it (31 in April is the 30th). */
  clamped: boolean;
}

/** A period that has no execution, and why (the nominal day is closed under roll "skip", a fifth Monday...). */
export interface SkippedPeriod {
  period: string;
  nominal: string;
  reason: string;
}

const roll = z.enum(["next", "previous", "modified_following", "modified_preceding", "skip"]);
const weekday = z.union([
  z.number().int().min(0).max(6),
  z
    .string()
    .transform((s) => s.trim().toLowerCase())
    .pipe(z.enum(WEEKDAYS))
    .transform((name) => WEEKDAYS.indexOf(name)),
]);
const interval = z.number().int().min(1).max(120).default(1);
const bounds = { start: dateInput.optional(), end: dateInput.optional() };

const checks = (c: { interval?: number; start?: string; end?: string }, ctx: z.RefinementCtx) => {
  if (c.interval !== undefined && c.interval > 1 && c.start === undefined) {
    addIssue(ctx, ["start"], "an interval above 1 counts from a start date: give `start`");
  }
  if (c.start !== undefined && c.end !== undefined && c.end < c.start) {
    addIssue(ctx, ["end"], "must not be before `start`");
  }
};

const daySchema = z.strictObject({ every: z.literal("day"), ...bounds }).superRefine(checks);
const weekSchema = z
  .strictObject({
    every: z.literal("week"),
    weekday: weekday.default(1),
    interval,
    roll: roll.default("next"),
    ...bounds,
  })
  .superRefine(checks);
const monthDaySchema = z
  .strictObject({
    every: z.literal("month"),
    day: z.number().int().min(1).max(31),
    interval,
    roll: roll.default("next"),
    ...bounds,
  })
  .superRefine(checks);
const monthSessionSchema = z
  .strictObject({
    every: z.literal("month"),
    tradingDay: z
      .number()
      .int()
      .min(-23)
      .max(23)
      .refine((n) => n !== 0, { message: "1 is the first session of the month, -1 the last; 0 is neither" }),
    interval,
    ...bounds,
  })
  .superRefine(checks);
const everySchema = z.strictObject(
  {
    every: z.enum(["day", "week", "month"], {
      error: "must be 'day', 'week' or 'month' (or the cadence 'daily')",
    }),
  },
  { error: "expected 'daily' or an object with `every`" },
);

/** The schema of one cadence shape, chosen by `every` so errors name the field at fault. */
function schemaFor(input: unknown): z.ZodType {
  if (input === "daily") return z.literal("daily").transform(() => ({ every: "day" as const }));
  const every = input && typeof input === "object" ? (input as { every?: unknown }).every : undefined;
  if (every === "day") return daySchema;
  if (every === "week") return weekSchema;
  if (every === "month") return "tradingDay" in (input as object) ? monthSessionSchema : monthDaySchema;
  return everySchema;
}

/** Validates a cadence; throws a RecipeConfigError naming the field (`cadence.day`, ...). */
export function parseCadence(input: unknown, recipe: string, field = "cadence"): Cadence {
  const c = parseConfig(schemaFor(input), input, recipe, field) as
    | { every: "day"; start?: string; end?: string }
    | z.output<typeof weekSchema>
    | z.output<typeof monthDaySchema>
    | z.output<typeof monthSessionSchema>;
  const start = c.start ?? null;
  const end = c.end ?? null;
  if (c.every === "day") return { kind: "day", interval: 1, roll: "next", start, end };
  if (c.every === "week")
    return { kind: "week", weekday: c.weekday, interval: c.interval, roll: c.roll, start, end };
  if ("day" in c) return { kind: "month_day", day: c.day, interval: c.interval, roll: c.roll, start, end };
  return { kind: "month_session", tradingDay: c.tradingDay, interval: c.interval, roll: "next", start, end };
}

// --- periods ------------------------------------------------------------------------------

/** 1970-01-05 was a Monday: week indices count from it. */
const EPOCH_MONDAY = 4;

/** The index of the period that contains `date` (a session day, a week, a month). */
function periodIndex(c: Cadence, date: string): number {
  if (c.kind === "day") return dayOf(date);
  if (c.kind === "week") return (dayOf(mondayOf(date)) - EPOCH_MONDAY) / 7;
  const { year, month } = monthOf(date);
  return year * 12 + month - 1;
}

function periodKey(c: Cadence, index: number): string {
  if (c.kind === "day") return dateOf(index);
  if (c.kind === "week") return dateOf(index * 7 + EPOCH_MONDAY);
  return `${String(Math.floor(index / 12)).padStart(4, "0")}-${String((index % 12) + 1).padStart(2, "0")}`;
}

/** True when the period takes part (every `interval`-th from the start's period). */
function active(c: Cadence, index: number): boolean {
  if (c.start === null) return true;
  const first = periodIndex(c, c.start);
  return index >= first && (index - first) % c.interval === 0;
}

function inRange(cal: MarketCalendar, date: string): boolean {
  return date >= cal.firstDate && date <= cal.lastDate;
}

/** Applies a roll convention to a closed nominal day. */
function rollDay(
  cal: MarketCalendar,
  nominal: string,
  convention: RollConvention,
): { date: string; because: string | null } | { skip: string } | null {
  if (!inRange(cal, nominal)) return null;
  if (cal.isSession(nominal)) return { date: nominal, because: null };
  const because = cal.dayInfo(nominal).reason ?? "no session";
  if (convention === "skip")
    return { skip: `${nominal} is closed (${because}) and the rule skips closed days` };
  const next = cal.nextSession(nominal)?.date ?? null;
  const prev = cal.previousSession(nominal)?.date ?? null;
  const sameMonth = (d: string | null) => d !== null && d.slice(0, 7) === nominal.slice(0, 7);
  let date: string | null;
  switch (convention) {
    case "next":
      date = next;
      break;
    case "previous":
      date = prev;
      break;
    case "modified_following":
      date = sameMonth(next) ? next : prev;
      break;
    case "modified_preceding":
      date = sameMonth(prev) ? prev : next;
      break;
  }
  return date === null ? null : { date, because };
}

/**
 * The execution of period `index`, a skipped period (with the reason), or null when the period
 * does not take part (interval, bounds) or lies outside the calendar's range.
 */
function executionOf(
  c: Cadence,
  cal: MarketCalendar,
  index: number,
): CadenceExecution | SkippedPeriod | null {
  if (!active(c, index)) return null;
  const period = periodKey(c, index);
  let nominal: string;
  let clamped = false;
  if (c.kind === "day") {
    nominal = period;
    if (!inRange(cal, nominal) || !cal.isSession(nominal)) return null;
  } else if (c.kind === "week") {
    nominal = addDays(period, (c.weekday + 6) % 7);
  } else if (c.kind === "month_day") {
    const { year, month } = monthOf(`${period}-01`);
    const last = daysInMonth(year, month);
    clamped = c.day > last;
    nominal = formatDate(year, month, Math.min(c.day, last));
  } else {
    const first = `${period}-01`;
    const { year, month } = monthOf(first);
    const lastDay = formatDate(year, month, daysInMonth(year, month));
    if (!inRange(cal, first) || !inRange(cal, lastDay)) return null;
    const sessions = cal.sessionsBetween(first, lastDay);
    const n = c.tradingDay;
    const s = n > 0 ? sessions[n - 1] : sessions[sessions.length + n];
    if (!s) {
      return {
        period,
        nominal: first,
        reason: `${period} has ${sessions.length} sessions, no trading day ${n}`,
      };
    }
    nominal = s.date;
  }
  if (c.start !== null && nominal < c.start) return null;
  if (c.end !== null && nominal > c.end) return null;
  const rolled = rollDay(cal, nominal, c.roll);
  if (rolled === null) return null;
  if ("skip" in rolled) return { period, nominal, reason: rolled.skip };
  return { period, nominal, date: rolled.date, rolledBecause: rolled.because, clamped };
}

const isExecution = (e: CadenceExecution | SkippedPeriod | null): e is CadenceExecution =>
  e !== null && "date" in e;

/** Rolls move an execution by at most this many days (the longest NYSE closure with its weekends). */
const MAX_ROLL_DAYS = 14;

/** Period indices whose execution may land in [from, to]. */
function candidateIndices(c: Cadence, from: string, to: string): [number, number] {
  return [periodIndex(c, addDays(from, -MAX_ROLL_DAYS)), periodIndex(c, addDays(to, MAX_ROLL_DAYS))];
}

/**
 * Every execution whose session lies in [from, to] (local dates, both inclusive), in order, and
 * the periods in that window that have none (with the reason).
 */
export function executionsBetween(
  c: Cadence,
  cal: MarketCalendar,
  from: string,
  to: string,
): { executions: CadenceExecution[]; skipped: SkippedPeriod[] } {
  const executions: CadenceExecution[] = [];
  const skipped: SkippedPeriod[] = [];
  const [first, last] = candidateIndices(c, from, to);
  for (let i = first; i <= last; i++) {
    if (c.kind === "day" && !inRange(cal, periodKey(c, i))) continue;
    const e = executionOf(c, cal, i);
    if (isExecution(e)) {
      if (e.date >= from && e.date <= to) executions.push(e);
    } else if (e !== null && e.nominal >= from && e.nominal <= to) {
      skipped.push(e);
    }
  }
  executions.sort((a, b) => (a.date === b.date ? (a.period < b.period ? -1 : 1) : a.date < b.date ? -1 : 1));
  return { executions, skipped };
}

/** How far ahead {@link nextExecution} looks before giving up (a cadence may end, or a calendar). */
const SEARCH_DAYS = 3 * 366;

/**
 * The first execution on a session strictly after `after` (or on it, with `inclusive`), whose
 * period is after `afterPeriod` when given: seed 001's next execution date. Null when there is
 * none within three years (the cadence ended, or the calendar's range did).
 */
export function nextExecution(
  c: Cadence,
  cal: MarketCalendar,
  after: string,
  options: { inclusive?: boolean; afterPeriod?: string | null } = {},
): CadenceExecution | null {
  const from = options.inclusive ? after : addDays(after, 1);
  // Windows of a few months keep the common case (the next one is soon) cheap.
  for (let start = from; start <= addDays(from, SEARCH_DAYS); start = addDays(start, 93)) {
    const { executions } = executionsBetween(c, cal, start, addDays(start, 92));
    const hit = executions.find((e) => options.afterPeriod == null || e.period > options.afterPeriod);
    if (hit) return hit;
  }
  return null;
}

/** What is due on a session, given the last period executed. */
export interface DueResult {
  /** The period to execute now, or null when nothing is due. */
  due: CadenceExecution | null;
  /** Due periods older than `due` that were never executed; they are not owed any more. */
  missed: CadenceExecution[];
  /** The next execution after today (for the "next execution date"). */
  next: CadenceExecution | null;
}

/** Options of {@link dueExecution}. */
export interface DueOptions {
  /** The last period executed (from the recipe's state), or null before the first. */
  lastPeriod: string | null;
  /** Executions dated before this local date are not owed (the day the rule was declared). */
  since?: string | null;
  /** `"period"` (default): a missed period still executes later, until the next one; `"none"`: only on its date. */
  catchUp?: "none" | "period";
}

/**
 * What is due on `today` (the local session date of a fire): the latest execution dated on or
 * before `today` whose period comes after `lastPeriod` and which is not older than `since`. With
 * `catchUp: "none"` it must be dated `today` exactly (a missed day is simply missed); with
 * `"period"` (default) a period missed (the scheduler was down, the fire was skipped) still
 * executes on a later session, until the next period's execution comes. At most one period
 * executes per call; older due ones are reported as missed.
 */
export function dueExecution(c: Cadence, cal: MarketCalendar, today: string, options: DueOptions): DueResult {
  const { lastPeriod, since = null, catchUp = "period" } = options;
  const lookback =
    c.kind === "day"
      ? 10
      : c.kind === "week"
        ? 7 * c.interval + MAX_ROLL_DAYS
        : 31 * c.interval + MAX_ROLL_DAYS;
  const { executions } = executionsBetween(c, cal, addDays(today, -lookback), today);
  const owed = executions.filter(
    (e) => (lastPeriod === null || e.period > lastPeriod) && (since === null || e.date >= since),
  );
  let due = owed.at(-1) ?? null;
  const missed = owed.slice(0, -1);
  if (due && catchUp === "none" && due.date !== today) {
    missed.push(due);
    due = null;
  }
  const next = nextExecution(c, cal, today, { afterPeriod: due?.period ?? lastPeriod });
  return { due, missed, next };
}

/** A short description of a cadence for logs and schedule descriptions. */
export function describeCadence(c: Cadence): string {
  const every = (unit: string) => (c.interval > 1 ? `every ${c.interval} ${unit}s` : `every ${unit}`);
  const rollText = c.roll === "next" ? "" : `, closed days: ${c.roll.replace("_", " ")}`;
  switch (c.kind) {
    case "day":
      return "every session";
    case "week":
      return `${every("week")} on ${WEEKDAYS[c.weekday]}${rollText}`;
    case "month_day":
      return `${every("month")} on day ${c.day}${rollText}`;
    case "month_session":
      return `${every("month")} on trading day ${c.tradingDay}`;
  }
}

/** The weekday of a date, 0 = Sunday (re-exported for tests and callers that format dates). */
export { weekdayOf };
