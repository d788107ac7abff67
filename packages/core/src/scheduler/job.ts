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
import type { GroupProposal } from "../trading/group-approvals.js";

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
  /**
   * The schedule's state as of its last committed run (null before the first commit): a copy,
   * read when this attempt started. A retried or taken-over attempt sees the same committed state
   * again, because a failed, timed-out or cancelled attempt commits nothing.
   */
  readonly state: JsonValue | null;
  /**
   * Stages `next` as the schedule's new state. It is committed only if this attempt succeeds, in
   * the same storage write that records the succeeded outcome (the last call wins); a run that
   * lost its claim or whose state another run replaced meanwhile commits nothing. Throws a
   * ValidationError `INVALID_DATA` (field `state`) for a value that is not plain JSON of at most
   * 64 KiB, and StateError `NOT_RUNNING` once the attempt has ended.
   */
  setState(next: JsonValue | null): void;
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
  /**
   * Proposes `intents` as one approval group (a rebalance plan): one approval per intent, each
   * carrying the group id, decided as a unit with `scheduler.approveGroup` / `rejectGroup` and
   * expiring together. Intents take the next positions of the fire, so the group, its approvals
   * and their client order ids are the same on every attempt (idempotent like `propose`). When
   * the risk guard refuses any intent at proposal, the whole group is stored as rejected (all or
   * none): `status` is `rejected` and each outcome says why. Works whether or not the schedule
   * requires approval. Throws a ValidationError naming the field (`intents.2.qty`).
   */
  proposeGroup(intents: OrderIntentInput[], options?: ProposeGroupOptions): Promise<GroupProposal>;
}

/** Options of `ctx.proposeGroup`: metadata for the whole group. */
export interface ProposeGroupOptions {
  /** Rationale of every member that has none of its own. */
  rationale?: string;
  /** Risk level of every member (overrides theirs). */
  riskLevel?: "low" | "medium" | "high";
  /** Supporting data of every member that has none of its own. */
  supportingData?: JsonValue;
  /** How long the group stays pending (ms or a duration such as `'30m'`); default the schedule's approval expiry. */
  expiresIn?: number | string;
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

const DAY_MS = 86_400_000;
/** Largest instant whose ISO form has a four-digit year (9999-12-31T23:59:59.999Z). */
const MAX_FOUR_DIGIT_YEAR_MS = 253_402_300_799_999;
let isoDay = Number.NaN;
let isoDatePrefix = "";
const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/**
 * `new Date(at).toISOString()`, about six times faster: the date part is cached per UTC day and the
 * time of day formatted by hand. Every fire formats its instant, so this is on the dispatch path.
 */
function isoInstant(at: number): string {
  if (!Number.isInteger(at) || at < 0 || at > MAX_FOUR_DIGIT_YEAR_MS) return new Date(at).toISOString();
  const day = Math.floor(at / DAY_MS);
  if (day !== isoDay) {
    isoDay = day;
    isoDatePrefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
  }
  let ms = at - day * DAY_MS;
  const h = Math.floor(ms / 3_600_000);
  ms -= h * 3_600_000;
  const m = Math.floor(ms / 60_000);
  ms -= m * 60_000;
  const sec = Math.floor(ms / 1000);
  ms -= sec * 1000;
  return `${isoDatePrefix}${two(h)}:${two(m)}:${two(sec)}.${ms < 10 ? "00" : ms < 100 ? "0" : ""}${ms}Z`;
}

/** The idempotency key of a fire: readable, unique per (schedule, instant), the same on every instance. */
export function fireIdempotencyKey(scheduleId: string, scheduledAt: number): string {
  // Fires due together share their instant: its ISO text is made once, not once per fire.
  if (scheduledAt !== lastKeyInstant) {
    lastKeyInstant = scheduledAt;
    lastKeyIso = isoInstant(scheduledAt);
  }
  return `${scheduleId}@${lastKeyIso}`;
}
let lastKeyInstant = Number.NaN;
let lastKeyIso = "";

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
