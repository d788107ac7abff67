/**
 * FileStorage: tradecron's durable storage in a plain folder (see README.md for the layout, the
 * fsync policy, locking and quarantine).
 *
 * Handles and engines: a FileStorage is a handle. The first handle that opens a folder in a
 * process creates the folder's engine (takes the lock, loads the data); further handles on the
 * same folder in the same process (compared by real path) share that engine, so they see the same
 * state, race safely (claims are decided in one place), and receive each other's change
 * notifications. The engine closes, and the lock is released, when the last handle closes.
 * Another process opening the folder gets `STORAGE_LOCKED`.
 *
 * This class is the facade: options are checked in options.ts, engines are shared in
 * engine-registry.ts, the open folder is engine.ts with its collections, and the trust report
 * is issues.ts. What remains here is a handle's own life (open, close, its change listeners)
 * and the Storage calls, each handed to the collection that answers it.
 */

import type {
  ApprovalQuery,
  ApprovalRecord,
  ApprovalStatus,
  AuditEntry,
  AuditQuery,
  ClaimResult,
  ControlRecord,
  ExecutionPatch,
  ExecutionPrune,
  ExecutionQuery,
  ExecutionRecord,
  FireClaim,
  FireRef,
  OrderQuery,
  OrderRecord,
  Page,
  RecordPrune,
  ScheduleRecord,
  ScheduleStateRecord,
  ScheduleSummary,
  StateCommit,
  Storage,
  StorageChange,
  StorageIssue,
} from "@tradecron/core";
import { checkPrune } from "@tradecron/core";
import type { StoreEngine } from "./engine.js";
import { releaseEngine, shareEngine } from "./engine-registry.js";
import { storageError } from "./errors.js";
import type { ExecutionStats } from "./executions.js";
import { storeIssues } from "./issues.js";
import { type CheckedOptions, checkOptions, type FileStorageOptions, quarantineReporter } from "./options.js";
import type { QuarantineReport } from "./quarantine.js";

export type { FileStorageOptions } from "./options.js";

/** Counters describing a store, for status pages, tests and benchmarks. */
export interface FileStorageStats {
  schedules: number;
  executions: ExecutionStats;
}

/** Durable storage in a folder of JSON and JSON Lines files. */
export class FileStorage implements Storage {
  /** Backend name for logs and errors. */
  readonly name = "file";
  /** The store folder as given (resolved to an absolute path). */
  readonly dir: string;
  private readonly options: FileStorageOptions;
  private readonly engineOptions: CheckedOptions["engine"];
  private engineP: Promise<StoreEngine> | null = null;
  /** The engine once open, for the synchronous {@link FileStorage.issues}. */
  private current: StoreEngine | null = null;
  private key: string | null = null;
  private closed = false;
  private unlisten: (() => void) | null = null;
  private readonly listeners = new Set<(change: StorageChange) => void>();

  constructor(options: FileStorageOptions) {
    const checked = checkOptions(options);
    this.options = options;
    this.dir = checked.dir;
    this.engineOptions = checked.engine;
  }

  /**
   * Opens the store: locks the folder (or joins this process's open engine for it), checks the
   * format version, recovers from any crash and loads. Idempotent; other methods open lazily.
   */
  async open(): Promise<void> {
    await this.engine(true);
  }

  /** Releases this handle; the last handle on a folder drains, closes and unlocks it. Idempotent. */
  async close(): Promise<void> {
    const pending = this.engineP;
    this.engineP = null;
    this.current = null;
    this.closed = true;
    if (!pending) return;
    this.unlisten?.();
    this.unlisten = null;
    try {
      await pending;
    } catch {
      return; // it never opened: nothing to release
    }
    // An open still in progress when close() began registered its listener only now.
    const late = this.unlisten as (() => void) | null;
    late?.();
    this.unlisten = null;
    await releaseEngine(this.key as string);
  }

  private async engine(opening = false): Promise<StoreEngine> {
    if (this.closed && !opening) {
      throw storageError("STORAGE", `${this.dir}: this FileStorage was closed`, this.dir);
    }
    if (!this.engineP) {
      this.closed = false;
      this.engineP = this.attach();
      this.engineP.catch(() => {
        this.engineP = null;
      });
    }
    const attaching = this.engineP;
    const engine = await attaching;
    engine.check();
    // Not if close() ran meanwhile: the handle stays closed.
    if (this.engineP === attaching) this.current = engine;
    return engine;
  }

  private async attach(): Promise<StoreEngine> {
    const share = await shareEngine(
      this.dir,
      { ...this.engineOptions, report: quarantineReporter(this.options) },
      (change) => this.emit(change),
    );
    this.key = share.key;
    this.unlisten = share.unlisten;
    return share.engine;
  }

  private emit(change: StorageChange): void {
    for (const listener of this.listeners) {
      // After the write's promise settles, as MemoryStorage does.
      queueMicrotask(() => listener(change));
    }
  }

  // --- schedules -----------------------------------------------------------------------------

  /** See {@link Storage.insertSchedule}. */
  async insertSchedule(schedule: ScheduleRecord): Promise<void> {
    const e = await this.engine();
    await e.schedules.insert(schedule);
    e.notify({ type: "schedule", id: schedule.id });
  }

  /** See {@link Storage.insertSchedules}. */
  async insertSchedules(schedules: readonly ScheduleRecord[]): Promise<void> {
    if (schedules.length === 0) return;
    const e = await this.engine();
    await e.schedules.insertMany(schedules);
    for (const schedule of schedules) e.notify({ type: "schedule", id: schedule.id });
  }

  /** See {@link Storage.updateSchedule}. */
  async updateSchedule(schedule: ScheduleRecord, expectedRevision: number): Promise<void> {
    const e = await this.engine();
    await e.schedules.update(schedule, expectedRevision);
    e.notify({ type: "schedule", id: schedule.id });
  }

  /** See {@link Storage.getSchedule}. */
  async getSchedule(id: string): Promise<ScheduleRecord | null> {
    return (await this.engine()).schedules.get(id);
  }

  /** See {@link Storage.listSchedules}. */
  async listSchedules(): Promise<ScheduleRecord[]> {
    return (await this.engine()).schedules.list();
  }

  /** See {@link Storage.deleteSchedule}. */
  async deleteSchedule(id: string): Promise<boolean> {
    const e = await this.engine();
    const existed = await e.schedules.delete(id);
    // After the schedule file is gone: a crash in between leaves an orphan state, which the
    // next open removes (a state never outlives its schedule into a new one of the same id).
    await e.executions.deleteStates([id]);
    if (existed) e.notify({ type: "schedule", id });
    return existed;
  }

  // --- control -------------------------------------------------------------------------------

  /** See {@link Storage.getControl}. */
  async getControl(): Promise<ControlRecord> {
    return (await this.engine()).schedules.getControl();
  }

  /** See {@link Storage.setControl}. */
  async setControl(control: ControlRecord): Promise<void> {
    const e = await this.engine();
    await e.schedules.setControl(control);
    e.notify({ type: "control" });
  }

  // --- fires and executions ------------------------------------------------------------------

  /**
   * See {@link Storage.claimFire}; with `withState` or `withOverlap`, claimed as a batch of one
   * (which reads the state and the other active executions).
   */
  async claimFire(claim: FireClaim): Promise<ClaimResult> {
    const e = await this.engine();
    if (claim.withState === true || claim.withOverlap === true)
      return (await e.executions.claimFires([claim]))[0] as ClaimResult;
    return e.executions.claimFire(claim.execution);
  }

  /**
   * See {@link Storage.claimFires}: decided in memory in one synchronous pass, the won records
   * appended to the execution log together, so the whole batch shares one group commit (one
   * fdatasync), however many fires it holds.
   */
  async claimFires(claims: readonly FireClaim[]): Promise<ClaimResult[]> {
    if (claims.length === 0) return [];
    return (await this.engine()).executions.claimFires(claims);
  }

  /** See {@link Storage.updateExecution}. */
  async updateExecution(
    id: string,
    instanceId: string,
    patch: ExecutionPatch,
    state?: StateCommit,
  ): Promise<ExecutionRecord | null> {
    const e = await this.engine();
    if (state === undefined) return e.executions.updateExecution(id, instanceId, patch);
    return e.executions.updateExecution(id, instanceId, patch, state, (scheduleId) =>
      e.schedules.has(scheduleId),
    );
  }

  /** See {@link Storage.getScheduleState}: kept in the execution log and `executions/schedule-state.json`. */
  async getScheduleState(scheduleId: string): Promise<ScheduleStateRecord | null> {
    return (await this.engine()).executions.getScheduleState(scheduleId);
  }

  /** See {@link Storage.renewLeases}. */
  async renewLeases(instanceId: string, ids: string[], leaseExpiresAt: number): Promise<string[]> {
    return (await this.engine()).executions.renewLeases(instanceId, ids, leaseExpiresAt);
  }

  /** See {@link Storage.cancelExecution}. */
  async cancelExecution(id: string, reason: string, endedAt: number): Promise<ExecutionRecord | null> {
    return (await this.engine()).executions.cancelExecution(id, reason, endedAt);
  }

  /** See {@link Storage.activeExecutions}. */
  async activeExecutions(scheduleId: string): Promise<ExecutionRecord[]> {
    return (await this.engine()).executions.activeExecutions(scheduleId);
  }

  /** See {@link Storage.releaseClaim}. */
  async releaseClaim(id: string, instanceId: string): Promise<boolean> {
    return (await this.engine()).executions.releaseClaim(id, instanceId);
  }

  /** See {@link Storage.takeOverExpired}. */
  async takeOverExpired(
    instanceId: string,
    now: number,
    leaseExpiresAt: number,
    limit: number,
    jobs?: readonly string[],
  ): Promise<ExecutionRecord[]> {
    return (await this.engine()).executions.takeOverExpired(instanceId, now, leaseExpiresAt, limit, jobs);
  }

  /** See {@link Storage.getExecution}. */
  async getExecution(id: string): Promise<ExecutionRecord | null> {
    return (await this.engine()).executions.getExecution(id);
  }

  /** See {@link Storage.findExecution}. */
  async findExecution(scheduleId: string, scheduledAt: number): Promise<ExecutionRecord | null> {
    return (await this.engine()).executions.findExecution(scheduleId, scheduledAt);
  }

  /** See {@link Storage.fireHolders}: lookups in the in-memory fire index. */
  async fireHolders(fires: readonly FireRef[]): Promise<(string | null)[]> {
    return (await this.engine()).executions.fireHolders(fires);
  }

  /** See {@link Storage.listExecutions}. */
  async listExecutions(query: ExecutionQuery): Promise<Page<ExecutionRecord>> {
    return (await this.engine()).executions.listExecutions(query);
  }

  /** See {@link Storage.lastFireAt}. */
  async lastFireAt(scheduleId: string): Promise<number | null> {
    return (await this.engine()).executions.lastFireAt(scheduleId);
  }

  /** See {@link Storage.scheduleSummaries}. */
  async scheduleSummaries(scheduleIds: readonly string[]): Promise<ScheduleSummary[]> {
    return (await this.engine()).executions.scheduleSummaries(scheduleIds);
  }

  // --- approvals -----------------------------------------------------------------------------

  /** See {@link Storage.insertApprovals}. */
  async insertApprovals(approvals: ApprovalRecord[]): Promise<void> {
    const e = await this.engine();
    await e.approvals.insert(approvals);
    for (const a of approvals) e.notify({ type: "approval", id: a.id });
  }

  /** See {@link Storage.getApproval}. */
  async getApproval(id: string): Promise<ApprovalRecord | null> {
    return (await this.engine()).approvals.get(id);
  }

  /** See {@link Storage.listApprovals}. */
  async listApprovals(query: ApprovalQuery): Promise<Page<ApprovalRecord>> {
    return (await this.engine()).approvals.list(query);
  }

  /** See {@link Storage.countApprovals}. */
  async countApprovals(status: ApprovalStatus): Promise<number> {
    return (await this.engine()).approvals.countByStatus(status);
  }

  /** See {@link Storage.transitionApproval}. */
  async transitionApproval(
    id: string,
    from: ApprovalStatus,
    patch: Partial<Omit<ApprovalRecord, "id">>,
  ): Promise<ApprovalRecord | null> {
    const e = await this.engine();
    const next = await e.approvals.transition(id, from, patch);
    if (next) e.notify({ type: "approval", id });
    return next;
  }

  /** See {@link Storage.transitionApprovalGroup}. */
  async transitionApprovalGroup(
    groupId: string,
    from: ApprovalStatus,
    patch: Partial<Omit<ApprovalRecord, "id" | "groupId">>,
  ): Promise<ApprovalRecord[] | null> {
    const e = await this.engine();
    const next = await e.approvals.transitionGroup(groupId, from, patch);
    for (const a of next ?? []) e.notify({ type: "approval", id: a.id });
    return next;
  }

  /** See {@link Storage.listExpiredApprovals}. */
  async listExpiredApprovals(now: number, limit: number): Promise<ApprovalRecord[]> {
    return (await this.engine()).approvals.listExpired(now, limit);
  }

  // --- orders --------------------------------------------------------------------------------

  /** See {@link Storage.upsertOrder}. */
  async upsertOrder(order: OrderRecord): Promise<void> {
    await (await this.engine()).orders.upsert(order);
  }

  /** See {@link Storage.getOrder}. */
  async getOrder(clientOrderId: string): Promise<OrderRecord | null> {
    return (await this.engine()).orders.get(clientOrderId);
  }

  /** See {@link Storage.listOrders}. */
  async listOrders(query: OrderQuery): Promise<Page<OrderRecord>> {
    return (await this.engine()).orders.list(query);
  }

  // --- audit ---------------------------------------------------------------------------------

  /** See {@link Storage.appendAudit}. */
  async appendAudit(entry: Omit<AuditEntry, "seq">): Promise<AuditEntry> {
    return (await this.engine()).audit.append(entry);
  }

  /** See {@link Storage.listAudit}. */
  async listAudit(query: AuditQuery): Promise<Page<AuditEntry>> {
    return (await this.engine()).audit.list(query);
  }

  // --- retention (rules: core's prune.ts) ---------------------------------------------------

  /** See {@link Storage.pruneExecutions}: one append of `del` lines (tombstones); compaction reclaims the space later. */
  async pruneExecutions(prune: ExecutionPrune): Promise<number> {
    checkPrune(prune);
    return (await this.engine()).executions.pruneExecutions(prune);
  }

  /** See {@link Storage.executionScheduleIds}. */
  async executionScheduleIds(after: string | null, limit: number): Promise<string[]> {
    return (await this.engine()).executions.executionScheduleIds(after, limit);
  }

  /** See {@link Storage.pruneApprovals}: the approvals log is rewritten without them, atomically. */
  async pruneApprovals(prune: RecordPrune): Promise<number> {
    checkPrune(prune);
    const e = await this.engine();
    return e.approvals.prune(prune, e.orders.openApprovalIds());
  }

  /** See {@link Storage.pruneOrders}: the orders log is rewritten without them, atomically. */
  async pruneOrders(prune: RecordPrune): Promise<number> {
    checkPrune(prune);
    return (await this.engine()).orders.prune(prune);
  }

  /** See {@link Storage.pruneAudit}: the audit log is rewritten without them, atomically. */
  async pruneAudit(prune: RecordPrune): Promise<number> {
    checkPrune(prune);
    return (await this.engine()).audit.prune(prune);
  }

  // --- cluster membership --------------------------------------------------------------------

  /**
   * See {@link Storage.heartbeat}: only this process can open the folder, so membership is a
   * table in memory shared by every handle on the folder (several schedulers in one process see
   * each other; nothing is written to disk).
   */
  async heartbeat(instanceId: string, now: number, expiresAt: number): Promise<string[]> {
    return (await this.engine()).members.beat(instanceId, now, expiresAt);
  }

  // --- change notification -------------------------------------------------------------------

  /**
   * Calls `listener` after every durable change of a schedule, the control record or an approval
   * made through any handle on this folder in this process (only one process can write it).
   */
  watch(listener: (change: StorageChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // --- trust ---------------------------------------------------------------------------------

  /**
   * See {@link Storage.issues}: the files quarantined when the folder was opened (torn tails, the
   * normal trace of a crash, aside) and a control file that could not be read. A quarantined
   * schedule is no longer listed once a schedule with its id is stored again.
   */
  issues(): StorageIssue[] {
    return this.current ? storeIssues(this.current) : [];
  }

  // --- FileStorage extras --------------------------------------------------------------------

  /** Files and torn tails quarantined when the folder was opened (by this process). */
  async quarantined(): Promise<QuarantineReport[]> {
    return [...(await this.engine()).quarantine.reports];
  }

  /** Record counts and segment statistics. */
  async stats(): Promise<FileStorageStats> {
    const e = await this.engine();
    return { schedules: e.schedules.size, executions: e.executions.stats() };
  }

  /** Resolves when background sealing and merging are done and every write is durable. */
  async whenIdle(): Promise<void> {
    const e = await this.engine();
    await e.schedules.drain();
    await e.executions.idle();
  }
}
