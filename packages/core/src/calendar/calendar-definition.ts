/**
 * The data a rule-based calendar is computed from: zone, trading weekdays, regular hours by era,
 * recurring holidays and early closes, and a versioned table of one-off days. Built-in calendars
 * (xnys.ts, xlon.ts) are definitions; users define their own and register them.
 */

import { z } from "zod";
import { isValidTimeZone } from "../time/zone.js";
import { calendarDateSchema, clockTimeSchema, reasonSchema } from "./calendar-input.js";
import { parseClock, parseDay } from "./civil-date.js";
import type { DateRule, EarlyCloseRule, HolidayRule } from "./holiday-rules.js";
import type { SpecialDay } from "./special-days.js";

/** Regular hours from a date on (until the next era starts). */
export interface TradingHours {
  /** First local date 'YYYY-MM-DD' these hours apply to. */
  readonly from: string;
  /** Local open 'HH:MM'. */
  readonly open: string;
  /** Local close 'HH:MM', after the open on the same day. */
  readonly close: string;
}

/** Everything needed to compute a calendar's sessions for any year in its range. */
export interface CalendarDefinition {
  /** Code the calendar is registered under, upper case (ISO 10383 MIC where there is one). */
  readonly code: string;
  /** Human name. */
  readonly name: string;
  /** IANA zone the hours are read in. */
  readonly timezone: string;
  /** First year the calendar answers for. */
  readonly firstYear: number;
  /** Last year the calendar answers for. */
  readonly lastYear: number;
  /** Trading weekdays, 0 = Sunday ... 6 = Saturday. */
  readonly weekdays: readonly number[];
  /** Regular hours by era, oldest first; the first era must start on or before January 1 of firstYear. */
  readonly hours: readonly TradingHours[];
  /** Recurring full-day closures. */
  readonly holidays: readonly HolidayRule[];
  /** Recurring shortened sessions. */
  readonly earlyCloses: readonly EarlyCloseRule[];
  /** One-off closures and irregular hours; they win over the rules. */
  readonly specialDays: readonly SpecialDay[];
  /** Version of the data (rules and one-off table) the calendar answers from. */
  readonly dataVersion: string;
}

/** Input accepted for a custom calendar: the definition, with defaults for the optional parts. */
export interface CalendarDefinitionInput {
  code: string;
  name: string;
  timezone: string;
  /** Default 1990. */
  firstYear?: number;
  /** Default 2100. */
  lastYear?: number;
  /** Default Monday-Friday. */
  weekdays?: readonly number[];
  hours: readonly TradingHours[];
  holidays?: readonly HolidayRule[];
  earlyCloses?: readonly EarlyCloseRule[];
  specialDays?: readonly SpecialDay[];
  /** Default "custom". */
  dataVersion?: string;
}

/** Upper-case code: a letter or digit, then up to 15 letters, digits, '_' or '-'. */
export const calendarCodeSchema = z
  .string({ error: "expected a calendar code string" })
  .trim()
  .transform((value) => value.toUpperCase())
  .pipe(
    z.string().regex(/^[A-Z0-9][A-Z0-9_-]{1,15}$/, {
      error: "calendar code must be 2-16 letters, digits, '_' or '-' (e.g. XNYS)",
    }),
  );

const year = z.number().int().min(1800).max(2300);
const weekday = z.number().int().min(0).max(6);
const dateRule = z.custom<DateRule>((value) => typeof value === "function", {
  error: "must be a function (year) => epoch day | null",
});

const hoursSchema = z
  .strictObject({ from: calendarDateSchema, open: clockTimeSchema, close: clockTimeSchema })
  .superRefine((value, ctx) => {
    const open = parseClock(value.open);
    const close = parseClock(value.close);
    if (open !== null && close !== null && close <= open) {
      ctx.addIssue({ code: "custom", path: ["close"], message: "close must be after open" });
    }
  });

const holidayRuleSchema = z.object({
  name: z.string().min(1),
  firstYear: year,
  lastYear: year.nullable(),
  date: dateRule,
  observance: z.enum(["none", "sunday_to_monday", "nearest_weekday", "next_free_weekday"]),
  moved: z.record(z.string(), calendarDateSchema).optional(),
  source: z.string().optional(),
});

const earlyCloseRuleSchema = z.object({
  name: z.string().min(1),
  firstYear: year,
  lastYear: year.nullable(),
  date: dateRule,
  weekdays: z.array(weekday).optional(),
  close: clockTimeSchema,
  source: z.string().optional(),
});

const specialDaySchema = z.discriminatedUnion("kind", [
  z.strictObject({ date: calendarDateSchema, kind: z.literal("closed"), reason: reasonSchema }),
  z
    .strictObject({
      date: calendarDateSchema,
      kind: z.literal("hours"),
      open: clockTimeSchema.optional(),
      close: clockTimeSchema.optional(),
      reason: reasonSchema,
    })
    .refine((value) => value.open !== undefined || value.close !== undefined, {
      error: "an 'hours' day needs an open, a close or both",
    }),
]);

/** Validates a calendar definition and fills in the defaults. */
export const calendarDefinitionSchema = z
  .strictObject({
    code: calendarCodeSchema,
    name: z.string().trim().min(1, { error: "name is required" }),
    timezone: z.string(),
    firstYear: year.default(1990),
    lastYear: year.default(2100),
    weekdays: z
      .array(weekday)
      .min(1, { error: "at least one trading weekday is required" })
      .default([1, 2, 3, 4, 5]),
    hours: z.array(hoursSchema).min(1, { error: "at least one hours era is required" }),
    holidays: z.array(holidayRuleSchema).default([]),
    earlyCloses: z.array(earlyCloseRuleSchema).default([]),
    specialDays: z.array(specialDaySchema).default([]),
    dataVersion: z.string().trim().min(1).default("custom"),
  })
  .superRefine((value, ctx) => {
    if (!isValidTimeZone(value.timezone)) {
      ctx.addIssue({
        code: "custom",
        path: ["timezone"],
        message: `unknown time zone '${value.timezone}' (expected an IANA name such as America/New_York)`,
        params: { code: "UNKNOWN_TIMEZONE" },
      });
    }
    if (value.lastYear < value.firstYear) {
      ctx.addIssue({ code: "custom", path: ["lastYear"], message: "lastYear must not be before firstYear" });
    }
    const froms = value.hours.map((h) => parseDay(h.from) ?? 0);
    for (let i = 1; i < froms.length; i++) {
      if ((froms[i] ?? 0) <= (froms[i - 1] ?? 0)) {
        ctx.addIssue({
          code: "custom",
          path: ["hours", i, "from"],
          message: "hours eras must be in date order",
        });
      }
    }
    const start = parseDay(`${String(value.firstYear).padStart(4, "0")}-01-01`) ?? 0;
    if ((froms[0] ?? 0) > start) {
      ctx.addIssue({
        code: "custom",
        path: ["hours", 0, "from"],
        message: `the first hours era must start on or before ${value.firstYear}-01-01`,
      });
    }
  });
