/** Record factories shared by the conformance suites and adapter tests. */

import { DEFAULT_MISFIRE, DEFAULT_RETRY } from "../schedule/policies.js";
import type {
  ApprovalRecord,
  AuditEntry,
  ExecutionRecord,
  OrderRecord,
  ScheduleRecord,
} from "../storage/records.js";

/** A valid schedule record; override any field. */
export function makeSchedule(overrides: Partial<ScheduleRecord> = {}): ScheduleRecord {
  const now = overrides.createdAt ?? 1_767_600_000_000;
  return {
    id: "sched-1",
    name: "Schedule 1",
    job: "job-a",
    description: null,
    tags: [],
    trigger: { type: "cron", expression: "*/5 * * * *", timezone: "America/New_York" },
    data: { symbols: ["AAPL", "MSFT"], threshold: 0.5, nested: { ok: true, none: null } },
    enabled: true,
    paused: false,
    misfire: { ...DEFAULT_MISFIRE },
    overlap: "skip",
    retry: { ...DEFAULT_RETRY, backoff: { ...DEFAULT_RETRY.backoff }, nonRetryable: [] },
    timeoutMs: null,
    requiresApproval: false,
    approvalExpiryMs: null,
    risk: null,
    requireBrokerConnection: false,
    marketHoursOnly: false,
    calendar: "XNYS",
    retention: null,
    firesSince: now,
    revision: 1,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

let executionSeq = 0;

/** A valid execution record (status `running`, held by `instance-a`); override any field. */
export function makeExecution(overrides: Partial<ExecutionRecord> = {}): ExecutionRecord {
  executionSeq++;
  const scheduledAt = overrides.scheduledAt ?? 1_767_600_000_000 + executionSeq * 1000;
  const scheduleId = overrides.scheduleId ?? "sched-1";
  return {
    id: `exec-${executionSeq}-${Math.random().toString(36).slice(2, 8)}`,
    scheduleId,
    job: "job-a",
    scheduledAt,
    kind: "scheduled",
    status: "running",
    reason: null,
    attempts: 1,
    claimedAt: scheduledAt,
    startedAt: scheduledAt,
    endedAt: null,
    instanceId: "instance-a",
    leaseExpiresAt: scheduledAt + 30_000,
    actor: null,
    error: null,
    result: null,
    details: null,
    idempotencyKey: `${scheduleId}@${new Date(scheduledAt).toISOString()}`,
    ...overrides,
  };
}

let approvalSeq = 0;

/** A valid pending approval; override any field. */
export function makeApproval(overrides: Partial<ApprovalRecord> = {}): ApprovalRecord {
  approvalSeq++;
  const createdAt = overrides.createdAt ?? 1_767_600_000_000 + approvalSeq * 1000;
  return {
    id: `appr-${approvalSeq}-${Math.random().toString(36).slice(2, 8)}`,
    scheduleId: "sched-1",
    executionId: "exec-1",
    fireKey: "sched-1@2026-01-05T14:30:00.000Z",
    intentIndex: 0,
    clientOrderId: `tc-${approvalSeq}-${Math.random().toString(36).slice(2, 10)}`,
    intent: { symbol: "AAPL", side: "buy", qty: "10", type: "market", timeInForce: "day" },
    status: "pending",
    riskLevel: "low",
    rationale: "momentum breakout",
    confidence: 0.72,
    supportingData: { rsi: 61.5, volumes: [1, 2, 3] },
    createdAt,
    expiresAt: createdAt + 4 * 3_600_000,
    decidedAt: null,
    decidedBy: null,
    decisionReason: null,
    brokerOrderId: null,
    error: null,
    ...overrides,
  };
}

let orderSeq = 0;

/** A valid order record; override any field. */
export function makeOrder(overrides: Partial<OrderRecord> = {}): OrderRecord {
  orderSeq++;
  const submittedAt = overrides.submittedAt ?? 1_767_600_000_000 + orderSeq * 1000;
  return {
    clientOrderId: `tc-order-${orderSeq}-${Math.random().toString(36).slice(2, 8)}`,
    brokerOrderId: `b-${orderSeq}`,
    broker: "paper",
    scheduleId: "sched-1",
    executionId: "exec-1",
    approvalId: null,
    symbol: "AAPL",
    side: "buy",
    intent: { symbol: "AAPL", side: "buy", qty: "10", type: "market", timeInForce: "day" },
    status: "accepted",
    filledQty: "0",
    avgFillPrice: null,
    submittedAt,
    updatedAt: submittedAt,
    error: null,
    ...overrides,
  };
}

/** A valid audit entry without its sequence number; override any field. */
export function makeAudit(overrides: Partial<Omit<AuditEntry, "seq">> = {}): Omit<AuditEntry, "seq"> {
  return {
    at: 1_767_600_000_000,
    actor: "alice",
    action: "schedule.create",
    subjectType: "schedule",
    subjectId: "sched-1",
    details: { note: "created from the dashboard" },
    ...overrides,
  };
}
