/** Jobs: named handlers, and the context each run hands them. */

import type { Broker } from "../broker/broker.js";
import type { Logger } from "../logger.js";
import type { OrderIntentInput } from "../orders/intent.js";
import type {
  ApprovalStatus,
  ExecutionRecord,
  FireKind,
  JsonValue,
  OrderRecord,
  ScheduleRecord,
} from "../storage/records.js";

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
  /** The configured broker, for reading account, positions and prices (null when none). Place orders through `submit`. */
  readonly broker: Broker | null;
  /**
   * Proposes an order for human approval. Each intent of a fire gets a deterministic client order
   * id from (fire, position), so a retried or taken-over fire proposes the same approvals again
   * instead of new ones. Throws a ValidationError for a malformed intent.
   */
  propose(intent: OrderIntentInput): Promise<ProposalOutcome>;
  /**
   * Submits an order through the risk guard to the broker, or queues it for approval when the
   * schedule requires approval. Idempotent per (fire, position). Throws when the broker is
   * unreachable (the run is retried, and the retry finds the same order); risk and broker
   * rejections are returned, not thrown.
   */
  submit(intent: OrderIntentInput): Promise<SubmitOutcome>;
}

/** What `propose` returns. */
export interface ProposalOutcome {
  /** `pending`, or `rejected` by the risk guard (then `rule` and `reason` say why); a retried fire sees the current status. */
  status: ApprovalStatus;
  approvalId: string;
  clientOrderId: string;
  rule?: string;
  reason?: string;
}

/** What `submit` returns: submitted, rejected (with the rule), or queued for approval. */
export type SubmitOutcome =
  | { status: "submitted"; clientOrderId: string; order: OrderRecord }
  | { status: "rejected"; clientOrderId: string; rule: string; reason: string }
  | { status: "queued"; clientOrderId: string; approvalId: string; approvalStatus: ApprovalStatus };

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
