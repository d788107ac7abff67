/**
 * Building blocks shared by the request and response schemas: ISO instants, JSON values, pages,
 * problem details. Every schema with an `id` becomes a component of the OpenAPI document.
 */

import { z } from "zod";

/** An instant as an ISO 8601 UTC string (`2026-01-05T14:30:00.000Z`). */
export const isoInstant = z.iso.datetime().meta({
  description: "An instant, ISO 8601 in UTC",
  example: "2026-01-05T14:30:00.000Z",
});

/** An optional instant: null when it has not happened (or does not apply). */
export const isoInstantOrNull = isoInstant.nullable();

/** Any JSON value. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * Any JSON value (handler results, supporting data, intents). Documented as an unconstrained
 * schema rather than a recursive one: generated clients then type it as `unknown`, where a
 * recursive type makes openapi-fetch's Readable<> give up on the whole record.
 */
export const jsonValue = (z.unknown() as unknown as z.ZodType<Json>).meta({
  id: "JsonValue",
  description: "Any JSON value",
});

/** Execution statuses. */
export const executionStatusEnum = z.enum([
  "claimed",
  "running",
  "succeeded",
  "failed",
  "timed_out",
  "skipped",
  "cancelled",
]);
/** Why a fire exists. */
export const fireKindEnum = z.enum(["scheduled", "catchup", "manual", "backfill"]);
/** Approval statuses. */
export const approvalStatusEnum = z.enum([
  "pending",
  "approved",
  "rejected",
  "expired",
  "submitted",
  "failed",
]);
/** Risk levels of a proposal. */
export const riskLevelEnum = z.enum(["low", "medium", "high"]);

/** A page of items and the cursor of the next one (null on the last page). */
export function pageSchema<T extends z.ZodType>(item: T, id: string) {
  return z
    .object({
      items: z.array(item),
      nextCursor: z
        .string()
        .nullable()
        .meta({ description: "Pass as `cursor` for the next page; null at the end" }),
    })
    .meta({ id });
}

/** One validation issue of a problem. */
export const problemIssueSchema = z.object({ field: z.string(), message: z.string(), code: z.string() });

/** RFC 9457 problem details with tradecron's `code`, `field` and `errors`. */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    code: z.string().meta({ description: "The SDK error's stable code" }),
    field: z.string().optional().meta({ description: "The input field at fault" }),
    errors: z.array(problemIssueSchema).optional(),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details" });
