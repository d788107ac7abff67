/**
 * Request schemas: path parameters, queries and bodies. Bodies reuse core's own zod schemas
 * (`scheduleInputSchema`, `instantSchema`), so the API accepts exactly what the SDK accepts; query
 * strings are parsed from text first. Every object is strict: an unknown key is an error naming it.
 */

import { instantSchema, scheduleInputSchema } from "@tradecron/core";
import { z } from "zod";
import { approvalStatusEnum, executionStatusEnum, fireKindEnum, riskLevelEnum } from "./common.js";

const ID_MAX = 200;

/** A path id. */
export const idParams = z.strictObject({ id: z.string().min(1).max(ID_MAX).meta({ description: "The id" }) });
/** A client order id in the path. */
export const orderParams = z.strictObject({ clientOrderId: z.string().min(1).max(ID_MAX) });

/** A short text query value. */
const qText = (max = ID_MAX) => z.string().min(1).max(max);
/** `true` or `false`. */
const qBool = z.enum(["true", "false"]).transform((v) => v === "true");
/** A whole number within bounds, from its decimal text. */
const qInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,7}$/, "expected a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
/** An ISO 8601 instant with a zone, to epoch ms (core's instant rules). */
const qInstant = z
  .string()
  .max(64)
  .pipe(instantSchema as unknown as z.ZodType<number, string>)
  .meta({ description: "ISO 8601 instant with a zone" });
/** A comma-separated (or repeated) list of values of `item`. */
const qList = <T extends z.ZodType<string, string>>(item: T) =>
  z.preprocess(
    (v) => (Array.isArray(v) ? v.join(",") : v),
    z
      .string()
      .max(1000)
      .transform((s) => s.split(",").filter((x) => x.length > 0))
      .pipe(z.array(item).min(1).max(50)),
  );
const limit = (max: number) =>
  qInt(1, max)
    .optional()
    .meta({ description: `Page size, 1-${max} (default 50)` });
const cursor = z.string().min(1).max(500).optional().meta({ description: "nextCursor of the previous page" });

/** GET /schedules */
export const scheduleListQuery = z.strictObject({
  tag: qList(qText(100)).optional().meta({ description: "Any of these tags (comma-separated)" }),
  job: qText().optional(),
  enabled: qBool.optional(),
  paused: qBool.optional(),
  limit: limit(500),
  cursor,
});

/** GET /executions */
export const executionListQuery = z.strictObject({
  scheduleId: qText().optional(),
  status: qList(executionStatusEnum).optional().meta({ description: "Comma-separated statuses" }),
  kind: qList(fireKindEnum).optional().meta({ description: "Comma-separated kinds" }),
  from: qInstant.optional().meta({ description: "scheduledAt at or after (ISO 8601)" }),
  to: qInstant.optional().meta({ description: "scheduledAt before (ISO 8601)" }),
  limit: limit(1000),
  cursor,
});

/** GET /approvals */
export const approvalListQuery = z.strictObject({
  status: qList(approvalStatusEnum).optional(),
  riskLevel: qList(riskLevelEnum).optional(),
  scheduleId: qText().optional(),
  groupId: qText().optional().meta({ description: "Members of this approval group only" }),
  limit: limit(1000),
  cursor,
});

/** GET /orders */
export const orderListQuery = z.strictObject({
  scheduleId: qText().optional(),
  executionId: qText().optional(),
  symbol: qText(32).optional(),
  status: qList(qText(40)).optional(),
  from: qInstant.optional(),
  to: qInstant.optional(),
  limit: limit(1000),
  cursor,
});

/** GET /audit */
export const auditListQuery = z.strictObject({
  actor: qText().optional(),
  action: qText().optional(),
  subjectType: qText().optional(),
  subjectId: qText().optional(),
  from: qInstant.optional(),
  to: qInstant.optional(),
  limit: limit(1000),
  cursor,
});

/** GET /schedules/{id}/preview */
export const previewQuery = z.strictObject({
  count: qInt(1, 200).optional().meta({ description: "How many fires (default 10)" }),
  from: qInstant.optional(),
});

/** POST /schedules: core's schedule input, as `Scheduler.createSchedule` takes it. */
export const createScheduleBody = scheduleInputSchema;

/** PATCH /schedules/{id}: any subset of the input but the id, and the revision it was read at. */
export const updateScheduleBody = scheduleInputSchema
  .omit({ id: true })
  .partial()
  .extend({
    expectedRevision: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({ description: "Apply only if the schedule is still at this revision (409 otherwise)" }),
  });

/** A body that must be empty (or an empty object). */
export const emptyBody = z.strictObject({});

/** POST /schedules/{id}/trigger */
export const triggerBody = z.strictObject({
  wait: z
    .boolean()
    .optional()
    .meta({ description: "Answer when the run has ended (default false: when it is claimed)" }),
});

/** POST /schedules/{id}/backfill */
export const backfillBody = z.strictObject({
  from: instantSchema,
  to: instantSchema,
  maxFires: z.number().int().min(1).max(1000).optional(),
});

/** POST /preview: the coming fires of a schedule not saved yet. */
export const previewBody = z.strictObject({
  schedule: scheduleInputSchema,
  count: z.number().int().min(1).max(200).optional(),
  from: instantSchema.optional(),
});

const reason = z.string().trim().max(1000).optional().meta({ description: "Why (written to the audit log)" });

/** POST /approvals/{id}/approve|reject */
export const decisionBody = z.strictObject({ reason });

/** POST /approvals/approve|reject */
export const bulkDecisionBody = z.strictObject({
  ids: z.array(z.string().min(1).max(ID_MAX)).min(1).max(500),
  reason,
});

/** POST /controls/pause-all */
export const pauseAllBody = z.strictObject({
  reason,
  cancelOpenOrders: z
    .boolean()
    .optional()
    .meta({ description: "Also cancel every open order at the broker" }),
  abortRunning: z.boolean().optional().meta({ description: "Also abort handlers in progress" }),
});

/** POST /controls/stop */
export const stopBody = z.strictObject({ timeoutMs: z.number().int().min(0).max(600_000).optional() });

/** POST /auth/session */
export const signInBody = z.strictObject({ token: z.string().min(1).max(1024) });
