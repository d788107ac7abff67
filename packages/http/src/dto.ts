/**
 * Records to JSON: the pure mapping from core's records (epoch ms) to what the API sends (ISO 8601
 * UTC strings), one function per record type. The shapes are the schemas in `schemas/records.ts`.
 */

import type {
  ApprovalRecord,
  AuditEntry,
  ExecutionError,
  ExecutionRecord,
  OrderRecord,
  ScheduleRecord,
  ScheduleStatus,
  TriggerSpec,
} from "@tradecron/core";
import type { Json } from "./schemas/common.js";
import type {
  ApprovalDto,
  AuditEntryDto,
  ExecutionDto,
  OrderDto,
  ScheduleDto,
  ScheduleStateDto,
  TriggerDto,
} from "./schemas/records.js";

/** An epoch-ms instant as ISO 8601 UTC. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** An optional epoch-ms instant as ISO 8601 UTC, or null. */
export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString();
}

function errorDto(error: ExecutionError | null): ExecutionDto["error"] {
  return error ? { message: error.message, code: error.code ?? null, name: error.name } : null;
}

/** A stored trigger with ISO instants. */
export function triggerDto(trigger: TriggerSpec): TriggerDto {
  switch (trigger.type) {
    case "interval":
      return { type: "interval", every: trigger.every, anchor: iso(trigger.anchor), jitter: trigger.jitter };
    case "once":
      return { type: "once", at: iso(trigger.at) };
    case "cron":
      return { type: "cron", expression: trigger.expression, timezone: trigger.timezone };
    default:
      return {
        type: "market",
        calendar: trigger.calendar,
        event: trigger.event,
        offsetMinutes: trigger.offsetMinutes,
        days: trigger.days,
        rule: trigger.rule,
      };
  }
}

/** The live state of a schedule nobody on this instance has armed (stopped, or just created). */
export const IDLE_STATE: Omit<ScheduleStateDto, "counters" | "nextFireOnceResumedAt"> = {
  handled: false,
  nextFireAt: null,
  lastStartAt: null,
  lastEndAt: null,
  lastStatus: null,
  lastSuccessAt: null,
  running: 0,
};

/** The live part of a schedule from the scheduler's status of it. */
export function scheduleStateDto(
  status: ScheduleStatus | undefined,
  counters: ScheduleStateDto["counters"],
  nextFireOnceResumedAt: number | null,
): ScheduleStateDto {
  if (!status) return { ...IDLE_STATE, counters, nextFireOnceResumedAt: isoOrNull(nextFireOnceResumedAt) };
  return {
    handled: status.handled,
    nextFireAt: isoOrNull(status.nextFireAt),
    nextFireOnceResumedAt: isoOrNull(nextFireOnceResumedAt),
    lastStartAt: isoOrNull(status.lastStartAt),
    lastEndAt: isoOrNull(status.lastEndAt),
    lastStatus: status.lastStatus,
    lastSuccessAt: isoOrNull(status.lastSuccessAt),
    running: status.running,
    counters,
  };
}

/** A schedule record with its live state. */
export function scheduleDto(record: ScheduleRecord, state: ScheduleStateDto): ScheduleDto {
  return {
    id: record.id,
    name: record.name,
    job: record.job,
    description: record.description,
    tags: [...record.tags],
    trigger: triggerDto(record.trigger),
    data: record.data as Json,
    enabled: record.enabled,
    paused: record.paused,
    misfire: { ...record.misfire },
    overlap: record.overlap,
    retry: {
      attempts: record.retry.attempts,
      backoff: { ...record.retry.backoff },
      nonRetryable: [...record.retry.nonRetryable],
    },
    timeoutMs: record.timeoutMs,
    requiresApproval: record.requiresApproval ?? false,
    approvalExpiryMs: record.approvalExpiryMs ?? null,
    risk: (record.risk ?? null) as ScheduleDto["risk"],
    requireBrokerConnection: record.requireBrokerConnection ?? false,
    marketHoursOnly: record.marketHoursOnly ?? false,
    calendar: record.calendar ?? "XNYS",
    retention: record.retention ? { ...record.retention } : null,
    firesSince: iso(record.firesSince),
    revision: record.revision,
    createdAt: iso(record.createdAt),
    updatedAt: iso(record.updatedAt),
    state,
  };
}

/** An execution record. */
export function executionDto(e: ExecutionRecord): ExecutionDto {
  return {
    id: e.id,
    scheduleId: e.scheduleId,
    job: e.job,
    scheduledAt: iso(e.scheduledAt),
    kind: e.kind,
    status: e.status,
    reason: e.reason,
    attempts: e.attempts,
    claimedAt: iso(e.claimedAt),
    startedAt: isoOrNull(e.startedAt),
    endedAt: isoOrNull(e.endedAt),
    instanceId: e.instanceId,
    leaseExpiresAt: isoOrNull(e.leaseExpiresAt),
    actor: e.actor,
    error: errorDto(e.error),
    result: e.result as Json,
    details: e.details as Json,
    idempotencyKey: e.idempotencyKey,
  };
}

/** An approval record. */
export function approvalDto(a: ApprovalRecord): ApprovalDto {
  return {
    id: a.id,
    scheduleId: a.scheduleId,
    executionId: a.executionId,
    fireKey: a.fireKey,
    intentIndex: a.intentIndex,
    clientOrderId: a.clientOrderId,
    intent: a.intent as Json,
    status: a.status,
    riskLevel: a.riskLevel,
    rationale: a.rationale,
    confidence: a.confidence,
    supportingData: a.supportingData as Json,
    createdAt: iso(a.createdAt),
    expiresAt: iso(a.expiresAt),
    decidedAt: isoOrNull(a.decidedAt),
    decidedBy: a.decidedBy,
    decisionReason: a.decisionReason,
    brokerOrderId: a.brokerOrderId,
    error: errorDto(a.error),
    ...(a.groupId !== undefined ? { groupId: a.groupId } : {}),
  };
}

/** An order record. */
export function orderDto(o: OrderRecord): OrderDto {
  return {
    clientOrderId: o.clientOrderId,
    brokerOrderId: o.brokerOrderId,
    broker: o.broker,
    scheduleId: o.scheduleId,
    executionId: o.executionId,
    approvalId: o.approvalId,
    symbol: o.symbol,
    side: o.side,
    intent: o.intent as Json,
    status: o.status,
    filledQty: o.filledQty,
    avgFillPrice: o.avgFillPrice,
    submittedAt: iso(o.submittedAt),
    updatedAt: iso(o.updatedAt),
    error: errorDto(o.error),
  };
}

/** An audit entry. */
export function auditDto(a: AuditEntry): AuditEntryDto {
  return {
    seq: a.seq,
    at: iso(a.at),
    actor: a.actor,
    action: a.action,
    subjectType: a.subjectType,
    subjectId: a.subjectId,
    details: a.details as Json,
  };
}
