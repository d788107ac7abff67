/**
 * zod glue for recipe configurations: parse with a schema and turn every issue into a
 * {@link RecipeConfigError} naming the field, plus the field schemas the recipes share (decimal
 * amounts, weights, fractions, durations, instants, symbols).
 */

import { Decimal, decimalString, hasCalendar, type ValidationIssue } from "@tradecron/core";
import ms from "ms";
import { z } from "zod";
import { RecipeConfigError } from "./errors.js";

/** Parses `input` with `schema` or throws a RecipeConfigError naming the offending fields. */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  input: unknown,
  recipe: string,
  prefix = "",
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues: ValidationIssue[] = result.error.issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    return {
      field: prefix && path ? `${prefix}.${path}` : prefix || path,
      message: issue.message,
      code: "VALIDATION",
    };
  });
  throw new RecipeConfigError(recipe, issues, { cause: result.error });
}

/** Adds an issue at `path` (relative to the refined object) to a refinement context. */
export function addIssue(ctx: z.RefinementCtx, path: (string | number)[], message: string): void {
  ctx.addIssue({ code: "custom", path, message });
}

const DECIMAL = /^-?(\d+\.?\d*|\.\d+)$/;

/** A decimal amount (string, or a finite number read through its shortest form) as its canonical string. */
export const decimalInput = z.union([z.string(), z.number()]).transform((value, ctx) => {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) {
      ctx.addIssue({ code: "custom", message: "must be a finite number" });
      return z.NEVER;
    }
    return decimalString(value);
  }
  const text = value.trim();
  if (!DECIMAL.test(text)) {
    ctx.addIssue({ code: "custom", message: `'${value}' is not a decimal number` });
    return z.NEVER;
  }
  return decimalString(text);
});

/** A decimal > 0. */
export const positiveDecimal = decimalInput.refine((v) => new Decimal(v).gt(0), {
  message: "must be greater than 0",
});

/** A decimal >= 0. */
export const nonNegativeDecimal = decimalInput.refine((v) => new Decimal(v).gte(0), {
  message: "must not be negative",
});

/** A fraction in [0, 1] (0.05 is 5 %). */
export const fraction = decimalInput.refine((v) => new Decimal(v).gte(0) && new Decimal(v).lte(1), {
  message: "must be a fraction between 0 and 1 (0.05 is 5 %)",
});

/** Weights may be off 1 by this much in sum (three numbers of 1/3 add up to 0.9999999999999999). */
export const WEIGHT_SUM_TOLERANCE = new Decimal("1e-9");

/** True when decimal weights sum to 1 within {@link WEIGHT_SUM_TOLERANCE}. */
export function sumsToOne(weights: readonly string[]): boolean {
  const sum = weights.reduce((acc, w) => acc.plus(w), new Decimal(0));
  return sum.minus(1).abs().lte(WEIGHT_SUM_TOLERANCE);
}

/** A duration: ms as a number, or a string `ms` understands ('30s', '15m', '31d'); >= 0. */
export const durationInput = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const n = typeof value === "number" ? value : ms(value as ms.StringValue);
  if (typeof n !== "number" || !Number.isFinite(n) || n < 0) {
    ctx.addIssue({
      code: "custom",
      message: `'${String(value)}' is not a duration (ms >= 0, or a string like '30s', '15m', '31d')`,
    });
    return z.NEVER;
  }
  return Math.round(n);
});

/** A duration > 0. */
export const positiveDuration = durationInput.refine((n) => n > 0, { message: "must be greater than 0" });

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** An instant: a Date, epoch ms, or an ISO-8601 string with a zone (never the host's zone). */
export const instantInput = z.union([z.date(), z.number(), z.string()]).transform((value, ctx) => {
  const n =
    value instanceof Date
      ? value.getTime()
      : typeof value === "number"
        ? value
        : ISO_WITH_ZONE.test(value)
          ? Date.parse(value)
          : Number.NaN;
  if (!Number.isFinite(n)) {
    ctx.addIssue({
      code: "custom",
      message: `'${String(value)}' is not an instant (epoch ms, a Date, or ISO-8601 with a zone such as 2026-01-05T14:30:00Z)`,
    });
    return z.NEVER;
  }
  return n;
});

/** A local calendar date 'YYYY-MM-DD' that exists. */
export const dateInput = z.string().refine(
  (v) => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
    const d = new Date(`${v}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
  },
  { message: "must be a date 'YYYY-MM-DD'" },
);

/** A ticker symbol, upper-cased (the same characters an order intent accepts). */
export const symbolInput = z
  .string()
  .trim()
  .min(1)
  .max(32)
  .regex(/^[A-Za-z0-9.\-/ ]+$/, "must be a ticker symbol (letters, digits, '.', '-', '/')")
  .transform((s) => s.toUpperCase());

/** A recipe id: becomes part of schedule ids and job names, so it is short and file-name safe. */
export const recipeIdInput = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$/,
    "must be 1-48 characters of A-Z a-z 0-9 _ . - starting with a letter or digit",
  );

/** An actor name for audited operations. */
export const actorInput = z.string().trim().min(1).max(200);

/**
 * Checks symbols against a `universe` (a list, or a function asked per symbol) and throws a
 * RecipeConfigError naming the first unknown one. No universe: nothing is checkable, all pass.
 */
export async function checkUniverse(
  recipe: string,
  universe: readonly string[] | ((symbol: string) => boolean | Promise<boolean>) | undefined,
  symbols: readonly { field: string; symbol: string }[],
): Promise<void> {
  if (universe === undefined) return;
  const known =
    typeof universe === "function"
      ? universe
      : (() => {
          const set = new Set(universe.map((s) => s.trim().toUpperCase()));
          return (s: string) => set.has(s);
        })();
  const issues: ValidationIssue[] = [];
  for (const { field, symbol } of symbols) {
    if (!(await known(symbol)))
      issues.push({ field, message: `unknown symbol '${symbol}'`, code: "VALIDATION" });
  }
  if (issues.length > 0) throw new RecipeConfigError(recipe, issues);
}

/** zod schema of a symbol universe option. */
export const universeInput = z
  .union([
    z.array(z.string()),
    z.custom<(symbol: string) => boolean | Promise<boolean>>((v) => typeof v === "function", {
      message: "must be a list of symbols or a function (symbol) => boolean",
    }),
  ])
  .optional();

/** A registered market calendar code (XNYS, XLON, or one you registered), upper-cased. */
export const calendarInput = z
  .string()
  .trim()
  .transform((v) => v.toUpperCase())
  .refine((v) => hasCalendar(v), { message: "unknown calendar (register it with registerCalendar first)" })
  .default("XNYS");
