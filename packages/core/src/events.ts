/**
 * The one typed event map of the scheduler. Names are namespaced `area:what`. Background failures
 * surface here (`scheduler:error`) and never throw out of the loop.
 */

import type { BrokerConnectionDetail } from "./broker/broker.js";
import type { ApprovalRecord, ExecutionRecord, OrderRecord, ScheduleRecord } from "./storage/records.js";
import type { ApprovalGroup } from "./trading/approval-group.js";

/** Why a fire did not run. */
export type SkipReason =
  | "overlap"
  | "overlap_buffer_full"
  | "misfire"
  | "coalesced"
  | "paused"
  | "paused_all"
  | "disabled"
  | "market_closed"
  | "broker_disconnected"
  | "overlap_unknown"
  | (string & {});

/** Payloads by event name. */
export interface SchedulerEvents {
  "scheduler:started": { instanceId: string; at: number };
  "scheduler:stopping": { instanceId: string; at: number; running: number };
  /**
   * Stopped. `cancelled` / `handedOver`: executions whose handler was still running at the stop
   * deadline, recorded cancelled or handed over (`stop({ atDeadline })`).
   */
  "scheduler:stopped": { instanceId: string; at: number; cancelled: string[]; handedOver: string[] };
  "scheduler:paused": { at: number };
  "scheduler:resumed": { at: number };
  "scheduler:paused-all": { at: number; actor: string; reason: string | null };
  "scheduler:resumed-all": { at: number; actor: string };
  /** A background failure (storage down, a listener threw, ...). The loop carries on. */
  "scheduler:error": { error: Error; context: string };
  /** The timer woke at an unexpected time: early, late, or after the wall clock went backwards. */
  "timer:drift": { kind: "early" | "late" | "backwards"; expectedAt: number; at: number; byMs: number };

  "schedule:created": { schedule: ScheduleRecord; actor: string };
  "schedule:updated": { schedule: ScheduleRecord; previous: ScheduleRecord; actor: string };
  "schedule:removed": { id: string; actor: string };
  "schedule:paused": { schedule: ScheduleRecord; actor: string };
  "schedule:resumed": { schedule: ScheduleRecord; actor: string };
  /** A schedule this instance cannot run (its job is not registered here); another instance may. */
  "schedule:unhandled": { schedule: ScheduleRecord };

  /** This instance won the claim of a fire. */
  "fire:claimed": { execution: ExecutionRecord };
  /** Another instance (or an earlier run) holds this fire already. */
  "fire:taken": { scheduleId: string; scheduledAt: number; holder: string };
  /** Fires were missed (down, paused, clock jump); `policy` says what was done about them. */
  "fire:missed": {
    scheduleId: string;
    count: number;
    firstAt: number;
    lastAt: number;
    policy: "skip" | "run_once" | "run_all";
    ran: number;
  };
  /** A crashed instance's fire was taken over by this one (attempt > 1, same idempotency key). */
  "fire:taken-over": { execution: ExecutionRecord };
  /**
   * This instance gave back a fire it held but had not started (at shutdown): its lease expired at
   * once, so another instance (or this one after a restart) takes it over and runs it.
   */
  "fire:handed-over": { execution: ExecutionRecord; reason: string };

  "run:started": { execution: ExecutionRecord; attempt: number };
  "run:retrying": { execution: ExecutionRecord; attempt: number; delayMs: number; error: Error };
  "run:succeeded": { execution: ExecutionRecord; durationMs: number };
  /** The run failed for good; `exhausted` is true when every attempt was used (false: a non-retryable error). */
  "run:failed": { execution: ExecutionRecord; error: Error; exhausted: boolean };
  "run:timed-out": { execution: ExecutionRecord; timeoutMs: number };
  "run:skipped": { execution: ExecutionRecord; reason: SkipReason };
  "run:cancelled": { execution: ExecutionRecord; reason: string };
  /** A handler's outcome arrived after its run was decided (timed out, cancelled, lease lost) and was discarded. */
  "run:late-result": { executionId: string; outcome: "resolved" | "rejected" };

  /** A proposed order waits for a human decision. */
  "approval:requested": { approval: ApprovalRecord };
  /** An approval was approved or rejected (by a person, or by the risk guard as `risk-guard`). */
  "approval:decided": { approval: ApprovalRecord; decision: "approved" | "rejected"; actor: string };
  /** A pending approval passed its expiry undecided. */
  "approval:expired": { approval: ApprovalRecord };
  /** A group of proposed orders waits for one decision (each member also raised `approval:requested`). */
  "approval-group:requested": { group: ApprovalGroup };
  /**
   * A group was approved or rejected as a unit: by a person, or at proposal by the risk guard as
   * `risk-guard` (each member also raised `approval:decided`). On approval its orders are
   * submitted next, in proposal order; `order:submitted` and `order:rejected` tell each outcome.
   */
  "approval-group:decided": {
    group: ApprovalGroup;
    decision: "approved" | "rejected";
    actor: string;
    reason: string | null;
  };
  /** A pending group passed its expiry undecided: every member expired together. */
  "approval-group:expired": { group: ApprovalGroup };
  /** An order reached the broker (or was found there already: submits are idempotent). */
  "order:submitted": { order: OrderRecord };
  /** The risk guard or the broker refused an order. */
  "order:rejected": {
    clientOrderId: string;
    scheduleId: string | null;
    symbol: string;
    rule: string;
    reason: string;
  };
  /** The broker reported a status change (fill, cancel) of one of our orders. */
  "order:updated": { order: OrderRecord; event: string };
  /** `detail`: what the adapter told about the change (reason, channels, data lost), if anything. */
  "broker:connected": { broker: string; at: number; detail?: BrokerConnectionDetail };
  "broker:disconnected": { broker: string; at: number; detail?: BrokerConnectionDetail };
  /** A retention pass deleted old history (counts per record type; passes that delete nothing are silent). */
  "retention:pruned": {
    at: number;
    executions: number;
    approvals: number;
    orders: number;
    audit: number;
    durationMs: number;
  };
}

/** Event names. */
export type SchedulerEventName = keyof SchedulerEvents;

/**
 * Every event name, at run time (for hosts that forward all events: SSE, logs, metrics). Keyed by
 * name so the compiler refuses a list that misses or invents one.
 */
const EVENT_NAME_SET: Record<SchedulerEventName, true> = {
  "scheduler:started": true,
  "scheduler:stopping": true,
  "scheduler:stopped": true,
  "scheduler:paused": true,
  "scheduler:resumed": true,
  "scheduler:paused-all": true,
  "scheduler:resumed-all": true,
  "scheduler:error": true,
  "timer:drift": true,
  "schedule:created": true,
  "schedule:updated": true,
  "schedule:removed": true,
  "schedule:paused": true,
  "schedule:resumed": true,
  "schedule:unhandled": true,
  "fire:claimed": true,
  "fire:taken": true,
  "fire:missed": true,
  "fire:taken-over": true,
  "fire:handed-over": true,
  "run:started": true,
  "run:retrying": true,
  "run:succeeded": true,
  "run:failed": true,
  "run:timed-out": true,
  "run:skipped": true,
  "run:cancelled": true,
  "run:late-result": true,
  "approval:requested": true,
  "approval:decided": true,
  "approval:expired": true,
  "approval-group:requested": true,
  "approval-group:decided": true,
  "approval-group:expired": true,
  "order:submitted": true,
  "order:rejected": true,
  "order:updated": true,
  "broker:connected": true,
  "broker:disconnected": true,
  "retention:pruned": true,
};

/** Every {@link SchedulerEventName}, in the order of {@link SchedulerEvents}. */
export const SCHEDULER_EVENT_NAMES: readonly SchedulerEventName[] = Object.freeze(
  Object.keys(EVENT_NAME_SET) as SchedulerEventName[],
);

/** eventemitter3's event-map form of {@link SchedulerEvents}. */
export type SchedulerEventMap = { [K in SchedulerEventName]: [payload: SchedulerEvents[K]] };
