/**
 * The records a storage keeps. Instants are epoch milliseconds (UTC); every record is plain
 * JSON-serialisable data, so adapters may store it as a document or map it to columns.
 */

import type { MisfirePolicy, OverlapPolicy, RetryPolicy, TriggerSpec } from "../schedule/policies.js";

/** Any JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A saved schedule: what to run, when, and under which policies. */
export interface ScheduleRecord {
  /** Stable id: 1-64 characters of `[A-Za-z0-9_.:-]`, starting with a letter or digit. */
  id: string;
  /** Human-readable name. */
  name: string;
  /** Name of the registered job (handler) that runs on each fire. */
  job: string;
  /** Free text for people. */
  description: string | null;
  /** Labels for filtering. */
  tags: string[];
  /** When it fires. */
  trigger: TriggerSpec;
  /** Parameters handed to the handler as `ctx.data`. */
  data: JsonValue | null;
  /** Disabled schedules are kept but never fire. */
  enabled: boolean;
  /** Paused schedules do not fire until resumed; missed fires follow the misfire policy. */
  paused: boolean;
  /** What happens to fires missed while down or paused. */
  misfire: MisfirePolicy;
  /** What happens when a fire comes while the previous run is still going. */
  overlap: OverlapPolicy;
  /** How failed runs are retried. */
  retry: RetryPolicy;
  /** Per-attempt timeout in ms; the handler's signal is aborted when it passes. Null: none. */
  timeoutMs: number | null;
  /** Orders submitted by this schedule's handler wait for a human approval. */
  requiresApproval: boolean;
  /** How long its approvals stay pending, in ms; null: the scheduler's default (4 h). */
  approvalExpiryMs: number | null;
  /** Risk limits checked after the scheduler-wide ones (decimals as strings); null: none. */
  risk: { [key: string]: JsonValue } | null;
  /** Skip fires (reason `broker_disconnected`) while the broker is not connected. */
  requireBrokerConnection: boolean;
  /** Skip fires outside a session of `calendar` (reason `market_closed`). */
  marketHoursOnly: boolean;
  /** Calendar code for `marketHoursOnly` (default XNYS). */
  calendar: string;
  /**
   * Fires at or before this instant never count as missed: set on creation, when the trigger
   * changes and when the schedule is enabled again (fires while disabled are not owed).
   */
  firesSince: number;
  /**
   * How long this schedule's final executions are kept, overriding the scheduler's retention
   * policy field by field; null or absent: the scheduler's policy.
   */
  retention?: ScheduleRetention | null;
  /** Optimistic-concurrency revision, 1 on creation, +1 on every update. */
  revision: number;
  /** Creation instant. */
  createdAt: number;
  /** Last update instant. */
  updatedAt: number;
}

/**
 * A schedule's own retention of its executions. A field left out follows the scheduler's policy;
 * null switches that limit off for this schedule.
 */
export interface ScheduleRetention {
  /** Final executions older than this (by `scheduledAt`, in ms) may be deleted; null: any age is kept. */
  maxAgeMs?: number | null;
  /** The newest this many executions are kept whatever their age; null: no count floor. */
  keepLast?: number | null;
}

/** Lifecycle of one fire. `claimed` waits to start (buffered); the last five are final. */
export type ExecutionStatus =
  | "claimed"
  | "running"
  | "succeeded"
  | "failed"
  | "timed_out"
  | "skipped"
  | "cancelled";

/** Statuses after which an execution never changes again. */
export const FINAL_STATUSES: readonly ExecutionStatus[] = [
  "succeeded",
  "failed",
  "timed_out",
  "skipped",
  "cancelled",
];

/** Why a fire exists: its own schedule, a missed fire caught up, a person, or a backfill request. */
export type FireKind = "scheduled" | "catchup" | "manual" | "backfill";

/** The error stored with a failed execution. */
export interface ExecutionError {
  message: string;
  code: string | null;
  name: string;
}

/**
 * One fire of a schedule and what became of it. The pair (scheduleId, scheduledAt) is unique:
 * claiming it is how exactly-once is decided.
 */
export interface ExecutionRecord {
  /** Unique id of this record. */
  id: string;
  scheduleId: string;
  job: string;
  /** The instant the fire was due (for manual fires, when it was requested). */
  scheduledAt: number;
  kind: FireKind;
  status: ExecutionStatus;
  /** Why it was skipped or cancelled (`overlap`, `misfire`, `paused`, `shutdown`, ...). */
  reason: string | null;
  /** Attempts started so far; a takeover after a crash continues with attempts + 1. */
  attempts: number;
  claimedAt: number;
  startedAt: number | null;
  endedAt: number | null;
  /** The instance that holds (or last held) the claim. */
  instanceId: string;
  /** While claimed or running: the claim is the holder's until this instant, then others may take it over. */
  leaseExpiresAt: number | null;
  /** Who asked for a manual or backfill fire. */
  actor: string | null;
  error: ExecutionError | null;
  /** What the handler returned (JSON), as a summary. */
  result: JsonValue | null;
  /** Structured extras: coalesced fire counts, skip details. */
  details: JsonValue | null;
  /** Same for every attempt and takeover of this fire; handlers use it to make side effects idempotent. */
  idempotencyKey: string;
}

/** The persisted emergency switch and other instance-wide control state. */
export interface ControlRecord {
  /** True while an emergency pause-all is in force. Survives restarts. */
  pausedAll: boolean;
  pausedAt: number | null;
  pausedBy: string | null;
  reason: string | null;
  /** Bumped on every change, so pollers notice one. */
  revision: number;
}

/** Approval status. `pending` is the only state an actor can decide on. */
export type ApprovalStatus = "pending" | "approved" | "rejected" | "expired" | "submitted" | "failed";

/** Risk level attached to a proposal. */
export type RiskLevel = "low" | "medium" | "high";

/** A proposed order waiting for (or past) a human decision. */
export interface ApprovalRecord {
  id: string;
  scheduleId: string;
  executionId: string;
  /** Idempotency key of the fire that proposed it. */
  fireKey: string;
  /** Position of the intent within its fire. */
  intentIndex: number;
  /** The deterministic client order id the order will carry. */
  clientOrderId: string;
  /** The order intent as proposed (JSON). */
  intent: JsonValue;
  status: ApprovalStatus;
  riskLevel: RiskLevel;
  rationale: string | null;
  confidence: number | null;
  supportingData: JsonValue | null;
  createdAt: number;
  expiresAt: number;
  decidedAt: number | null;
  decidedBy: string | null;
  decisionReason: string | null;
  /** Set once submitted: the broker's order id. */
  brokerOrderId: string | null;
  error: ExecutionError | null;
  /**
   * The approval group it belongs to (see `ctx.proposeGroup`): its members are decided, and
   * expire, together. Absent for an approval proposed on its own.
   */
  groupId?: string;
}

/** An order sent (or being sent) to a broker, keyed by its client order id. */
export interface OrderRecord {
  clientOrderId: string;
  brokerOrderId: string | null;
  broker: string;
  scheduleId: string | null;
  executionId: string | null;
  approvalId: string | null;
  symbol: string;
  side: "buy" | "sell";
  /** The intent as submitted (JSON). */
  intent: JsonValue;
  /** Broker-neutral status (`new`, `accepted`, `partially_filled`, `filled`, `canceled`, `rejected`, ...). */
  status: string;
  filledQty: string;
  avgFillPrice: string | null;
  submittedAt: number;
  updatedAt: number;
  error: ExecutionError | null;
}

/** One entry of the append-only audit log: who did what to which subject, when and why. */
export interface AuditEntry {
  /** Assigned by the storage; increases with every append. */
  seq: number;
  at: number;
  actor: string;
  /** Dotted verb: `schedule.create`, `approval.approve`, `scheduler.pause_all`, ... */
  action: string;
  subjectType: string;
  subjectId: string | null;
  details: JsonValue | null;
}

/** A page of results and the cursor of the next page (null at the end). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
