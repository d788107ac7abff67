/**
 * zod glue for the HTTP layer: parse with a schema or throw core's {@link ValidationError} with
 * one issue per problem, each naming its field. Mirrors core's internal `parseInput` (not
 * exported by core; see README "Gaps in core").
 */

import { type ErrorCode, ValidationError, type ValidationIssue } from "@tradecron/core";
import type { z } from "zod";

/** Turns zod issues into {@link ValidationIssue}s; an unknown key is reported as its own field. */
export function issuesOf(error: z.ZodError, prefix = ""): ValidationIssue[] {
  return error.issues.map((issue) => {
    const parts = issue.path.map(String);
    if (issue.code === "unrecognized_keys" && issue.keys.length > 0) parts.push(String(issue.keys[0]));
    const path = parts.join(".");
    const field = prefix && path ? `${prefix}.${path}` : prefix || path;
    const params = (issue as { params?: { code?: ErrorCode } }).params;
    return { field, message: issue.message, code: params?.code ?? "VALIDATION" };
  });
}

/** Parses `input` or throws a ValidationError naming the offending fields. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  component: string,
  prefix = "",
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(issuesOf(result.error, prefix), { cause: result.error, component });
}
