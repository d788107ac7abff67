/**
 * MemoryStorage: the embedded default when no storage is given. Everything lives in this
 * process and is gone when it exits. Records are frozen, so handing them out never exposes
 * stored state to mutation. Several schedulers in one process may share one instance (that is
 * how single-process exactly-once is tested).
 */

import { ConflictError, NotFoundError } from "../errors.js";
import { checkLimit, pageOf } from "./cursor.js";
import { MembershipTable } from "./membership.js";
import type { ExecutionPrune, RecordPrune } from "./prune.js";
import { checkPrune, PRUNABLE_APPROVAL_STATUSES, PRUNABLE_ORDER_STATUSES } from "./prune.js";
import { PruneQueue } from "./prune-queue.js";
import { approvalMatcher, auditMatcher, orderMatcher } from "./query-match.js";
import type {
  ApprovalRecord,
  ApprovalStatus,
  AuditEntry,
  ControlRecord,
  ExecutionRecord,
  OrderRecord,
  Page,
  ScheduleRecord,
} from "./records.js";
import { firstConflictingId, scheduleExistsError } from "./schedule-batch.js";
import { ScheduleIndex } from "./schedule-index.js";
import {
  checkStoredScheduleState,
  committedState,
  type ScheduleStateRecord,
  type StateCommit,
} from "./schedule-state.js";
import type {
  ApprovalQuery,
  AuditQuery,
  ClaimResult,
  ExecutionPatch,
  ExecutionQuery,
  FireClaim,
  FireRef,
  OrderQuery,
  ScheduleSummary,
  Storage,
  StorageChange,
  StorageIssue,
} from "./storage.js";
import { applyExecutionPatch } from "./storage.js";
import { checkStoredControl, checkStoredSchedule, isCorruptRecord } from "./stored-records.js";
import { SummaryBuilder } from "./summaries.js";

/** Options of {@link MemoryStorage}. */
export interface MemoryStorageOptions {
  /**
   * Final executions kept before the oldest are dropped (default 100,000), so a long-running
   * process does not grow without bound. Active ones are never dropped.
   */
  maxExecutions?: number;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function asSet<T>(value: T | T[] | undefined): Set<T> | null {
  if (value === undefined) return null;
  return new Set(Array.isArray(value) ? value : [value]);
}

/**
 * A JSON value copied for storage. Unlike structuredClone it keeps the (immutable) strings it is
 * given instead of copying each one, so a stored audit entry is about half the size.
 */
function copyJson<T>(value: T): T {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(copyJson) as T;
  const out = { ...value } as Record<string, unknown>;
  for (const key in out) {
    const v = out[key];
    if (v !== null && typeof v === "object") out[key] = copyJson(v);
  }
  return out as T;
}

const OWN_FIRE_KINDS = new Set(["scheduled", "catchup"]);

/** In-process storage. Fast, complete, and not durable. */
export class MemoryStorage implements Storage {
  readonly name = "memory";
  private readonly maxExecutions: number;
  private readonly schedules = new Map<string, ScheduleRecord>();
  private control: ControlRecord = deepFreeze({
    pausedAll: false,
    pausedAt: null,
    pausedBy: null,
    reason: null,
    revision: 0,
  });
  private readonly executions = new Map<string, ExecutionRecord>();
  /** Each schedule's executions: the claim index, its last fire, its active ones (schedule-index.ts). */
  private readonly bySchedule = new Map<string, ScheduleIndex>();
  private readonly active = new Set<string>();
  /** Final execution ids in the order they became final: eviction takes the oldest first. */
  private readonly finalOrder = new Set<string>();
  /** Committed schedule state, by schedule id (its own map: evicting executions never drops it). */
  private readonly states = new Map<string, ScheduleStateRecord>();
  private readonly approvals = new Map<string, ApprovalRecord>();
  private readonly approvalCounts = new Map<ApprovalStatus, number>();
  private readonly orders = new Map<string, OrderRecord>();
  private readonly audit: AuditEntry[] = [];
  /** The last audit `seq` handed out: never reused, also after the oldest entries were pruned. */
  private auditSeq = 0;
  /** What retention deletes next, per schedule (see prune-queue.ts). */
  private readonly pruneQueue = new PruneQueue();
  private readonly listeners = new Set<(change: StorageChange) => void>();
  /** Stored records that failed their checks when last read, by subject and id. */
  private readonly invalid = new Map<string, StorageIssue>();
  /** State records that passed their checks: frozen, so a claim `withState` hands them out unchecked. */
  private readonly checkedStates = new WeakSet<ScheduleStateRecord>();
  /** Every scheduler sharing this storage beats into it (see {@link MemoryStorage.heartbeat}). */
  private readonly members = new MembershipTable();

  constructor(options: MemoryStorageOptions = {}) {
    this.maxExecutions = options.maxExecutions ?? 100_000;
  }

  async open(): Promise<void> {}
  async close(): Promise<void> {}

  private notify(change: StorageChange): void {
    for (const listener of this.listeners) {
      // Listeners run after the write's promise settles, as they would for a remote backend.
      queueMicrotask(() => listener(change));
    }
  }

  // --- schedules ---

  /** A record to keep: a frozen one is kept as it is (nobody can change it), another is copied first. */
  private own(schedule: ScheduleRecord): ScheduleRecord {
    return deepFreeze(Object.isFrozen(schedule) ? schedule : { ...schedule });
  }

  async insertSchedule(schedule: ScheduleRecord): Promise<void> {
    if (this.schedules.has(schedule.id)) {
      throw new ConflictError("SCHEDULE_EXISTS", `schedule '${schedule.id}' exists already`, { field: "id" });
    }
    this.schedules.set(schedule.id, this.own(schedule));
    this.notify({ type: "schedule", id: schedule.id, revision: schedule.revision });
  }

  /** See {@link Storage.insertSchedules}: checked whole first, then set synchronously (all or none). */
  async insertSchedules(schedules: readonly ScheduleRecord[]): Promise<void> {
    const conflict = firstConflictingId(schedules, (id) => this.schedules.has(id));
    if (conflict !== null) throw scheduleExistsError(conflict);
    for (const schedule of schedules) this.schedules.set(schedule.id, this.own(schedule));
    for (const schedule of schedules) {
      this.notify({ type: "schedule", id: schedule.id, revision: schedule.revision });
    }
  }

  async updateSchedule(schedule: ScheduleRecord, expectedRevision: number): Promise<void> {
    const current = this.schedules.get(schedule.id);
    if (!current)
      throw new NotFoundError("SCHEDULE_NOT_FOUND", `schedule '${schedule.id}' not found`, { field: "id" });
    if (current.revision !== expectedRevision) {
      throw new ConflictError(
        "REVISION_CONFLICT",
        `schedule '${schedule.id}' is at revision ${current.revision}, not ${expectedRevision}`,
        { field: "revision", details: { current: current.revision, expected: expectedRevision } },
      );
    }
    this.schedules.set(schedule.id, this.own(schedule));
    this.notify({ type: "schedule", id: schedule.id, revision: schedule.revision });
  }

  /**
   * Checks a record read back (anything may have been stored through the contract by a caller
   * other than the scheduler), noting or clearing its issue. Throws `STORAGE_CORRUPT`.
   */
  private checked<T>(key: string, subject: "schedule" | "control", id: string | null, check: () => T): T {
    try {
      const value = check();
      this.invalid.delete(key);
      return value;
    } catch (error) {
      if (isCorruptRecord(error)) {
        const reason = String((error.details as { reason?: unknown } | undefined)?.reason ?? error.message);
        this.invalid.set(key, { subject, id, kind: "invalid", reason, where: "memory" });
      }
      throw error;
    }
  }

  async getSchedule(id: string): Promise<ScheduleRecord | null> {
    const record = this.schedules.get(id);
    if (!record) {
      this.invalid.delete(`schedule:${id}`);
      return null;
    }
    return this.checked(`schedule:${id}`, "schedule", id, () => checkStoredSchedule(this.name, record));
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    const out: ScheduleRecord[] = [];
    for (const key of [...this.invalid.keys()]) if (key.startsWith("schedule:")) this.invalid.delete(key);
    for (const record of this.schedules.values()) {
      try {
        out.push(
          this.checked(`schedule:${record.id}`, "schedule", record.id, () =>
            checkStoredSchedule(this.name, record),
          ),
        );
      } catch (error) {
        if (!isCorruptRecord(error)) throw error;
      }
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async deleteSchedule(id: string): Promise<boolean> {
    const existed = this.schedules.delete(id);
    this.states.delete(id);
    this.invalid.delete(`schedule:${id}`);
    this.invalid.delete(`state:${id}`);
    if (existed) this.notify({ type: "schedule", id });
    return existed;
  }

  // --- control ---

  async getControl(): Promise<ControlRecord> {
    return this.checked("control", "control", null, () => checkStoredControl(this.name, this.control));
  }

  async setControl(control: ControlRecord): Promise<void> {
    this.control = deepFreeze({ ...control });
    this.notify({ type: "control" });
  }

  /** See {@link Storage.issues}: stored records that failed their checks when last read. */
  issues(): StorageIssue[] {
    return [...this.invalid.values()];
  }

  // --- fires ---

  async claimFire(claim: FireClaim): Promise<ClaimResult> {
    const result = this.claim(claim);
    if (this.executions.size > this.maxExecutions) this.evict();
    return result;
  }

  /**
   * See {@link Storage.claimFires}: one synchronous pass (nothing interleaves, so the batch is
   * decided as a whole) and one promise for the batch. A second claim of a fire in the batch
   * finds the first's record in the index, as a later `claimFire` would.
   */
  async claimFires(claims: readonly FireClaim[]): Promise<ClaimResult[]> {
    const results = new Array<ClaimResult>(claims.length);
    for (let i = 0; i < claims.length; i++) results[i] = this.claim(claims[i] as FireClaim);
    if (this.executions.size > this.maxExecutions) this.evict();
    return results;
  }

  /** See {@link Storage.fireHolders}: index lookups. */
  async fireHolders(fires: readonly FireRef[]): Promise<(string | null)[]> {
    const holders = new Array<string | null>(fires.length);
    for (let i = 0; i < fires.length; i++) {
      const { scheduleId, scheduledAt } = fires[i] as FireRef;
      const id = this.bySchedule.get(scheduleId)?.get(scheduledAt);
      holders[i] = (id !== undefined && this.executions.get(id)?.instanceId) || null;
    }
    return holders;
  }

  /** Decides and records one claim (eviction is the caller's, once per call). */
  private claim({ execution, withState, withOverlap }: FireClaim): ClaimResult {
    let index = this.bySchedule.get(execution.scheduleId);
    const existingId = index?.get(execution.scheduledAt);
    if (existingId !== undefined) {
      const existing = this.executions.get(existingId);
      if (existing) return { claimed: false, existing };
    }
    // A frozen record cannot change under us, so it is kept as it is; any other is copied first.
    const record = Object.isFrozen(execution) ? execution : Object.freeze({ ...execution });
    if (index === undefined) {
      index = new ScheduleIndex();
      this.bySchedule.set(record.scheduleId, index);
    }
    // Asked before this claim joins the active executions.
    const othersActive = withOverlap === true ? index.active !== null : undefined;
    index.set(record.scheduledAt, record.id);
    this.executions.set(record.id, record);
    if (record.status === "claimed" || record.status === "running") {
      this.active.add(record.id);
      index.activate(record.id);
    } else this.finalOrder.add(record.id);
    if (record.kind === "scheduled" || record.kind === "catchup") {
      if (index.last === null || record.scheduledAt > index.last) index.last = record.scheduledAt;
    }
    if (withState !== true && othersActive === undefined) return { claimed: true, execution: record };
    const won: ClaimResult = { claimed: true, execution: record };
    if (withState === true) won.state = this.claimState(record.scheduleId);
    if (othersActive !== undefined) won.othersActive = othersActive;
    return won;
  }

  /** The state a won claim hands back: null for none, undefined for one failing its checks. */
  private claimState(scheduleId: string): ScheduleStateRecord | null | undefined {
    const record = this.states.get(scheduleId);
    if (record === undefined) return null;
    if (this.checkedStates.has(record)) return record;
    try {
      return this.checkState(scheduleId, record);
    } catch (error) {
      // The claim stands; the scheduler's own read of the state reports it.
      if (isCorruptRecord(error)) return undefined;
      throw error;
    }
  }

  /** Drops the oldest final executions over the limit (never active ones), in O(1) per drop. */
  private evict(): void {
    // Checked first: starting to iterate steps over the holes deletions (retention) leave at the
    // front of the set until it is rehashed, about 1.5 ms per claim after 700,000 of them.
    if (this.executions.size <= this.maxExecutions) return;
    for (const id of this.finalOrder) {
      if (this.executions.size <= this.maxExecutions) break;
      this.finalOrder.delete(id);
      const record = this.executions.get(id);
      if (!record) continue;
      this.executions.delete(id);
      this.unindex(record);
    }
  }

  private unindex(record: ExecutionRecord): void {
    const index = this.bySchedule.get(record.scheduleId);
    if (index === undefined) return;
    index.delete(record.scheduledAt, record.id);
    if (index.empty) this.bySchedule.delete(record.scheduleId);
  }

  async updateExecution(
    id: string,
    instanceId: string,
    patch: ExecutionPatch,
    state?: StateCommit,
  ): Promise<ExecutionRecord | null> {
    const current = this.executions.get(id);
    if (!current || current.instanceId !== instanceId || !this.active.has(id)) return null;
    // Checked before anything changes, so a conflict writes neither the outcome nor the state.
    const nextState =
      state && this.schedules.has(current.scheduleId) ? this.stateAfter(current, state) : null;
    const next = Object.freeze(applyExecutionPatch(current, patch));
    this.executions.set(id, next);
    if (nextState) this.states.set(current.scheduleId, nextState);
    if (next.status !== "claimed" && next.status !== "running") this.deactivate(next);
    return next;
  }

  /** The state record `commit` makes of the schedule's state, or ConflictError if it moved on. */
  private stateAfter(execution: ExecutionRecord, commit: StateCommit): ScheduleStateRecord {
    const revision = this.states.get(execution.scheduleId)?.revision ?? 0;
    if (revision !== commit.expectedRevision) {
      throw new ConflictError(
        "REVISION_CONFLICT",
        `the state of schedule '${execution.scheduleId}' is at revision ${revision}, not ${commit.expectedRevision}`,
        { field: "state", details: { current: revision, expected: commit.expectedRevision } },
      );
    }
    return deepFreeze(
      committedState(execution.scheduleId, execution.id, { ...commit, value: copyJson(commit.value) }),
    );
  }

  async getScheduleState(scheduleId: string): Promise<ScheduleStateRecord | null> {
    const record = this.states.get(scheduleId);
    if (!record) return null;
    return this.checkState(scheduleId, record);
  }

  /** Checks a stored state, noting or clearing its issue. Throws `STORAGE_CORRUPT`. */
  private checkState(scheduleId: string, record: ScheduleStateRecord): ScheduleStateRecord {
    const key = `state:${scheduleId}`;
    try {
      const checked = checkStoredScheduleState(this.name, scheduleId, record);
      this.invalid.delete(key);
      this.checkedStates.add(record);
      return checked;
    } catch (error) {
      if (isCorruptRecord(error)) {
        const reason = String((error.details as { reason?: unknown } | undefined)?.reason ?? error.message);
        this.invalid.set(key, { subject: "state", id: scheduleId, kind: "invalid", reason, where: "memory" });
      }
      throw error;
    }
  }

  private deactivate(record: ExecutionRecord): void {
    this.active.delete(record.id);
    this.finalOrder.add(record.id);
    this.bySchedule.get(record.scheduleId)?.deactivate(record.id);
  }

  async renewLeases(instanceId: string, ids: string[], leaseExpiresAt: number): Promise<string[]> {
    const held: string[] = [];
    for (const id of ids) {
      const current = this.executions.get(id);
      if (!current || current.instanceId !== instanceId || !this.active.has(id)) continue;
      this.executions.set(id, Object.freeze({ ...current, leaseExpiresAt }));
      held.push(id);
    }
    return held;
  }

  async cancelExecution(id: string, reason: string, endedAt: number): Promise<ExecutionRecord | null> {
    const current = this.executions.get(id);
    if (!current || !this.active.has(id)) return null;
    const next = Object.freeze({
      ...current,
      status: "cancelled" as const,
      reason,
      endedAt,
      leaseExpiresAt: null,
    });
    this.executions.set(id, next);
    this.deactivate(next);
    return next;
  }

  async activeExecutions(scheduleId: string): Promise<ExecutionRecord[]> {
    const ids = this.bySchedule.get(scheduleId)?.active ?? null;
    if (ids === null) return [];
    if (typeof ids === "string") {
      const e = this.executions.get(ids);
      return e ? [e] : [];
    }
    const out: ExecutionRecord[] = [];
    for (const id of ids) {
      const e = this.executions.get(id);
      if (e) out.push(e);
    }
    return out.sort((a, b) => a.scheduledAt - b.scheduledAt);
  }

  async releaseClaim(id: string, instanceId: string): Promise<boolean> {
    const current = this.executions.get(id);
    if (!current || current.instanceId !== instanceId || current.status !== "claimed") return false;
    this.executions.delete(id);
    this.deactivate(current);
    this.finalOrder.delete(id);
    this.unindex(current);
    // A released fire leaves no trace, so it no longer counts as the schedule's last fire.
    const index = this.bySchedule.get(current.scheduleId);
    if (index !== undefined && index.last === current.scheduledAt) {
      index.last = this.lastOwnFire(index);
      if (index.empty) this.bySchedule.delete(current.scheduleId);
    }
    return true;
  }

  private lastOwnFire(index: ScheduleIndex): number | null {
    let last: number | null = null;
    for (const id of index.ids()) {
      const e = this.executions.get(id);
      if (e && OWN_FIRE_KINDS.has(e.kind) && (last === null || e.scheduledAt > last)) last = e.scheduledAt;
    }
    return last;
  }

  async takeOverExpired(
    instanceId: string,
    now: number,
    leaseExpiresAt: number,
    limit: number,
    jobs?: readonly string[],
  ): Promise<ExecutionRecord[]> {
    const taken: ExecutionRecord[] = [];
    for (const id of this.active) {
      if (taken.length >= limit) break;
      const current = this.executions.get(id);
      if (!current || current.leaseExpiresAt === null || current.leaseExpiresAt >= now) continue;
      if (jobs && !jobs.includes(current.job)) continue;
      const next = Object.freeze({
        ...current,
        instanceId,
        leaseExpiresAt,
        status: "running" as const,
        attempts: current.attempts + 1,
      });
      this.executions.set(id, next);
      taken.push(next);
    }
    return taken;
  }

  async getExecution(id: string): Promise<ExecutionRecord | null> {
    return this.executions.get(id) ?? null;
  }

  async findExecution(scheduleId: string, scheduledAt: number): Promise<ExecutionRecord | null> {
    const id = this.bySchedule.get(scheduleId)?.get(scheduledAt);
    return id === undefined ? null : (this.executions.get(id) ?? null);
  }

  async listExecutions(query: ExecutionQuery): Promise<Page<ExecutionRecord>> {
    const limit = checkLimit(query.limit);
    const statuses = asSet(query.status);
    const kinds = asSet(query.kind);
    const matches: ExecutionRecord[] = [];
    for (const e of this.executions.values()) {
      if (query.scheduleId !== undefined && e.scheduleId !== query.scheduleId) continue;
      if (statuses && !statuses.has(e.status)) continue;
      if (kinds && !kinds.has(e.kind)) continue;
      if (query.from !== undefined && e.scheduledAt < query.from) continue;
      if (query.to !== undefined && e.scheduledAt >= query.to) continue;
      matches.push(e);
    }
    return pageOf(
      matches,
      (e) => e.scheduledAt,
      (e) => e.id,
      limit,
      query.cursor,
    );
  }

  async lastFireAt(scheduleId: string): Promise<number | null> {
    return this.bySchedule.get(scheduleId)?.last ?? null;
  }

  async scheduleSummaries(scheduleIds: readonly string[]): Promise<ScheduleSummary[]> {
    return scheduleIds.map((scheduleId) => {
      const summary = new SummaryBuilder();
      const index = this.bySchedule.get(scheduleId);
      summary.noteFire(index?.last ?? null);
      for (const id of index?.ids() ?? []) {
        const e = this.executions.get(id);
        if (e) summary.add(e);
      }
      return summary.result(scheduleId);
    });
  }

  // --- approvals ---

  private countApproval(status: ApprovalStatus, delta: number): void {
    this.approvalCounts.set(status, (this.approvalCounts.get(status) ?? 0) + delta);
  }

  async insertApprovals(approvals: ApprovalRecord[]): Promise<void> {
    const seen = new Set<string>();
    for (const a of approvals) {
      if (this.approvals.has(a.id) || seen.has(a.id)) {
        throw new ConflictError("CONFLICT", `approval '${a.id}' exists already`, { field: "id" });
      }
      seen.add(a.id);
    }
    for (const a of approvals) {
      this.approvals.set(a.id, deepFreeze(structuredClone(a)));
      this.countApproval(a.status, 1);
      this.notify({ type: "approval", id: a.id });
    }
  }

  async getApproval(id: string): Promise<ApprovalRecord | null> {
    return this.approvals.get(id) ?? null;
  }

  async listApprovals(query: ApprovalQuery): Promise<Page<ApprovalRecord>> {
    const limit = checkLimit(query.limit);
    const matches = [...this.approvals.values()].filter(approvalMatcher(query));
    return pageOf(
      matches,
      (a) => a.createdAt,
      (a) => a.id,
      limit,
      query.cursor,
    );
  }

  async countApprovals(status: ApprovalStatus): Promise<number> {
    return this.approvalCounts.get(status) ?? 0;
  }

  async transitionApproval(
    id: string,
    from: ApprovalStatus,
    patch: Partial<Omit<ApprovalRecord, "id">>,
  ): Promise<ApprovalRecord | null> {
    const current = this.approvals.get(id);
    if (!current || current.status !== from) return null;
    const next = deepFreeze(structuredClone({ ...current, ...patch, id }));
    this.approvals.set(id, next);
    this.countApproval(current.status, -1);
    this.countApproval(next.status, 1);
    this.notify({ type: "approval", id });
    return next;
  }

  async transitionApprovalGroup(
    groupId: string,
    from: ApprovalStatus,
    patch: Partial<Omit<ApprovalRecord, "id" | "groupId">>,
  ): Promise<ApprovalRecord[] | null> {
    // Synchronous from the check to the last set: no other call interleaves, so it is all or none.
    const members = [...this.approvals.values()].filter((a) => a.groupId === groupId);
    if (members.length === 0 || members.some((a) => a.status !== from)) return null;
    const updated = members
      .sort((a, b) => a.intentIndex - b.intentIndex)
      .map((current) => {
        const next = deepFreeze(structuredClone({ ...current, ...patch, id: current.id, groupId }));
        this.approvals.set(current.id, next);
        this.countApproval(current.status, -1);
        this.countApproval(next.status, 1);
        return next;
      });
    for (const a of updated) this.notify({ type: "approval", id: a.id });
    return updated;
  }

  async listExpiredApprovals(now: number, limit: number): Promise<ApprovalRecord[]> {
    return [...this.approvals.values()]
      .filter((a) => a.status === "pending" && a.expiresAt <= now)
      .sort((a, b) => a.expiresAt - b.expiresAt || (a.id < b.id ? -1 : 1))
      .slice(0, limit);
  }

  // --- orders ---

  async upsertOrder(order: OrderRecord): Promise<void> {
    this.orders.set(order.clientOrderId, deepFreeze(structuredClone(order)));
  }

  async getOrder(clientOrderId: string): Promise<OrderRecord | null> {
    return this.orders.get(clientOrderId) ?? null;
  }

  async listOrders(query: OrderQuery): Promise<Page<OrderRecord>> {
    const limit = checkLimit(query.limit);
    const matches = [...this.orders.values()].filter(orderMatcher(query));
    return pageOf(
      matches,
      (o) => o.submittedAt,
      (o) => o.clientOrderId,
      limit,
      query.cursor,
    );
  }

  // --- audit ---

  async appendAudit(entry: Omit<AuditEntry, "seq">): Promise<AuditEntry> {
    const stored: AuditEntry = deepFreeze({
      at: entry.at,
      actor: entry.actor,
      action: entry.action,
      subjectType: entry.subjectType,
      subjectId: entry.subjectId,
      details: copyJson(entry.details),
      seq: ++this.auditSeq,
    });
    this.audit.push(stored);
    return stored;
  }

  async listAudit(query: AuditQuery): Promise<Page<AuditEntry>> {
    const limit = checkLimit(query.limit);
    const matches = this.audit.filter(auditMatcher(query));
    // The sequence number is the sort key; the id part of the cursor is the same number as text.
    return pageOf(
      matches,
      (e) => e.seq,
      (e) => String(e.seq).padStart(16, "0"),
      limit,
      query.cursor,
    );
  }

  // --- retention ---

  async pruneExecutions(prune: ExecutionPrune): Promise<number> {
    if (this.pruneQueue.needsLoad(prune)) {
      // The live history, in claim order (a Map iterator sees deletes and additions meanwhile).
      const { scheduleId } = prune;
      const { executions, bySchedule } = this;
      await this.pruneQueue.fillInSlices(prune, function* () {
        for (const id of bySchedule.get(scheduleId)?.ids() ?? []) {
          const e = executions.get(id);
          if (e) yield e;
        }
      });
    }
    const ids = this.pruneQueue.next(prune);
    let deleted = 0;
    for (const id of ids) {
      const record = this.executions.get(id);
      if (!record || this.active.has(id)) continue;
      this.executions.delete(id);
      this.finalOrder.delete(id);
      this.unindex(record);
      deleted++;
    }
    return deleted;
  }

  async executionScheduleIds(after: string | null, limit: number): Promise<string[]> {
    const out: string[] = [];
    for (const [id, index] of this.bySchedule) {
      if (index.size > 0 && (after === null || id > after)) out.push(id);
    }
    return out.sort().slice(0, checkLimit(limit));
  }

  async pruneApprovals(prune: RecordPrune): Promise<number> {
    checkPrune(prune);
    const referenced = new Set<string>();
    for (const o of this.orders.values()) {
      if (o.approvalId !== null && !PRUNABLE_ORDER_STATUSES.includes(o.status)) referenced.add(o.approvalId);
    }
    let deleted = 0;
    for (const a of this.approvals.values()) {
      if (deleted >= prune.limit) break;
      if (!PRUNABLE_APPROVAL_STATUSES.includes(a.status) || a.createdAt >= prune.before) continue;
      if (referenced.has(a.id)) continue;
      this.approvals.delete(a.id);
      this.countApproval(a.status, -1);
      deleted++;
    }
    return deleted;
  }

  async pruneOrders(prune: RecordPrune): Promise<number> {
    checkPrune(prune);
    let deleted = 0;
    for (const o of this.orders.values()) {
      if (deleted >= prune.limit) break;
      if (!PRUNABLE_ORDER_STATUSES.includes(o.status) || o.updatedAt >= prune.before) continue;
      this.orders.delete(o.clientOrderId);
      deleted++;
    }
    return deleted;
  }

  async pruneAudit(prune: RecordPrune): Promise<number> {
    checkPrune(prune);
    // Oldest first, and never the newest (the log stays a log of something).
    let count = 0;
    const max = Math.min(prune.limit, this.audit.length - 1);
    while (count < max && (this.audit[count] as AuditEntry).at < prune.before) count++;
    this.audit.splice(0, count);
    return count;
  }

  // --- cluster membership ---

  /**
   * See {@link Storage.heartbeat}: a table in this process, shared by every scheduler on this
   * storage (the way several schedulers on one PostgreSQL see each other).
   */
  async heartbeat(instanceId: string, now: number, expiresAt: number): Promise<string[]> {
    return this.members.beat(instanceId, now, expiresAt);
  }

  watch(listener: (change: StorageChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
