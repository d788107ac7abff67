/**
 * Triggers and per-schedule policies: their stored (canonical) shapes, their input schemas and
 * their defaults (DESIGN.md "Policies a schedule carries").
 */

import { z } from "zod";
import {
  type MarketTriggerInput,
  type MarketTriggerSpec,
  marketTriggerSpecSchema,
} from "../calendar/market-trigger.js";
import { canonicalTimeZone, isValidTimeZone } from "../time/zone.js";
import { cachedMatcher } from "../triggers/cron.js";
import { addIssue, durationSchema, instantSchema, positiveDurationSchema } from "../validation.js";

// --- triggers -------------------------------------------------------------------------------

/** Fires on a cron pattern in an IANA zone. */
export interface CronTriggerSpec {
  type: "cron";
  /** 5 fields (minute hour day month weekday), 6 with seconds first, or an @alias. */
  expression: string;
  /** IANA zone the pattern is read in. */
  timezone: string;
}

/** Fires every `every` ms on a lattice through `anchor`, optionally delayed by a deterministic jitter. */
export interface IntervalTriggerSpec {
  type: "interval";
  every: number;
  anchor: number;
  jitter: number;
}

/** Fires once at `at`. */
export interface OnceTriggerSpec {
  type: "once";
  at: number;
}

/** When a schedule fires. Stored in canonical form (all durations and instants in ms). */
export type TriggerSpec = CronTriggerSpec | IntervalTriggerSpec | OnceTriggerSpec | MarketTriggerSpec;

const cronExpression = z.string().superRefine((value, ctx) => {
  try {
    // Through the cache the trigger compiles from next, so a new schedule parses its expression once.
    cachedMatcher(value);
  } catch (error) {
    addIssue(
      ctx,
      "INVALID_CRON",
      error instanceof Error ? error.message.replace(/^cron: (expression: )?/, "") : String(error),
    );
  }
});

/** A time zone is stored under its canonical IANA name (`america/new_york` becomes `America/New_York`). */
const timezone = z
  .string()
  .default("UTC")
  .transform((value, ctx) => {
    if (!isValidTimeZone(value)) {
      addIssue(
        ctx,
        "UNKNOWN_TIMEZONE",
        `unknown time zone '${value}' (expected an IANA name such as America/New_York)`,
      );
      return z.NEVER;
    }
    return canonicalTimeZone(value);
  });

/**
 * Shortest interval of an interval trigger: one second, the finest a cron pattern can express.
 * Faster loops are not what a scheduler is for (`every: '1ms'` would fire a thousand times a second).
 */
export const MIN_INTERVAL_MS = 1000;

const cronSpec = z.strictObject({ type: z.literal("cron"), expression: cronExpression, timezone });
const intervalSpec = z
  .strictObject({
    type: z.literal("interval"),
    every: positiveDurationSchema.refine((n) => n >= MIN_INTERVAL_MS, {
      message: `an interval must be at least ${MIN_INTERVAL_MS} ms (1s)`,
      params: { code: "INVALID_INTERVAL" },
    }),
    anchor: instantSchema.optional(),
    jitter: durationSchema.default(0),
  })
  .superRefine((value, ctx) => {
    if (value.jitter >= value.every) {
      ctx.addIssue({
        code: "custom",
        path: ["jitter"],
        message: `jitter (${value.jitter} ms) must be less than the interval (${value.every} ms)`,
        params: { code: "INVALID_INTERVAL" },
      });
    }
  });
const onceSpec = z.strictObject({ type: z.literal("once"), at: instantSchema });

/**
 * Trigger input. Besides the canonical `{ type: 'cron', expression, timezone }` forms it takes
 * shorthands: `{ cron: '0 9 * * 1-5', timezone }`, `{ every: '30s' }`, `{ at: '2026-01-05T14:30:00Z' }`.
 */
export const triggerInputSchema = z.preprocess(
  (raw) => {
    if (raw && typeof raw === "object" && !("type" in raw)) {
      const r = raw as Record<string, unknown>;
      if ("cron" in r) {
        const { cron, ...rest } = r;
        return { type: "cron", expression: cron, ...rest };
      }
      if ("every" in r) return { type: "interval", ...r };
      if ("at" in r) return { type: "once", ...r };
      if ("event" in r && "calendar" in r) return { type: "market", ...r };
    }
    return raw;
  },
  z.discriminatedUnion("type", [cronSpec, intervalSpec, onceSpec, marketTriggerSpecSchema]),
);

/** Trigger as accepted by the API (before defaults such as the interval anchor are filled in). */
export type TriggerInput =
  | { type: "cron"; expression: string; timezone?: string }
  | { cron: string; timezone?: string }
  | { type: "interval"; every: number | string; anchor?: Date | number | string; jitter?: number | string }
  | { every: number | string; anchor?: Date | number | string; jitter?: number | string }
  | { type: "once"; at: Date | number | string }
  | { at: Date | number | string }
  | MarketTriggerInput;

// --- misfire --------------------------------------------------------------------------------

/**
 * What to do with fires missed while the scheduler was down, paused, or blocked:
 * - `skip`: record them as skipped (reason `misfire`) and wait for the next fire;
 * - `run_once`: run the latest missed fire once if it is at most `graceMs` old, coalescing the rest;
 * - `run_all`: run every missed fire of the last `windowMs`, oldest first, at most `maxRuns`.
 * The latest due fire, if it is at most `toleranceMs` late, is not missed: it simply runs late.
 * Earlier due fires of the same schedule were superseded by it and count as missed, so a stalled
 * process never fires a schedule in a burst.
 */
export interface MisfirePolicy {
  policy: "skip" | "run_once" | "run_all";
  toleranceMs: number;
  graceMs: number;
  windowMs: number;
  maxRuns: number;
}

/** Default misfire policy: skip what was missed; a fire up to 30 s late still counts as on time. */
export const DEFAULT_MISFIRE: Readonly<MisfirePolicy> = Object.freeze({
  policy: "skip",
  toleranceMs: 30_000,
  graceMs: 3_600_000,
  windowMs: 3_600_000,
  maxRuns: 100,
});

const misfireObject = z.strictObject({
  policy: z.enum(["skip", "run_once", "run_all"]).default("skip"),
  toleranceMs: durationSchema.default(DEFAULT_MISFIRE.toleranceMs),
  graceMs: durationSchema.default(DEFAULT_MISFIRE.graceMs),
  windowMs: durationSchema.default(DEFAULT_MISFIRE.windowMs),
  maxRuns: z.number().int().min(1).max(100_000).default(DEFAULT_MISFIRE.maxRuns),
});

/** Misfire input: a policy name or a (partial) policy object. */
export const misfireInputSchema = z
  .union([
    z.enum(["skip", "run_once", "run_all"]).transform((policy) => ({ policy })),
    z.object({}).passthrough(),
  ])
  .pipe(misfireObject);

// --- overlap --------------------------------------------------------------------------------

/**
 * What to do when a fire comes while the schedule's previous run is still going (Temporal's set):
 * `skip` it, `buffer_one` (keep at most one waiting), `buffer_all`, `cancel_previous` (abort the
 * running one, then start), or `allow` concurrent runs.
 */
export type OverlapPolicy = "skip" | "buffer_one" | "buffer_all" | "cancel_previous" | "allow";

/** Overlap input schema; default `skip`. */
export const overlapSchema = z.enum(["skip", "buffer_one", "buffer_all", "cancel_previous", "allow"]);

// --- retry ----------------------------------------------------------------------------------

/** Exponential backoff between attempts: min(maxMs, baseMs * factor^(n-1)) +/- jitter (a fraction). */
export interface BackoffPolicy {
  baseMs: number;
  factor: number;
  maxMs: number;
  jitter: number;
}

/**
 * How failed runs are retried. `attempts` counts the first run. Errors whose `code` or `name` is
 * listed in `nonRetryable`, errors with `retryable: false`, and tradecron's validation and
 * rejection errors are never retried; neither are programming errors (a TypeError that is not a
 * network failure), as p-retry decides. A takeover (another instance continuing a fire whose
 * holder died) uses one attempt too: a fire taken over more often than `attempts` allows is
 * recorded as failed (`LEASE_EXPIRED`) without running again.
 */
export interface RetryPolicy {
  attempts: number;
  backoff: BackoffPolicy;
  nonRetryable: string[];
}

/** Default retry policy: 3 attempts, 1 s then 2 s apart (capped at 5 min), no jitter. */
export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({
  attempts: 3,
  backoff: Object.freeze({ baseMs: 1000, factor: 2, maxMs: 300_000, jitter: 0 }),
  nonRetryable: Object.freeze([]) as unknown as string[],
});

const backoffSchema = z.strictObject({
  baseMs: durationSchema.default(DEFAULT_RETRY.backoff.baseMs),
  factor: z.number().min(1).max(100).default(DEFAULT_RETRY.backoff.factor),
  maxMs: durationSchema.default(DEFAULT_RETRY.backoff.maxMs),
  jitter: z.number().min(0).max(1).default(DEFAULT_RETRY.backoff.jitter),
});

/** Retry input: a number of attempts or a (partial) policy object. */
export const retryInputSchema = z
  .union([z.number().transform((attempts) => ({ attempts })), z.object({}).passthrough()])
  .pipe(
    z.strictObject({
      attempts: z.number().int().min(1).max(100).default(DEFAULT_RETRY.attempts),
      backoff: backoffSchema.default(DEFAULT_RETRY.backoff),
      nonRetryable: z.array(z.string().min(1)).default([]),
    }),
  );
