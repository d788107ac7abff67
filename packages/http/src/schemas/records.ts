/**
 * Response schemas: the records of core as the API sends them (camelCase, instants as ISO 8601
 * UTC strings, durations in ms, decimals as strings). `dto.ts` maps records onto them; the tests
 * validate every response against the OpenAPI document generated from these.
 */

import { z } from "zod";
import {
  approvalStatusEnum,
  executionStatusEnum,
  fireKindEnum,
  isoInstant,
  isoInstantOrNull,
  jsonValue,
  riskLevelEnum,
} from "./common.js";

const errorInfo = z
  .object({ message: z.string(), code: z.string().nullable(), name: z.string() })
  .meta({ id: "ErrorInfo" });

/** A trigger as stored, with instants as ISO strings. */
export const triggerSchema = z
  .discriminatedUnion("type", [
    z.object({ type: z.literal("cron"), expression: z.string(), timezone: z.string() }),
    z.object({ type: z.literal("interval"), every: z.number(), anchor: isoInstant, jitter: z.number() }),
    z.object({ type: z.literal("once"), at: isoInstant }),
    z.object({
      type: z.literal("market"),
      calendar: z.string(),
      event: z.enum(["open", "close"]),
      offsetMinutes: z.number(),
      days: z.union([z.literal("every"), z.array(z.number().int())]),
      rule: z.string(),
    }),
  ])
  .meta({ id: "Trigger" });

/** Live state of a schedule on this instance. */
export const scheduleStateSchema = z
  .object({
    /** False when no handler for the job is registered on this instance. */
    handled: z.boolean(),
    nextFireAt: isoInstantOrNull.meta({
      description: "Next fire; null while paused, disabled or paused-all",
    }),
    nextFireOnceResumedAt: isoInstantOrNull.meta({
      description: "While paused: the first fire that would run once resumed",
    }),
    lastStartAt: isoInstantOrNull,
    lastEndAt: isoInstantOrNull,
    lastStatus: executionStatusEnum.nullable(),
    lastSuccessAt: isoInstantOrNull,
    running: z.number().int(),
    counters: z.object({
      fires: z.number().int(),
      succeeded: z.number().int(),
      failed: z.number().int(),
      skipped: z.number().int(),
      retries: z.number().int(),
    }),
  })
  .meta({ id: "ScheduleState" });

/** A saved schedule with its live state. */
export const scheduleSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    job: z.string(),
    description: z.string().nullable(),
    tags: z.array(z.string()),
    trigger: triggerSchema,
    data: jsonValue.nullable(),
    enabled: z.boolean(),
    paused: z.boolean(),
    misfire: z.object({
      policy: z.enum(["skip", "run_once", "run_all"]),
      toleranceMs: z.number(),
      graceMs: z.number(),
      windowMs: z.number(),
      maxRuns: z.number(),
    }),
    overlap: z.enum(["skip", "buffer_one", "buffer_all", "cancel_previous", "allow"]),
    retry: z.object({
      attempts: z.number().int(),
      backoff: z.object({ baseMs: z.number(), factor: z.number(), maxMs: z.number(), jitter: z.number() }),
      nonRetryable: z.array(z.string()),
    }),
    timeoutMs: z.number().nullable(),
    requiresApproval: z.boolean(),
    approvalExpiryMs: z.number().nullable(),
    risk: z.record(z.string(), jsonValue).nullable(),
    requireBrokerConnection: z.boolean(),
    marketHoursOnly: z.boolean(),
    calendar: z.string(),
    retention: z
      .object({
        maxAgeMs: z.number().nullable().optional(),
        keepLast: z.number().int().nullable().optional(),
      })
      .nullable()
      .meta({
        description:
          "The schedule's own retention of its final executions (null: the scheduler's policy); a null field switches that limit off",
      }),
    firesSince: isoInstant,
    revision: z.number().int(),
    createdAt: isoInstant,
    updatedAt: isoInstant,
    state: scheduleStateSchema,
  })
  .meta({ id: "Schedule" });

/** One fire and what became of it. */
export const executionSchema = z
  .object({
    id: z.string(),
    scheduleId: z.string(),
    job: z.string(),
    scheduledAt: isoInstant,
    kind: fireKindEnum,
    status: executionStatusEnum,
    reason: z.string().nullable(),
    attempts: z.number().int(),
    claimedAt: isoInstant,
    startedAt: isoInstantOrNull,
    endedAt: isoInstantOrNull,
    instanceId: z.string(),
    leaseExpiresAt: isoInstantOrNull,
    actor: z.string().nullable(),
    error: errorInfo.nullable(),
    result: jsonValue.nullable(),
    details: jsonValue.nullable(),
    idempotencyKey: z.string(),
  })
  .meta({ id: "Execution" });

/** A proposed order waiting for (or past) a human decision. */
export const approvalSchema = z
  .object({
    id: z.string(),
    scheduleId: z.string(),
    executionId: z.string(),
    fireKey: z.string(),
    intentIndex: z.number().int(),
    clientOrderId: z.string(),
    intent: jsonValue,
    status: approvalStatusEnum,
    riskLevel: riskLevelEnum,
    rationale: z.string().nullable(),
    confidence: z.number().nullable(),
    supportingData: jsonValue.nullable(),
    createdAt: isoInstant,
    expiresAt: isoInstant,
    decidedAt: isoInstantOrNull,
    decidedBy: z.string().nullable(),
    decisionReason: z.string().nullable(),
    brokerOrderId: z.string().nullable(),
    error: errorInfo.nullable(),
    groupId: z
      .string()
      .optional()
      .meta({ description: "The approval group it is decided with (absent: proposed on its own)" }),
  })
  .meta({ id: "Approval" });

/** An order sent to the broker through the scheduler. */
export const orderSchema = z
  .object({
    clientOrderId: z.string(),
    brokerOrderId: z.string().nullable(),
    broker: z.string(),
    scheduleId: z.string().nullable(),
    executionId: z.string().nullable(),
    approvalId: z.string().nullable(),
    symbol: z.string(),
    side: z.enum(["buy", "sell"]),
    intent: jsonValue,
    status: z.string(),
    filledQty: z.string(),
    avgFillPrice: z.string().nullable(),
    submittedAt: isoInstant,
    updatedAt: isoInstant,
    error: errorInfo.nullable(),
  })
  .meta({ id: "Order" });

/** One entry of the append-only audit log. */
export const auditEntrySchema = z
  .object({
    seq: z.number().int(),
    at: isoInstant,
    actor: z.string(),
    action: z.string(),
    subjectType: z.string(),
    subjectId: z.string().nullable(),
    details: jsonValue.nullable(),
  })
  .meta({ id: "AuditEntry" });

/** One execution with the orders and approvals of its fire. */
export const executionDetailSchema = z
  .object({ execution: executionSchema, orders: z.array(orderSchema), approvals: z.array(approvalSchema) })
  .meta({ id: "ExecutionDetail" });

/** A coming fire, with why it would be skipped. */
export const previewFireSchema = z
  .object({
    at: isoInstant,
    local: z.string().meta({ description: "Wall time in the schedule's zone, YYYY-MM-DD HH:mm:ss" }),
    skip: z
      .string()
      .nullable()
      .meta({ description: "Why it would be skipped (market_closed, paused, ...); null: it runs" }),
    marketSkip: z.string().nullable().meta({
      description:
        "The calendar's reason alone, also while paused: what the fire does once resumed; null: it runs",
    }),
    skipDetail: z
      .string()
      .nullable()
      .meta({ description: "The holiday, early close or session hours behind a market_closed skip" }),
  })
  .meta({ id: "PreviewFire" });

/** Outcome of one decision of an approve or reject call. */
export const decisionResultSchema = z
  .object({
    id: z.string(),
    ok: z.boolean(),
    status: approvalStatusEnum.nullable(),
    code: z.string().optional(),
    reason: z.string().optional(),
    brokerOrderId: z.string().nullable().optional(),
  })
  .meta({ id: "DecisionResult" });

/** The emergency switch and the instance's lifecycle. */
export const controlsSchema = z
  .object({
    pausedAll: z.boolean(),
    pausedAt: isoInstantOrNull,
    pausedBy: z.string().nullable(),
    reason: z.string().nullable(),
    revision: z.number().int(),
    state: z.enum(["stopped", "starting", "running", "paused", "stopping"]),
    lifecycleControl: z
      .boolean()
      .meta({ description: "Whether the host allows start/stop/pause/resume here" }),
  })
  .meta({ id: "Controls" });

/** Health verdict with reasons. */
export const healthSchema = z
  .object({
    status: z.enum(["healthy", "degraded", "unhealthy"]),
    reasons: z.array(z.string()).optional(),
    checkedAt: isoInstant,
  })
  .meta({ id: "Health" });

const counters = z.object({
  fires: z.number().int(),
  runs: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  timedOut: z.number().int(),
  cancelled: z.number().int(),
  skipped: z.number().int(),
  retries: z.number().int(),
  missed: z.number().int(),
  takenOver: z.number().int(),
  ordersSubmitted: z.number().int(),
  ordersRejected: z.number().int(),
});

/** The scheduler's report on itself. */
export const statusSchema = z
  .object({
    state: z.enum(["stopped", "starting", "running", "paused", "stopping"]),
    instanceId: z.string(),
    storage: z.string(),
    pausedAll: z.boolean(),
    pausedAllBy: z.string().nullable(),
    pausedAllReason: z.string().nullable(),
    startedAt: isoInstantOrNull,
    uptimeMs: z.number(),
    heartbeatAt: isoInstantOrNull,
    counters,
    approvalsPending: z.number().int(),
    broker: z.object({ name: z.string(), connected: z.boolean() }).nullable(),
    schedules: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        job: z.string(),
        enabled: z.boolean(),
        paused: z.boolean(),
        handled: z.boolean(),
        nextFireAt: isoInstantOrNull,
        lastStartAt: isoInstantOrNull,
        lastEndAt: isoInstantOrNull,
        lastStatus: executionStatusEnum.nullable(),
        lastSuccessAt: isoInstantOrNull,
        running: z.number().int(),
      }),
    ),
  })
  .meta({ id: "Status" });

/** The broker account. */
export const accountSchema = z
  .object({
    broker: z.string(),
    connected: z.boolean(),
    id: z.string(),
    currency: z.string(),
    cash: z.string(),
    buyingPower: z.string(),
    equity: z.string(),
    status: z.string(),
  })
  .meta({ id: "Account" });

/** An open position at the broker. */
export const positionSchema = z
  .object({
    symbol: z.string(),
    qty: z.string(),
    side: z.enum(["long", "short"]),
    avgEntryPrice: z.string(),
    marketValue: z.string().nullable(),
  })
  .meta({ id: "Position" });

/** Who the caller is. */
export const sessionInfoSchema = z
  .object({
    name: z.string(),
    role: z.enum(["viewer", "operator", "admin"]),
    via: z.enum(["bearer", "session", "none"]),
    csrfToken: z
      .string()
      .optional()
      .meta({ description: "Send as X-CSRF-Token on every mutation (session only)" }),
    expiresAt: isoInstant.optional(),
  })
  .meta({ id: "SessionInfo" });

/** A registered job and the calendars schedules may name. */
export const catalogSchema = z
  .object({
    jobs: z.array(z.string()),
    calendars: z.array(z.object({ code: z.string(), name: z.string(), timezone: z.string() })),
  })
  .meta({ id: "Catalog" });

/** What a backfill ran. */
export const backfillResultSchema = z
  .object({
    fires: z.number().int(),
    ran: z.number().int(),
    alreadyClaimed: z.number().int(),
    executions: z.array(executionSchema),
  })
  .meta({ id: "BackfillResult" });

/** Output types of the schemas above. */
export type ScheduleDto = z.output<typeof scheduleSchema>;
export type ScheduleStateDto = z.output<typeof scheduleStateSchema>;
export type ExecutionDto = z.output<typeof executionSchema>;
export type ApprovalDto = z.output<typeof approvalSchema>;
export type OrderDto = z.output<typeof orderSchema>;
export type AuditEntryDto = z.output<typeof auditEntrySchema>;
export type StatusDto = z.output<typeof statusSchema>;
export type ControlsDto = z.output<typeof controlsSchema>;
export type PreviewFireDto = z.output<typeof previewFireSchema>;
export type TriggerDto = z.output<typeof triggerSchema>;
