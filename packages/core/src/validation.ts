/**
 * zod glue: parse with a schema, turn every issue into a {@link ValidationIssue} that names the
 * field, and throw one {@link ValidationError}. Custom checks attach their stable code through
 * the issue's `params.code`.
 */

import ms from "ms";
import { z } from "zod";
import { type ErrorCode, ValidationError, type ValidationIssue } from "./errors.js";

/** Parses `input` with `schema` or throws a ValidationError naming the offending fields. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  component: string,
  prefix = "",
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues: ValidationIssue[] = result.error.issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    const field = prefix && path ? `${prefix}.${path}` : prefix || path;
    const params = (issue as { params?: { code?: ErrorCode } }).params;
    return { field, message: issue.message, code: params?.code ?? "VALIDATION" };
  });
  throw new ValidationError(issues, { cause: result.error, component });
}

/** Adds a custom issue with a stable code to a zod refinement context. */
export function addIssue(ctx: z.RefinementCtx, code: ErrorCode, message: string): void {
  ctx.addIssue({ code: "custom", message, params: { code } });
}

/** A duration: milliseconds as a number, or a string `ms` understands (`500ms`, `30s`, `15m`, `1h`, `2d`). */
export const durationSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const n = typeof value === "number" ? value : ms(value as ms.StringValue);
  if (typeof n !== "number" || !Number.isFinite(n)) {
    addIssue(
      ctx,
      "INVALID_INTERVAL",
      `'${String(value)}' is not a duration (use ms, or a string like '30s', '15m', '1h')`,
    );
    return z.NEVER;
  }
  if (n < 0) {
    addIssue(ctx, "INVALID_INTERVAL", `duration must not be negative, got ${n} ms`);
    return z.NEVER;
  }
  return Math.round(n);
});

/** A positive duration (> 0 ms). */
export const positiveDurationSchema = durationSchema.refine((n) => n > 0, {
  message: "duration must be greater than 0",
  params: { code: "INVALID_INTERVAL" },
});

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * An instant: a Date, epoch milliseconds, or an ISO-8601 string with `Z` or an offset. Strings
 * without a zone are rejected: JavaScript would read them in the host's zone, silently.
 */
export const instantSchema = z.union([z.date(), z.number(), z.string()]).transform((value, ctx) => {
  let n: number;
  if (value instanceof Date) n = value.getTime();
  else if (typeof value === "number") n = value;
  else if (ISO_WITH_ZONE.test(value)) n = Date.parse(value);
  else {
    addIssue(
      ctx,
      "INVALID_INSTANT",
      `'${value}' is not an ISO-8601 instant with a zone (e.g. 2026-01-05T14:30:00Z)`,
    );
    return z.NEVER;
  }
  if (!Number.isFinite(n)) {
    addIssue(ctx, "INVALID_INSTANT", `'${String(value)}' is not a valid instant`);
    return z.NEVER;
  }
  return n;
});

/** Input accepted wherever an instant is expected. */
export type InstantInput = Date | number | string;
/** Input accepted wherever a duration is expected. */
export type DurationInput = number | string;

/** Parses one instant input, naming `field` in the error. */
export function toInstant(value: InstantInput, field: string, component = "tradecron"): number {
  return parseInput(instantSchema, value, component, field);
}

/** Parses one duration input, naming `field` in the error. */
export function toDuration(value: DurationInput, field: string, component = "tradecron"): number {
  return parseInput(durationSchema, value, component, field);
}
