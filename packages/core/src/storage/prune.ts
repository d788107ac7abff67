/**
 * The retention part of the storage contract: what a prune may delete, and the pure rules every
 * storage applies the same way (so MemoryStorage, FileStorage and the SQL storages agree, and the
 * conformance suite can hold them to it).
 *
 * The rules, for every storage:
 * - Only *final* records are ever deleted: an execution that is `claimed` or `running`, a
 *   `pending` or `approved` approval, an order the broker may still change, is never touched.
 * - A prune deletes at most `limit` records and returns how many it deleted: the caller loops
 *   while the count equals the limit, so no prune holds a lock (or the event loop) for long.
 * - Pruning never changes what the scheduler reads at start: per schedule, the executions that
 *   {@link Storage.lastFireAt} and {@link Storage.scheduleSummaries} are made of are kept (see
 *   {@link protectedExecutionIds}), so a restart neither re-runs nor reports as missed a fire
 *   whose execution was pruned, and reports the same last start, end, status and success.
 * - An approval referenced by an order that is not final is kept; so is the newest audit entry
 *   (its `seq` is where the next one continues).
 */

import { FINAL_ORDER_STATUSES } from "../broker/broker.js";
import { ValidationError } from "../errors.js";
import type { ApprovalStatus, ExecutionRecord, ExecutionStatus } from "./records.js";

/** Which of one schedule's executions {@link Storage.pruneExecutions} deletes. */
export interface ExecutionPrune {
  /** The schedule whose history is pruned (each schedule's `keepLast` is counted on its own). */
  scheduleId: string;
  /** Only executions whose `scheduledAt` is before this instant. Omitted: any age. */
  before?: number;
  /**
   * Keep the newest `keepLast` executions of the schedule (by `scheduledAt`, every status counted)
   * whatever their age. Omitted or 0: no count floor. With `before` too, an execution is deleted
   * only when it is both older than `before` and not among the newest `keepLast`.
   */
  keepLast?: number;
  /** Delete at most this many (1-10,000). */
  limit: number;
}

/** Which final approvals, orders or audit entries a prune deletes. */
export interface RecordPrune {
  /**
   * Only records older than this instant: approvals by `createdAt`, orders by `updatedAt` (their
   * last change), audit entries by `at`.
   */
  before: number;
  /** Delete at most this many (1-10,000). */
  limit: number;
}

/** The largest batch one prune call may delete. */
export const MAX_PRUNE_LIMIT = 10_000;

/** Execution statuses a prune may delete (all final ones). */
export const PRUNABLE_EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  "succeeded",
  "failed",
  "timed_out",
  "skipped",
  "cancelled",
];

/**
 * Approval statuses a prune may delete. `pending` waits for a person and `approved` is on its way
 * to the broker: neither is ever deleted.
 */
export const PRUNABLE_APPROVAL_STATUSES: readonly ApprovalStatus[] = [
  "rejected",
  "expired",
  "submitted",
  "failed",
];

/** Order statuses a prune may delete: the broker never changes these orders again. */
export const PRUNABLE_ORDER_STATUSES: readonly string[] = FINAL_ORDER_STATUSES;

/**
 * Checks what a prune was asked to do (a limit of 1-10,000, instants and counts that are numbers);
 * throws a ValidationError naming the field. Every storage calls it first.
 */
export function checkPrune(prune: Partial<ExecutionPrune> & { limit: number }): void {
  const bad = (field: string, message: string) =>
    new ValidationError([{ field, code: "VALIDATION", message }], { component: "storage" });
  if (!Number.isInteger(prune.limit) || prune.limit < 1 || prune.limit > MAX_PRUNE_LIMIT) {
    throw bad("limit", `must be an integer from 1 to ${MAX_PRUNE_LIMIT}, got ${String(prune.limit)}`);
  }
  if (prune.before !== undefined && !(typeof prune.before === "number" && Number.isFinite(prune.before))) {
    throw bad("before", `must be an instant (epoch ms), got ${String(prune.before)}`);
  }
  if (prune.keepLast !== undefined && !(Number.isInteger(prune.keepLast) && prune.keepLast >= 0)) {
    throw bad("keepLast", `must be an integer >= 0, got ${String(prune.keepLast)}`);
  }
}

/** The fields of an execution the protection rule looks at. */
export type ProtectionInput = Pick<ExecutionRecord, "id" | "scheduledAt" | "kind" | "status" | "startedAt">;

/**
 * The ids among one schedule's executions that pruning keeps whatever the policy says: the latest
 * own fire (kind `scheduled` or `catchup`, any status), the latest *final* own fire (what
 * `lastFireAt` falls back to if the latest is a claim that gets released), the latest run that
 * ended (started, and final), and the latest success. That is everything {@link Storage.scheduleSummaries} and
 * {@link Storage.lastFireAt} read, so pruning never changes them.
 */
export function protectedExecutionIds(executions: Iterable<ProtectionInput>): Set<string> {
  const tracker = new ProtectedIds();
  for (const e of executions) tracker.offer(e);
  return tracker.ids();
}

/**
 * {@link protectedExecutionIds} one execution at a time, for a pass over a long history that
 * yields to the event loop between slices and holds no list of it.
 */
export class ProtectedIds {
  private own: ProtectionInput | null = null;
  private ownFinal: ProtectionInput | null = null;
  private ended: ProtectionInput | null = null;
  private success: ProtectionInput | null = null;

  /** Takes `e` into account (on equal `scheduledAt` the one offered first stays). */
  offer(e: ProtectionInput): void {
    const isOwn = e.kind === "scheduled" || e.kind === "catchup";
    const final = e.status !== "claimed" && e.status !== "running";
    if (isOwn && later(this.own, e)) this.own = e;
    if (isOwn && final && later(this.ownFinal, e)) this.ownFinal = e;
    if (e.startedAt !== null && final && later(this.ended, e)) this.ended = e;
    if (e.status === "succeeded" && later(this.success, e)) this.success = e;
  }

  /** The protected ids of everything offered so far. */
  ids(): Set<string> {
    const out = new Set<string>();
    for (const e of [this.own, this.ownFinal, this.ended, this.success]) if (e) out.add(e.id);
    return out;
  }
}

const later = (a: ProtectionInput | null, b: ProtectionInput) => a === null || b.scheduledAt > a.scheduledAt;

/**
 * True if `e` may be deleted by `prune`, given `rank` (0 for the schedule's newest execution) and
 * the schedule's protected ids. The one statement of the rule that the storages implement.
 */
export function executionPrunable(
  e: ProtectionInput,
  rank: number,
  prune: Pick<ExecutionPrune, "before" | "keepLast">,
  protectedIds: ReadonlySet<string>,
): boolean {
  if (!PRUNABLE_EXECUTION_STATUSES.includes(e.status)) return false;
  if (protectedIds.has(e.id)) return false;
  if (prune.before !== undefined && e.scheduledAt >= prune.before) return false;
  if (prune.keepLast !== undefined && rank < prune.keepLast) return false;
  return true;
}
