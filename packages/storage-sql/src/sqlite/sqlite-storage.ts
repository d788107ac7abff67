/**
 * SqliteStorage: durable storage in one SQLite file (better-sqlite3), for one machine.
 *
 * - WAL journal, `synchronous = FULL`: a COMMIT returns after the WAL is fsynced, so an
 *   acknowledged write survives kill -9 and power loss (DESIGN.md promise 3). NORMAL would be
 *   faster but may lose the last commits on power loss; group commit (group-commit.ts) buys the
 *   speed back instead: writes of one event-loop turn share one transaction and one fsync.
 * - Every read-modify-write runs in BEGIN IMMEDIATE: it takes the write lock up front, so two
 *   connections never both read a state and then race to change it (no SQLITE_BUSY upgrade
 *   deadlocks), and `busy_timeout` makes a second process wait its turn instead of failing.
 * - Several processes may share one file: the unique constraint on (schedule_id, scheduled_at)
 *   decides every claim, exactly as on PostgreSQL.
 *
 * This class is the facade of core's `Storage` contract: every call goes to the part that owns it
 * (the README's "Where things live" maps them). The parts share one {@link SqliteConnection}.
 */

import {
  type ApprovalQuery,
  type ApprovalRecord,
  type ApprovalStatus,
  type AuditEntry,
  type AuditQuery,
  type ClaimResult,
  type ControlRecord,
  type ExecutionPatch,
  type ExecutionPrune,
  type ExecutionQuery,
  type ExecutionRecord,
  type FireClaim,
  type FireRef,
  type OrderQuery,
  type OrderRecord,
  type Page,
  type RecordPrune,
  type ScheduleRecord,
  type ScheduleStateRecord,
  type ScheduleSummary,
  type StateCommit,
  type Storage,
  type StorageChange,
  type StorageIssue,
  silentLogger,
} from "@tradecron/core";
import { parseOptions } from "../shared/options.js";
import { StateRowChecks } from "../shared/state-rows.js";
import { RowChecks } from "../shared/trust.js";
import { SqliteApprovals } from "./approvals.js";
import { SqliteAudit } from "./audit.js";
import { SqliteClaims } from "./claims.js";
import { SqliteConnection } from "./connection.js";
import { SqliteExecutions } from "./executions.js";
import { SqliteLeases } from "./leases.js";
import { SqliteMembership } from "./membership.js";
import { type SqliteStorageOptions, sqliteOptionsSchema } from "./options.js";
import { SqliteOrders } from "./orders.js";
import { SqliteOutcomes } from "./outcomes.js";
import { SqliteRetention } from "./retention.js";
import { SqliteSchedules } from "./schedules.js";
import { SqliteScheduleStates } from "./state.js";
import { sqliteNames, sqliteStatements } from "./statements.js";
import { SqliteWatchers } from "./watchers.js";

export type { SqliteStorageOptions } from "./options.js";

/** Storage in one SQLite file. Safe for several processes on one machine (see the README). */
export class SqliteStorage implements Storage {
  /** Backend name for logs and errors. */
  readonly name = "sqlite";
  /** Path of the database file. */
  readonly path: string;
  /** Prefix of table names. */
  readonly tablePrefix: string;
  /**
   * Calls `listener` on every change of a schedule, the control record or an approval, made by
   * any connection or process on the file, within `watchIntervalMs`. Absent when
   * `watchIntervalMs: false`.
   */
  readonly watch: ((listener: (change: StorageChange) => void) => () => void) | undefined;

  private readonly conn: SqliteConnection;
  private readonly checks: RowChecks;
  private readonly stateChecks: StateRowChecks;
  private readonly schedules: SqliteSchedules;
  private readonly states: SqliteScheduleStates;
  private readonly claims: SqliteClaims;
  private readonly executions: SqliteExecutions;
  private readonly outcomes: SqliteOutcomes;
  private readonly leases: SqliteLeases;
  private readonly membership: SqliteMembership;
  private readonly approvals: SqliteApprovals;
  private readonly orders: SqliteOrders;
  private readonly audit: SqliteAudit;
  private readonly retention: SqliteRetention;
  private readonly watchers: SqliteWatchers;

  constructor(options: SqliteStorageOptions) {
    const o = parseOptions(sqliteOptionsSchema, options, "sqlite");
    this.path = o.path;
    this.tablePrefix = o.tablePrefix;
    const names = sqliteNames(this.tablePrefix);
    const sql = sqliteStatements(names);
    this.checks = new RowChecks("sqlite", {
      schedules: `${this.path}: ${names.display("schedules")}`,
      control: `${this.path}: ${names.display("control")}`,
    });
    this.stateChecks = new StateRowChecks(
      "sqlite",
      `${this.path}: ${names.display("schedule_state")}`,
      (raw) => JSON.parse(raw as string),
    );
    const logger = o.logger ?? silentLogger;
    this.conn = new SqliteConnection(o, names);
    this.schedules = new SqliteSchedules(this.conn, sql, names, this.checks, this.stateChecks);
    this.states = new SqliteScheduleStates(this.conn, sql, this.stateChecks);
    this.claims = new SqliteClaims(this.conn, sql, names, this.states);
    this.executions = new SqliteExecutions(this.conn, sql, names);
    this.outcomes = new SqliteOutcomes(this.conn, names, this.states);
    this.leases = new SqliteLeases(this.conn, sql);
    this.membership = new SqliteMembership(this.conn, sql);
    this.approvals = new SqliteApprovals(this.conn, sql, names);
    this.orders = new SqliteOrders(this.conn, sql, names);
    this.audit = new SqliteAudit(this.conn, sql, names);
    this.retention = new SqliteRetention(this.conn, names, this.path, logger);
    this.watchers = new SqliteWatchers(this.conn, sql, this.path, o.watchIntervalMs, logger);
    this.watch = o.watchIntervalMs === false ? undefined : (listener) => this.watchers.add(listener);
  }

  // ------------------------------------------------------------------------------------------
  // lifecycle (connection.ts)

  /**
   * Opens the file (creating it), switches it to WAL, sets `synchronous` and `busy_timeout`, and
   * migrates the schema (idempotent; safe when several processes open at once). Throws
   * StorageError `STORAGE_CORRUPT` for a file that is not a SQLite database (it is left untouched),
   * `STORAGE_VERSION` for a file migrated by a newer version, `STORAGE_LOCKED` when another process
   * holds the write lock longer than `busyTimeoutMs`.
   */
  async open(): Promise<void> {
    await this.conn.open();
    // Watchers added before open wait for the file.
    this.watchers.ensurePoller();
  }

  /** Commits queued writes, stops watching and closes the file. Idempotent. */
  async close(): Promise<void> {
    if (!this.conn.markClosed()) return;
    this.watchers.stopPolling();
    await this.retention.close();
    this.watchers.clear();
    this.conn.closeFile();
  }

  // ------------------------------------------------------------------------------------------
  // schedules and control (schedules.ts)

  insertSchedule(schedule: ScheduleRecord): Promise<void> {
    return this.schedules.insertSchedule(schedule);
  }

  /**
   * See {@link Storage.insertSchedules}: one write in a savepoint of the group commit, so a taken
   * or repeated id rolls the whole batch back (a repeated one conflicts with its earlier row).
   */
  insertSchedules(schedules: readonly ScheduleRecord[]): Promise<void> {
    return this.schedules.insertSchedules(schedules);
  }

  updateSchedule(schedule: ScheduleRecord, expectedRevision: number): Promise<void> {
    return this.schedules.updateSchedule(schedule, expectedRevision);
  }

  getSchedule(id: string): Promise<ScheduleRecord | null> {
    return this.schedules.getSchedule(id);
  }

  listSchedules(): Promise<ScheduleRecord[]> {
    return this.schedules.listSchedules();
  }

  deleteSchedule(id: string): Promise<boolean> {
    return this.schedules.deleteSchedule(id);
  }

  /** See {@link Storage.getControl}: a control row that fails its checks, or is gone, throws `STORAGE_CORRUPT`. */
  getControl(): Promise<ControlRecord> {
    return this.schedules.getControl();
  }

  setControl(control: ControlRecord): Promise<void> {
    return this.schedules.setControl(control);
  }

  /** See {@link Storage.issues}: schedule and control rows that failed their checks when last read. */
  issues(): StorageIssue[] {
    return [...this.checks.issues(), ...this.stateChecks.issues()];
  }

  // ------------------------------------------------------------------------------------------
  // the fire path: claims (claims.ts), membership (membership.ts), outcomes (outcomes.ts),
  // leases and takeover (leases.ts), schedule state (state.ts)

  claimFire(claim: FireClaim): Promise<ClaimResult> {
    return this.claims.claimFire(claim);
  }

  /**
   * See {@link Storage.claimFires}: one write of the group commit, in a savepoint, so the batch
   * shares the group's transaction and fsync and a failing claim (an execution id that is taken)
   * rolls the whole batch back. A second claim of a fire in the batch conflicts with the first's
   * row, inserted earlier in the same transaction, and reads it back.
   */
  claimFires(claims: readonly FireClaim[]): Promise<ClaimResult[]> {
    return this.claims.claimFires(claims);
  }

  /** See {@link Storage.fireHolders}: one read for the batch, an index lookup per fire. */
  fireHolders(fires: readonly FireRef[]): Promise<(string | null)[]> {
    return this.claims.fireHolders(fires);
  }

  /**
   * See {@link Storage.heartbeat}: one write of the group commit (renew or leave, forget the
   * memberships that ran out, read the live ones), so every process on the file sees the others.
   */
  heartbeat(instanceId: string, now: number, expiresAt: number): Promise<string[]> {
    return this.membership.heartbeat(instanceId, now, expiresAt);
  }

  updateExecution(
    id: string,
    instanceId: string,
    patch: ExecutionPatch,
    state?: StateCommit,
  ): Promise<ExecutionRecord | null> {
    return this.outcomes.updateExecution(id, instanceId, patch, state);
  }

  /** See {@link Storage.getScheduleState}: a row failing its checks throws `STORAGE_CORRUPT`. */
  getScheduleState(scheduleId: string): Promise<ScheduleStateRecord | null> {
    return this.states.getScheduleState(scheduleId);
  }

  renewLeases(instanceId: string, ids: string[], leaseExpiresAt: number): Promise<string[]> {
    return this.leases.renewLeases(instanceId, ids, leaseExpiresAt);
  }

  cancelExecution(id: string, reason: string, endedAt: number): Promise<ExecutionRecord | null> {
    return this.leases.cancelExecution(id, reason, endedAt);
  }

  releaseClaim(id: string, instanceId: string): Promise<boolean> {
    return this.leases.releaseClaim(id, instanceId);
  }

  takeOverExpired(
    instanceId: string,
    now: number,
    leaseExpiresAt: number,
    limit: number,
    jobs?: readonly string[],
  ): Promise<ExecutionRecord[]> {
    return this.leases.takeOverExpired(instanceId, now, leaseExpiresAt, limit, jobs);
  }

  // ------------------------------------------------------------------------------------------
  // execution reads (executions.ts)

  activeExecutions(scheduleId: string): Promise<ExecutionRecord[]> {
    return this.executions.activeExecutions(scheduleId);
  }

  getExecution(id: string): Promise<ExecutionRecord | null> {
    return this.executions.getExecution(id);
  }

  findExecution(scheduleId: string, scheduledAt: number): Promise<ExecutionRecord | null> {
    return this.executions.findExecution(scheduleId, scheduledAt);
  }

  listExecutions(query: ExecutionQuery): Promise<Page<ExecutionRecord>> {
    return this.executions.listExecutions(query);
  }

  lastFireAt(scheduleId: string): Promise<number | null> {
    return this.executions.lastFireAt(scheduleId);
  }

  scheduleSummaries(scheduleIds: readonly string[]): Promise<ScheduleSummary[]> {
    return this.executions.scheduleSummaries(scheduleIds);
  }

  // ------------------------------------------------------------------------------------------
  // approvals (approvals.ts), orders (orders.ts), audit (audit.ts)

  insertApprovals(approvals: ApprovalRecord[]): Promise<void> {
    return this.approvals.insertApprovals(approvals);
  }

  getApproval(id: string): Promise<ApprovalRecord | null> {
    return this.approvals.getApproval(id);
  }

  listApprovals(query: ApprovalQuery): Promise<Page<ApprovalRecord>> {
    return this.approvals.listApprovals(query);
  }

  countApprovals(status: ApprovalStatus): Promise<number> {
    return this.approvals.countApprovals(status);
  }

  transitionApproval(
    id: string,
    from: ApprovalStatus,
    patch: Partial<Omit<ApprovalRecord, "id">>,
  ): Promise<ApprovalRecord | null> {
    return this.approvals.transitionApproval(id, from, patch);
  }

  transitionApprovalGroup(
    groupId: string,
    from: ApprovalStatus,
    patch: Partial<Omit<ApprovalRecord, "id" | "groupId">>,
  ): Promise<ApprovalRecord[] | null> {
    return this.approvals.transitionApprovalGroup(groupId, from, patch);
  }

  listExpiredApprovals(now: number, limit: number): Promise<ApprovalRecord[]> {
    return this.approvals.listExpiredApprovals(now, limit);
  }

  upsertOrder(order: OrderRecord): Promise<void> {
    return this.orders.upsertOrder(order);
  }

  getOrder(clientOrderId: string): Promise<OrderRecord | null> {
    return this.orders.getOrder(clientOrderId);
  }

  listOrders(query: OrderQuery): Promise<Page<OrderRecord>> {
    return this.orders.listOrders(query);
  }

  appendAudit(entry: Omit<AuditEntry, "seq">): Promise<AuditEntry> {
    return this.audit.appendAudit(entry);
  }

  listAudit(query: AuditQuery): Promise<Page<AuditEntry>> {
    return this.audit.listAudit(query);
  }

  // ------------------------------------------------------------------------------------------
  // retention (retention.ts; rules: core's prune.ts)

  pruneExecutions(prune: ExecutionPrune): Promise<number> {
    return this.retention.pruneExecutions(prune);
  }

  executionScheduleIds(after: string | null, limit: number): Promise<string[]> {
    return this.retention.executionScheduleIds(after, limit);
  }

  pruneApprovals(prune: RecordPrune): Promise<number> {
    return this.retention.pruneApprovals(prune);
  }

  pruneOrders(prune: RecordPrune): Promise<number> {
    return this.retention.pruneOrders(prune);
  }

  pruneAudit(prune: RecordPrune): Promise<number> {
    return this.retention.pruneAudit(prune);
  }
}
