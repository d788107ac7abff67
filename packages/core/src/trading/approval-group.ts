/**
 * Approval groups as data: the id of a group, its view (members and a status derived from
 * theirs), and the check of a stored `groupId`. A group has no record of its own: it is the set
 * of approvals carrying its `groupId`, so the one atomic write that decides it is the write of
 * its members (see `Storage.transitionApprovalGroup`).
 */

import { createHash } from "node:crypto";
import type { ApprovalRecord, ApprovalStatus, RiskLevel } from "../storage/records.js";

/** Most intents one group may hold (a rebalance of a large index still fits in one page). */
export const MAX_GROUP_SIZE = 500;

/** What a stored group id may look like (those {@link approvalGroupIdOf} makes are `apg-` and 24 base64url characters). */
export const APPROVAL_GROUP_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/**
 * A group's status, derived from its members': `pending` while all wait; `approved` once the
 * group was approved (members are then `approved` until submitted, `submitted`, or `failed` when
 * the risk re-check or the broker refused that order); `rejected` and `expired` when all are;
 * `mixed` for any other combination (members decided one by one outside the group API).
 */
export type ApprovalGroupStatus = "pending" | "approved" | "rejected" | "expired" | "mixed";

/** An approval group: its members in proposal order and what they say together. */
export interface ApprovalGroup {
  id: string;
  scheduleId: string;
  executionId: string;
  /** Idempotency key of the fire that proposed it. */
  fireKey: string;
  status: ApprovalGroupStatus;
  /** The highest risk level of its members. */
  riskLevel: RiskLevel;
  createdAt: number;
  /** When it expires as a unit (every member carries the same instant). */
  expiresAt: number;
  /** The group decision (its first member's: the decision wrote them all at once). */
  decidedAt: number | null;
  decidedBy: string | null;
  decisionReason: string | null;
  /** Members by status. */
  counts: Partial<Record<ApprovalStatus, number>>;
  /** The members, ordered by `intentIndex`. */
  members: ApprovalRecord[];
}

/** The group id of the intents a fire proposes together starting at position `firstIndex`: the same on every attempt. */
export function approvalGroupIdOf(fireKey: string, firstIndex: number): string {
  const digest = createHash("sha256").update(`${fireKey}#group@${firstIndex}`).digest("base64url");
  return `apg-${digest.slice(0, 24)}`;
}

const RISK_ORDER: readonly RiskLevel[] = ["low", "medium", "high"];
const AFTER_APPROVAL = new Set<ApprovalStatus>(["approved", "submitted", "failed"]);

/** The status of a group whose members have `statuses`. */
export function groupStatusOf(statuses: readonly ApprovalStatus[]): ApprovalGroupStatus {
  if (statuses.length === 0) return "mixed";
  const all = (s: ApprovalStatus) => statuses.every((x) => x === s);
  if (all("pending")) return "pending";
  if (all("rejected")) return "rejected";
  if (all("expired")) return "expired";
  if (statuses.every((s) => AFTER_APPROVAL.has(s))) return "approved";
  return "mixed";
}

/** The view of a group from its members (at least one, all with the same `groupId`). */
export function groupOf(members: readonly ApprovalRecord[]): ApprovalGroup {
  const sorted = [...members].sort((a, b) => a.intentIndex - b.intentIndex);
  const first = sorted[0];
  if (!first || first.groupId === undefined) throw new TypeError("groupOf: a group has at least one member");
  const counts: Partial<Record<ApprovalStatus, number>> = {};
  let risk = 0;
  for (const m of sorted) {
    counts[m.status] = (counts[m.status] ?? 0) + 1;
    risk = Math.max(risk, RISK_ORDER.indexOf(m.riskLevel));
  }
  return {
    id: first.groupId,
    scheduleId: first.scheduleId,
    executionId: first.executionId,
    fireKey: first.fireKey,
    status: groupStatusOf(sorted.map((m) => m.status)),
    riskLevel: RISK_ORDER[risk] ?? "medium",
    createdAt: first.createdAt,
    expiresAt: first.expiresAt,
    decidedAt: first.decidedAt,
    decidedBy: first.decidedBy,
    decisionReason: first.decisionReason,
    counts,
    members: sorted,
  };
}

/**
 * Null if a stored approval's `groupId` is acceptable (absent, or a group id), else why not.
 * Storages run it on what they read, so a damaged `groupId` never joins or splits a group.
 */
export function storedGroupIdProblem(groupId: unknown): string | null {
  if (groupId === undefined) return null;
  if (typeof groupId !== "string" || !APPROVAL_GROUP_ID.test(groupId)) {
    return `groupId is ${JSON.stringify(groupId) ?? "not JSON"}, not a group id`;
  }
  return null;
}
