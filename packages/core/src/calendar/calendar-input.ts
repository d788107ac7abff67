/**
 * Input checks shared by every calendar method: calendar dates, clock times, instants, reasons.
 * Each has a zod schema (the reference, and the source of the error message) and a fast path for
 * well-formed input, because `isOpen` runs in a hot loop where a schema parse would cost more than
 * the lookup itself.
 */

import { z } from "zod";
import { ValidationError } from "../errors.js";
import { instantSchema, parseInput } from "../validation.js";
import { parseClock, parseDay } from "./civil-date.js";

/** A calendar date 'YYYY-MM-DD' that exists (no 2025-02-30). */
export const calendarDateSchema = z
  .string({ error: "expected a date string 'YYYY-MM-DD'" })
  .refine((value) => parseDay(value) !== null, {
    error: (issue) => `'${String(issue.input)}' is not a valid date (expected 'YYYY-MM-DD')`,
  });

/** A local wall-clock time 'HH:MM', 00:00 to 24:00. */
export const clockTimeSchema = z
  .string({ error: "expected a time string 'HH:MM'" })
  .refine((value) => parseClock(value) !== null, {
    error: (issue) => `'${String(issue.input)}' is not a valid time (expected 'HH:MM', 00:00-24:00)`,
  });

/** A short human reason for a closure or a changed session. */
export const reasonSchema = z
  .string({ error: "expected a reason string" })
  .trim()
  .min(1, { error: "a reason is required (it is reported as why the day differs)" })
  .max(200, { error: "reason must be at most 200 characters" });

/** A whole number of sessions for trading-day arithmetic. */
export const sessionCountSchema = z
  .number({ error: "expected a whole number of sessions" })
  .int({ error: "expected a whole number of sessions" })
  .min(-1_000_000)
  .max(1_000_000);

/** Parses a calendar date to its epoch day, or throws a ValidationError naming `field`. */
export function toDay(value: unknown, field: string, component: string): number {
  if (typeof value === "string") {
    const day = parseDay(value);
    if (day !== null) return day;
  }
  parseInput(calendarDateSchema, value, component, field);
  // The schema and parseDay agree, so the parse above always throws; this keeps the types honest.
  throw invalid(field, `'${String(value)}' is not a valid date`, component);
}

/** Parses an 'HH:MM' time to minutes after midnight, or throws a ValidationError naming `field`. */
export function toClock(value: unknown, field: string, component: string): number {
  if (typeof value === "string") {
    const minutes = parseClock(value);
    if (minutes !== null) return minutes;
  }
  parseInput(clockTimeSchema, value, component, field);
  throw invalid(field, `'${String(value)}' is not a valid time`, component);
}

/** Parses an instant (Date, epoch ms, ISO string with a zone) to epoch ms, naming `field` on error. */
export function toMs(value: unknown, field: string, component: string): number {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (value instanceof Date) {
    const t = value.getTime();
    if (Number.isFinite(t)) return t;
  }
  return parseInput(instantSchema, value, component, field);
}

/** A ValidationError with one issue. */
export function invalid(field: string, message: string, component: string): ValidationError {
  return new ValidationError([{ field, code: "VALIDATION", message }], { component });
}
