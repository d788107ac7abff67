import { ValidationError } from "@tradecron/core";
import type { z } from "zod";

/** Parses `input` with `schema`, or throws a ValidationError naming each field (under `prefix`). */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, prefix = ""): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    field: [prefix, ...issue.path.map(String)].filter((p) => p !== "").join("."),
    message: issue.message,
    code: "VALIDATION" as const,
  }));
  throw new ValidationError(issues, { cause: result.error, component: "IbkrBroker" });
}
