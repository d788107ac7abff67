/**
 * Option validation shared by both storages: zod schemas for the identifiers that end up in SQL
 * text (schema name, table prefix) and for the logger, and a parser that throws tradecron's ValidationError naming
 * the offending option.
 */

import { type Logger, ValidationError, type ValidationIssue } from "@tradecron/core";
import { z } from "zod";

/**
 * Longest table prefix. Prefixed names (`<prefix>executions_scheduled_at_idx`, the notification
 * channel `<schema>.<prefix>changes`) must stay within PostgreSQL's 63-byte identifier limit.
 */
export const MAX_PREFIX_LENGTH = 15;
/** Longest PostgreSQL schema name we accept (see {@link MAX_PREFIX_LENGTH}). */
export const MAX_SCHEMA_LENGTH = 40;

/**
 * A table prefix: lower-case letters, digits and underscores, starting with a letter or underscore,
 * or empty. Prefixes are spliced into SQL text, so nothing else is allowed.
 */
export const tablePrefixSchema = z
  .string()
  .max(MAX_PREFIX_LENGTH, `must be at most ${MAX_PREFIX_LENGTH} characters`)
  .regex(/^(?:[a-z_][a-z0-9_]*)?$/, "must be lower-case letters, digits and _ (starting with a letter or _)");

/** A PostgreSQL schema name: a safe, unquoted-style identifier (it is spliced into SQL text). */
export const schemaNameSchema = z
  .string()
  .min(1)
  .max(MAX_SCHEMA_LENGTH, `must be at most ${MAX_SCHEMA_LENGTH} characters`)
  .regex(/^[a-z_][a-z0-9_]*$/, "must be lower-case letters, digits and _ (starting with a letter or _)")
  .refine((s) => !s.startsWith("pg_"), "names starting with pg_ are reserved by PostgreSQL");

/** A pino-compatible logger: any object (its methods are called as it logs). */
export const loggerSchema = z.custom<Logger>((v) => typeof v === "object" && v !== null, "must be a logger");

/** Parses `input` with `schema`, or throws a ValidationError whose field is `options.<path>`. */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, component: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues: ValidationIssue[] = result.error.issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    return { field: path ? `options.${path}` : "options", message: issue.message, code: "VALIDATION" };
  });
  throw new ValidationError(issues, { cause: result.error, component });
}
