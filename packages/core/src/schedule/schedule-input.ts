/**
 * Schedule input: what `createSchedule` and `updateSchedule` accept, validated with zod, and the
 * pure function that turns it into a stored {@link ScheduleRecord}.
 */

import { z } from "zod";
import { hasCalendar } from "../calendar/registry.js";
import type { JsonValue, ScheduleRecord, ScheduleRetention } from "../storage/records.js";
import { type RiskLimits, riskLimitsSchema } from "../trading/risk.js";
import {
  addIssue,
  durationSchema,
  jsonDataSchema,
  parseInput,
  positiveDurationSchema,
} from "../validation.js";
import {
  DEFAULT_MISFIRE,
  DEFAULT_RETRY,
  type MisfirePolicy,
  misfireInputSchema,
  type OverlapPolicy,
  overlapSchema,
  type RetryPolicy,
  retryInputSchema,
  type TriggerInput,
  type TriggerSpec,
  triggerInputSchema,
} from "./policies.js";

/** The tags of a schedule without tags: one frozen array for all of them. */
const NO_TAGS: string[] = Object.freeze([]) as unknown as string[];

/** Schedule ids: short, URL- and file-name-safe. */
export const SCHEDULE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/** A schedule's own retention of its executions (see {@link ScheduleInput.retention}). */
export const scheduleRetentionSchema = z.strictObject({
  maxAge: positiveDurationSchema.nullable().optional(),
  keepLast: z.number().int().min(0).max(1_000_000_000).nullable().optional(),
});

/** The fields a schedule input may carry (all but `job` and `trigger` optional). */
export const scheduleInputSchema = z.strictObject({
  id: z
    .string()
    .regex(SCHEDULE_ID, "must be 1-64 characters of A-Z a-z 0-9 _ . : - starting with a letter or digit")
    .optional(),
  name: z.string().trim().min(1).max(200).optional(),
  job: z.string().trim().min(1).max(200),
  description: z.string().max(2000).nullable().optional(),
  tags: z.array(z.string().min(1).max(100)).max(50).optional(),
  trigger: triggerInputSchema,
  /** Plain JSON of at most 64 KiB (MAX_DATA_BYTES), the same in every storage. */
  data: jsonDataSchema.nullable().optional(),
  enabled: z.boolean().optional(),
  misfire: misfireInputSchema.optional(),
  overlap: overlapSchema.optional(),
  retry: retryInputSchema.optional(),
  timeout: durationSchema.nullable().optional(),
  requiresApproval: z.boolean().optional(),
  approvalExpiry: positiveDurationSchema.nullable().optional(),
  risk: riskLimitsSchema.nullable().optional(),
  requireBrokerConnection: z.boolean().optional(),
  marketHoursOnly: z.boolean().optional(),
  calendar: z
    .string()
    .trim()
    .transform((v) => v.toUpperCase())
    .superRefine((v, ctx) => {
      if (!hasCalendar(v)) addIssue(ctx, "UNKNOWN_CALENDAR", `unknown calendar '${v}' (register it first)`);
    })
    .optional(),
  retention: scheduleRetentionSchema.nullable().optional(),
});

/** What `createSchedule` accepts. */
export interface ScheduleInput {
  /** Stable id; generated from the name (or randomly) when omitted. */
  id?: string;
  /** Human-readable name; defaults to the id. */
  name?: string;
  /** Registered job name. */
  job: string;
  description?: string | null;
  tags?: string[];
  trigger: TriggerInput;
  /** Parameters for the handler (`ctx.data`). */
  data?: JsonValue | null;
  /** Default true. */
  enabled?: boolean;
  /** Policy name or partial object (durations in ms or as '30s'); default `skip` with 30 s tolerance. */
  misfire?:
    | MisfirePolicy["policy"]
    | {
        policy?: MisfirePolicy["policy"];
        toleranceMs?: number | string;
        graceMs?: number | string;
        windowMs?: number | string;
        maxRuns?: number;
      };
  /** Default `skip`. */
  overlap?: OverlapPolicy;
  /** Attempts or a partial policy (durations in ms or as '60s'); default 3 attempts, 1 s / 2 s backoff. */
  retry?:
    | number
    | {
        attempts?: number;
        backoff?: { baseMs?: number | string; factor?: number; maxMs?: number | string; jitter?: number };
        nonRetryable?: string[];
      };
  /** Per-attempt timeout (ms or '30s'); null or omitted: none. */
  timeout?: number | string | null;
  /** Orders from `ctx.submit` wait for a human approval. Default false. */
  requiresApproval?: boolean;
  /** How long approvals stay pending (ms or '4h'); default the scheduler's (4 h). */
  approvalExpiry?: number | string | null;
  /** Risk limits for this schedule, checked after the scheduler-wide ones. */
  risk?: RiskLimits | null;
  /** Skip fires while the broker is disconnected (reason `broker_disconnected`). Default false. */
  requireBrokerConnection?: boolean;
  /** Skip fires outside a trading session (reason `market_closed`). Default false. */
  marketHoursOnly?: boolean;
  /** Calendar for `marketHoursOnly` (XNYS, XLON, or one you registered). Default XNYS. */
  calendar?: string;
  /**
   * How long this schedule's final executions are kept, overriding the scheduler's `retention`
   * field by field: `maxAge` (ms or '90d'), `keepLast` (a count). A field left out follows the
   * scheduler; null switches that limit off for this schedule. See docs/retention.md.
   */
  retention?: { maxAge?: number | string | null; keepLast?: number | null } | null;
}

/** What `updateSchedule` accepts: any subset of the input fields except the id. */
export type ScheduleUpdate = Partial<Omit<ScheduleInput, "id">>;

function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_.:-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "")
    .slice(0, 64)
    .replace(/-+$/, "");
}

/** Canonical trigger: fills the interval anchor (creation time) so every instance sees the same lattice. */
function canonicalTrigger(spec: z.output<typeof triggerInputSchema>, now: number): TriggerSpec {
  if (spec.type === "interval") {
    return { type: "interval", every: spec.every, anchor: spec.anchor ?? now, jitter: spec.jitter };
  }
  return spec;
}

function sameMisfire(a: MisfirePolicy, b: MisfirePolicy): boolean {
  return (
    a.policy === b.policy &&
    a.toleranceMs === b.toleranceMs &&
    a.graceMs === b.graceMs &&
    a.windowMs === b.windowMs &&
    a.maxRuns === b.maxRuns
  );
}

function sameRetry(a: RetryPolicy, b: RetryPolicy): boolean {
  return (
    a.attempts === b.attempts &&
    a.nonRetryable.length === b.nonRetryable.length &&
    a.nonRetryable.every((x, i) => x === b.nonRetryable[i]) &&
    a.backoff.baseMs === b.backoff.baseMs &&
    a.backoff.factor === b.backoff.factor &&
    a.backoff.maxMs === b.backoff.maxMs &&
    a.backoff.jitter === b.backoff.jitter
  );
}

/** Validates a schedule input. Throws a ValidationError naming the field. */
export function parseScheduleInput(input: unknown): z.output<typeof scheduleInputSchema> {
  return parseInput(scheduleInputSchema, input, "schedule", "", "schedule");
}

/**
 * Builds the record stored for a new schedule, or for an update of `previous` (keeping what the
 * update does not mention). Policies equal to the defaults share the frozen default objects, which
 * keeps an armed schedule small.
 */
export function buildScheduleRecord(
  input: ScheduleInput | (ScheduleUpdate & { id?: string }),
  now: number,
  previous?: ScheduleRecord,
  makeId: () => string = () => crypto.randomUUID(),
): ScheduleRecord {
  const merged = previous ? { ...recordToInput(previous), ...input, id: previous.id } : input;
  const p = parseScheduleInput(merged);
  const misfire = p.misfire ?? DEFAULT_MISFIRE;
  const retry: RetryPolicy = p.retry ?? DEFAULT_RETRY;
  const id = p.id ?? (p.name ? slug(p.name) || makeId() : makeId());
  const trigger =
    previous && input.trigger === undefined
      ? previous.trigger
      : canonicalTrigger(p.trigger, previous?.createdAt ?? now);
  const enabled = p.enabled ?? true;
  const triggerChanged =
    previous !== undefined && JSON.stringify(trigger) !== JSON.stringify(previous.trigger);
  const reEnabled = previous !== undefined && enabled && !previous.enabled;
  return {
    id,
    name: p.name ?? id,
    job: p.job,
    description: p.description ?? null,
    tags: p.tags ?? NO_TAGS,
    trigger,
    data: p.data ?? null,
    enabled,
    paused: previous?.paused ?? false,
    misfire: sameMisfire(misfire, DEFAULT_MISFIRE) ? DEFAULT_MISFIRE : misfire,
    overlap: p.overlap ?? "skip",
    retry: sameRetry(retry, DEFAULT_RETRY) ? DEFAULT_RETRY : retry,
    timeoutMs: p.timeout ?? null,
    requiresApproval: p.requiresApproval ?? false,
    approvalExpiryMs: p.approvalExpiry ?? null,
    risk: (p.risk ?? null) as ScheduleRecord["risk"],
    requireBrokerConnection: p.requireBrokerConnection ?? false,
    marketHoursOnly: p.marketHoursOnly ?? false,
    calendar: p.calendar ?? "XNYS",
    retention: storedRetention(p.retention),
    firesSince: !previous || triggerChanged || reEnabled ? now : previous.firesSince,
    revision: previous ? previous.revision + 1 : 1,
    createdAt: previous?.createdAt ?? now,
    updatedAt: now,
  };
}

/** The record form of a retention override: only the fields given, null when there is none. */
function storedRetention(
  r: z.output<typeof scheduleRetentionSchema> | null | undefined,
): ScheduleRetention | null {
  if (!r) return null;
  const out: ScheduleRetention = {};
  if (r.maxAge !== undefined) out.maxAgeMs = r.maxAge;
  if (r.keepLast !== undefined) out.keepLast = r.keepLast;
  return Object.keys(out).length === 0 ? null : out;
}

/** The input that reproduces a stored record (used to merge updates before re-validating). */
export function recordToInput(record: ScheduleRecord): ScheduleInput {
  return {
    id: record.id,
    name: record.name,
    job: record.job,
    description: record.description,
    tags: record.tags,
    trigger: record.trigger as TriggerInput,
    data: record.data,
    enabled: record.enabled,
    misfire: record.misfire,
    overlap: record.overlap,
    retry: record.retry,
    timeout: record.timeoutMs,
    requiresApproval: record.requiresApproval ?? false,
    approvalExpiry: record.approvalExpiryMs ?? null,
    risk: (record.risk ?? null) as RiskLimits | null,
    requireBrokerConnection: record.requireBrokerConnection ?? false,
    marketHoursOnly: record.marketHoursOnly ?? false,
    calendar: record.calendar ?? "XNYS",
    retention: record.retention
      ? {
          ...(record.retention.maxAgeMs !== undefined && { maxAge: record.retention.maxAgeMs }),
          ...(record.retention.keepLast !== undefined && { keepLast: record.retention.keepLast }),
        }
      : null,
  };
}
