/**
 * Record handling shared by every collection: the JSON round trip that decouples stored state
 * from the caller's objects, and the shape checks that tell our records from foreign data.
 *
 * The checks here are deliberately structural (types of the fields the store indexes on), not a
 * full schema: input is validated by core before it reaches storage; here we only need to know
 * that a line was written by us and is intact. Schedules and the control record, which people
 * edit by hand, are checked with core's full record checks instead (schedules.ts).
 */

import type {
  ApprovalRecord,
  ApprovalStatus,
  AuditEntry,
  ExecutionRecord,
  ExecutionStatus,
  FireKind,
  OrderRecord,
  RiskLevel,
} from "@tradecron/core";
import { storedGroupIdProblem } from "@tradecron/core";

/**
 * Freezes a value and everything inside it. Indexed and for-in loops rather than Object.values:
 * loading ten thousand schedules freezes a hundred thousand objects, and the arrays
 * Object.values allocates showed up as garbage-collection time.
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) deepFreeze(value[i]);
    } else {
      const obj = value as Record<string, unknown>;
      for (const key in obj) deepFreeze(obj[key]);
    }
  }
  return value;
}

/**
 * Serialises `value` and parses it back frozen: the stored copy is exactly what is on disk and
 * shares nothing with the caller's object (who may mutate it afterwards).
 */
export function snapshot<T>(value: T): { json: string; record: T } {
  const json = JSON.stringify(value);
  return { json, record: deepFreeze(JSON.parse(json) as T) };
}

/** Parses one stored JSON text into a frozen record. */
export function thaw<T>(json: string): T {
  return deepFreeze(JSON.parse(json) as T);
}

/** Execution statuses in their stored order (the segment index keeps the position as a byte). */
export const EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  "claimed",
  "running",
  "succeeded",
  "failed",
  "timed_out",
  "skipped",
  "cancelled",
];
/** Fire kinds in their stored order (a byte in the segment index). */
export const FIRE_KINDS: readonly FireKind[] = ["scheduled", "catchup", "manual", "backfill"];
const APPROVAL_STATUSES: readonly ApprovalStatus[] = [
  "pending",
  "approved",
  "rejected",
  "expired",
  "submitted",
  "failed",
];
const RISK_LEVELS: readonly RiskLevel[] = ["low", "medium", "high"];

/** True while an execution is held (claimed or running). */
export function isActiveStatus(status: ExecutionStatus): boolean {
  return status === "claimed" || status === "running";
}

/** Kinds that count for `lastFireAt`: the schedule's own fires. */
export function isOwnFire(kind: FireKind): boolean {
  return kind === "scheduled" || kind === "catchup";
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === "string";
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isNumOrNull = (v: unknown) => v === null || isNum(v);
const isStrOrNull = (v: unknown) => v === null || isStr(v);

/** Null if `v` looks like an execution record, else why not. */
export function executionProblem(v: unknown): string | null {
  if (!isObj(v)) return "not a JSON object";
  if (!isStr(v.id) || !isStr(v.scheduleId) || !isStr(v.job) || !isStr(v.instanceId)) {
    return "id, scheduleId, job or instanceId is not a string";
  }
  if (!isNum(v.scheduledAt) || !isNum(v.attempts) || !isNum(v.claimedAt)) {
    return "scheduledAt, attempts or claimedAt is not a number";
  }
  if (!EXECUTION_STATUSES.includes(v.status as ExecutionStatus)) return `unknown status ${String(v.status)}`;
  if (!FIRE_KINDS.includes(v.kind as FireKind)) return `unknown kind ${String(v.kind)}`;
  if (!isNumOrNull(v.leaseExpiresAt)) return "leaseExpiresAt is not a number or null";
  if (!isStr(v.idempotencyKey)) return "idempotencyKey is not a string";
  return null;
}

/** Null if `v` looks like an approval record, else why not. */
export function approvalProblem(v: unknown): string | null {
  if (!isObj(v)) return "not a JSON object";
  if (!isStr(v.id) || !isStr(v.scheduleId) || !isStr(v.executionId)) {
    return "id, scheduleId or executionId is not a string";
  }
  if (!APPROVAL_STATUSES.includes(v.status as ApprovalStatus)) return `unknown status ${String(v.status)}`;
  if (!RISK_LEVELS.includes(v.riskLevel as RiskLevel)) return `unknown risk level ${String(v.riskLevel)}`;
  if (!isNum(v.createdAt) || !isNum(v.expiresAt)) return "createdAt or expiresAt is not a number";
  return storedGroupIdProblem(v.groupId);
}

/** Null if `v` looks like an order record, else why not. */
export function orderProblem(v: unknown): string | null {
  if (!isObj(v)) return "not a JSON object";
  if (!isStr(v.clientOrderId) || !isStr(v.symbol) || !isStr(v.status)) {
    return "clientOrderId, symbol or status is not a string";
  }
  if (!isNum(v.submittedAt) || !isNum(v.updatedAt)) return "submittedAt or updatedAt is not a number";
  return null;
}

/** Null if `v` looks like an audit entry, else why not. */
export function auditProblem(v: unknown): string | null {
  if (!isObj(v)) return "not a JSON object";
  if (!isNum(v.seq) || !isNum(v.at)) return "seq or at is not a number";
  if (!isStr(v.actor) || !isStr(v.action) || !isStr(v.subjectType)) {
    return "actor, action or subjectType is not a string";
  }
  if (!isStrOrNull(v.subjectId)) return "subjectId is not a string or null";
  return null;
}

/** Type guards built from the problem functions. */
export const is = {
  execution: (v: unknown): v is ExecutionRecord => executionProblem(v) === null,
  approval: (v: unknown): v is ApprovalRecord => approvalProblem(v) === null,
  order: (v: unknown): v is OrderRecord => orderProblem(v) === null,
  audit: (v: unknown): v is AuditEntry => auditProblem(v) === null,
};
