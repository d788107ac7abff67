/**
 * Query predicates for storages that filter in memory (MemoryStorage, FileStorage): one
 * definition of what each listing filter means, so every such backend answers alike.
 */

import type { ApprovalRecord, AuditEntry, OrderRecord } from "./records.js";
import type { ApprovalQuery, AuditQuery, OrderQuery } from "./storage.js";

function asSet<T>(value: T | T[] | undefined): Set<T> | null {
  if (value === undefined) return null;
  return new Set(Array.isArray(value) ? value : [value]);
}

/** A predicate selecting the approvals an {@link ApprovalQuery} asks for (cursor and limit aside). */
export function approvalMatcher(query: ApprovalQuery): (a: ApprovalRecord) => boolean {
  const statuses = asSet(query.status);
  const risks = asSet(query.riskLevel);
  return (a) =>
    (!statuses || statuses.has(a.status)) &&
    (!risks || risks.has(a.riskLevel)) &&
    (query.scheduleId === undefined || a.scheduleId === query.scheduleId) &&
    (query.executionId === undefined || a.executionId === query.executionId) &&
    (query.groupId === undefined || a.groupId === query.groupId);
}

/** A predicate selecting the orders an {@link OrderQuery} asks for (cursor and limit aside). */
export function orderMatcher(query: OrderQuery): (o: OrderRecord) => boolean {
  const statuses = asSet(query.status);
  return (o) =>
    (query.scheduleId === undefined || o.scheduleId === query.scheduleId) &&
    (query.executionId === undefined || o.executionId === query.executionId) &&
    (query.symbol === undefined || o.symbol === query.symbol) &&
    (!statuses || statuses.has(o.status)) &&
    (query.from === undefined || o.submittedAt >= query.from) &&
    (query.to === undefined || o.submittedAt < query.to);
}

/** A predicate selecting the audit entries an {@link AuditQuery} asks for (cursor and limit aside). */
export function auditMatcher(query: AuditQuery): (e: AuditEntry) => boolean {
  return (e) =>
    (query.actor === undefined || e.actor === query.actor) &&
    (query.action === undefined || e.action === query.action) &&
    (query.subjectType === undefined || e.subjectType === query.subjectType) &&
    (query.subjectId === undefined || e.subjectId === query.subjectId) &&
    (query.from === undefined || e.at >= query.from) &&
    (query.to === undefined || e.at < query.to);
}
