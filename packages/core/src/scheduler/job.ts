/** Jobs: named handlers, and the context each run hands them. */

import type { Logger } from "../logger.js";
import type { ExecutionRecord, FireKind, JsonValue, ScheduleRecord } from "../storage/records.js";

/** Identity of the fire being run. */
export interface FireInfo {
  scheduleId: string;
  /** The instant the fire was due (epoch ms). */
  scheduledAt: number;
  /** 1 for the first attempt; higher on retries and after a takeover from a crashed instance. */
  attempt: number;
  /** Same for every attempt and takeover of this fire: key idempotent side effects on it. */
  idempotencyKey: string;
  executionId: string;
  kind: FireKind;
  /** Who asked for a manual or backfill fire. */
  actor: string | null;
}

/** What a handler receives. */
export interface JobContext<TData = JsonValue | null> {
  readonly fire: FireInfo;
  readonly schedule: ScheduleRecord;
  /** The schedule's `data`. */
  readonly data: TData;
  /** Aborted on timeout, cancellation (overlap `cancel_previous`), shutdown, or a lost lease. */
  readonly signal: AbortSignal;
  /** Logger bound to the schedule and fire. */
  readonly logger: Logger;
  /** The scheduler's clock (epoch ms). */
  now(): number;
}

/** A job handler. Its resolved value (JSON-serialisable) is stored as the run's result summary. */
export type JobHandler<TData = JsonValue | null> = (ctx: JobContext<TData>) => unknown | Promise<unknown>;

/** A registered job. */
export interface JobDefinition {
  name: string;
  handler: JobHandler<never>;
  description: string | null;
}

/** The idempotency key of a fire: readable, unique per (schedule, instant), the same on every instance. */
export function fireIdempotencyKey(scheduleId: string, scheduledAt: number): string {
  return `${scheduleId}@${new Date(scheduledAt).toISOString()}`;
}

/** The fire identity handed to a handler. */
export function fireInfo(execution: ExecutionRecord): FireInfo {
  return {
    scheduleId: execution.scheduleId,
    scheduledAt: execution.scheduledAt,
    attempt: execution.attempts,
    idempotencyKey: execution.idempotencyKey,
    executionId: execution.id,
    kind: execution.kind,
    actor: execution.actor,
  };
}
