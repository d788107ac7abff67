/**
 * zod glue: parse with a schema, turn every issue into a {@link ValidationIssue} that names the
 * field, and throw one {@link ValidationError}. Custom checks attach their stable code through
 * the issue's `params.code`.
 */

import ms from "ms";
import { z } from "zod";
import { type ErrorCode, ValidationError, type ValidationIssue } from "./errors.js";
import type { JsonValue } from "./storage/records.js";

/**
 * Parses `input` with `schema` or throws a ValidationError naming the offending fields. `prefix`
 * goes before every field path; `root` names the input itself when it is wrong as a whole (null
 * where an object belongs) and no prefix does.
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  component: string,
  prefix = "",
  root = "",
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues: ValidationIssue[] = result.error.issues.flatMap((issue) => {
    const params = (issue as { params?: { code?: ErrorCode } }).params;
    const code = params?.code ?? "VALIDATION";
    const at = (path: readonly PropertyKey[]) => {
      const joined = path.map(String).join(".");
      return prefix && joined ? `${prefix}.${joined}` : prefix || joined || root;
    };
    // An unknown key is the field at fault itself, not its parent object.
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        field: at([...issue.path, key]),
        message: `unknown field '${key}'`,
        code,
      }));
    }
    return [{ field: at(issue.path), message: issue.message, code }];
  });
  throw new ValidationError(issues, { cause: result.error, component });
}

/** Adds a custom issue with a stable code to a zod refinement context. */
export function addIssue(ctx: z.RefinementCtx, code: ErrorCode, message: string): void {
  ctx.addIssue({ code: "custom", message, params: { code } });
}

/**
 * Largest instant a JavaScript Date can hold (±8.64e15 ms, ±100,000,000 days from 1970): beyond it
 * `new Date(t)` is invalid and every consumer that formats dates breaks.
 */
export const MAX_INSTANT = 8.64e15;

/** Longest duration accepted anywhere: the whole Date range. Longer ones cannot end at an instant. */
export const MAX_DURATION_MS = MAX_INSTANT;

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
  if (n > MAX_DURATION_MS) {
    addIssue(
      ctx,
      "INVALID_INTERVAL",
      `duration must be at most ${MAX_DURATION_MS} ms (the Date range), got ${n}`,
    );
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
  if (!Number.isFinite(n) || Math.abs(n) > MAX_INSTANT) {
    addIssue(
      ctx,
      "INVALID_INSTANT",
      `'${String(value)}' is not a valid instant (epoch ms within ±${MAX_INSTANT}, the Date range)`,
    );
    return z.NEVER;
  }
  return n;
});

/** Largest `data` (and supporting data) accepted, as UTF-8 JSON: 64 KiB. */
export const MAX_DATA_BYTES = 65_536;
/** Deepest nesting accepted in `data`. */
const MAX_DATA_DEPTH = 64;

/**
 * Why `value` is not plain JSON data, with the path to the offending part, or null. Plain JSON is
 * what every storage keeps the same way: null, booleans, finite numbers, strings, arrays and plain
 * objects, without cycles, `undefined`, functions, dates, class instances or bigints.
 */
export function jsonProblem(value: unknown): { path: (string | number)[]; message: string } | null {
  const ancestors = new Set<object>();
  const path: (string | number)[] = [];
  const visit = (v: unknown): string | null => {
    if (v === null || typeof v === "string" || typeof v === "boolean") return null;
    if (typeof v === "number") return Number.isFinite(v) ? null : `${v} is not a JSON number`;
    if (typeof v !== "object") return `a ${typeof v} is not JSON`;
    if (ancestors.has(v)) return "refers to itself (a cycle cannot be stored as JSON)";
    if (path.length >= MAX_DATA_DEPTH) return `nested deeper than ${MAX_DATA_DEPTH} levels`;
    const proto = Object.getPrototypeOf(v);
    const isArray = Array.isArray(v);
    if (!isArray && proto !== Object.prototype && proto !== null) {
      return `a ${proto?.constructor?.name ?? "non-plain"} object is not JSON (use plain objects, arrays and strings)`;
    }
    if (Object.getOwnPropertySymbols(v).length > 0) return "symbol keys are not JSON";
    ancestors.add(v);
    try {
      if (isArray) {
        for (let i = 0; i < v.length; i++) {
          path.push(i);
          const p = i in v ? visit(v[i]) : "a hole in an array is not JSON";
          if (p) return p;
          path.pop();
        }
      } else {
        for (const key of Object.keys(v)) {
          path.push(key);
          const p = visit((v as Record<string, unknown>)[key]);
          if (p) return p;
          path.pop();
        }
      }
    } finally {
      ancestors.delete(v);
    }
    return null;
  };
  const message = visit(value);
  if (message) return { path: [...path], message };
  const bytes = Buffer.byteLength(JSON.stringify(value), "utf8");
  if (bytes > MAX_DATA_BYTES)
    return { path: [], message: `is ${bytes} bytes as JSON; at most ${MAX_DATA_BYTES} are allowed` };
  return null;
}

/** Plain JSON data of at most {@link MAX_DATA_BYTES}; anything else is an `INVALID_DATA` issue at its path. */
export const jsonDataSchema = z
  .unknown()
  .transform((value, ctx) => {
    const problem = jsonProblem(value);
    if (problem) {
      ctx.addIssue({
        code: "custom",
        path: problem.path,
        message: problem.message,
        params: { code: "INVALID_DATA" },
      });
      return z.NEVER;
    }
    return value as JsonValue;
  })
  .meta({
    id: "JsonData",
    description: "Plain JSON data (objects, arrays, strings, finite numbers, booleans, null), at most 64 KiB",
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
