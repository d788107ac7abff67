/**
 * PostgresStorage: the storage for several scheduler instances on one PostgreSQL. Exactly-once is
 * decided by the database (a unique constraint on (schedule_id, scheduled_at)), leases are fenced
 * by holder and status, expired leases are taken over with SELECT ... FOR UPDATE SKIP LOCKED, and
 * changes reach every instance through LISTEN/NOTIFY.
 *
 * The hot path of a fire (claim, overlap check, outcome) goes through batchers: calls made in the
 * same event-loop turn share one statement, so a burst of due fires costs a few round trips.
 *
 * This class is the facade of core's `Storage` contract: every call goes to the part that owns it
 * (the README's "Where things live" maps them). The parts share one {@link PgConnection}.
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
import { PgApprovals } from "./approvals.js";
import { PgAudit } from "./audit.js";
import { PgClaims } from "./claims.js";
import { PgConnection } from "./connection.js";
import { PgExecutions } from "./executions.js";
import { PgLeases } from "./leases.js";
import { PgMembership } from "./membership.js";
import { type PostgresStorageOptions, postgresOptionsSchema } from "./options.js";
import { PgOrders } from "./orders.js";
import { PgOutcomes } from "./outcomes.js";
import { PgRetention } from "./retention.js";
import { PgSchedules } from "./schedules.js";
import { PgScheduleStates } from "./state.js";
import { pgNames, postgresStatements } from "./statements.js";
import { PgWatchers } from "./watchers.js";

export type { PostgresStorageOptions } from "./options.js";

/** Storage on PostgreSQL (pg, pooled). Several instances on one database run every fire once. */
export class PostgresStorage implements Storage {
  /** Backend name for logs and errors. */
  readonly name = "postgres";
  /** Schema of the tables. */
  readonly schema: string;
  /** Prefix of table names. */
  readonly tablePrefix: string;
  /**
   * Calls `listener` on every change of a schedule, the control record or an approval made by any
   * instance (LISTEN/NOTIFY), within milliseconds. Absent when `notify: false`.
   */
  readonly watch: ((listener: (change: StorageChange) => void) => () => void) | undefined;

  private readonly conn: PgConnection;
  private readonly checks: RowChecks;
  private readonly stateChecks: StateRowChecks;
  private readonly schedules: PgSchedules;
  private readonly states: PgScheduleStates;
  private readonly claims: PgClaims;
  private readonly executions: PgExecutions;
  private readonly outcomes: PgOutcomes;
  private readonly leases: PgLeases;
  private readonly membership: PgMembership;
  private readonly approvals: PgApprovals;
  private readonly orders: PgOrders;
  private readonly audit: PgAudit;
  private readonly retention: PgRetention;
  private readonly watchers: PgWatchers;

  constructor(options: PostgresStorageOptions) {
    const o = parseOptions(postgresOptionsSchema, options, "postgres");
    this.schema = o.schema;
    this.tablePrefix = o.tablePrefix;
    const names = pgNames(o.schema, o.tablePrefix);
    const sql = postgresStatements(names);
    this.checks = new RowChecks("postgres", {
      schedules: names.display("schedules"),
      control: names.display("control"),
    });
    // jsonb comes back parsed by the driver's type parser.
    this.stateChecks = new StateRowChecks("postgres", names.display("schedule_state"), (raw) => raw);
    const logger = o.logger ?? silentLogger;
    this.conn = new PgConnection(o, names, logger);
    this.schedules = new PgSchedules(this.conn, sql, names, this.checks, this.stateChecks);
    this.states = new PgScheduleStates(this.conn, sql, this.stateChecks);
    this.claims = new PgClaims(this.conn, sql, names, this.states);
    this.executions = new PgExecutions(this.conn, sql, names);
    this.outcomes = new PgOutcomes(this.conn, sql, this.executions);
    this.leases = new PgLeases(this.conn, sql);
    this.membership = new PgMembership(this.conn, sql);
    this.approvals = new PgApprovals(this.conn, sql, names);
    this.orders = new PgOrders(this.conn, sql, names);
    this.audit = new PgAudit(this.conn, sql, names);
    this.retention = new PgRetention(this.conn, names);
    this.watchers = new PgWatchers(this.conn, sql, names, o.pollIntervalMs, logger);
    this.watch = o.notify ? (listener) => this.watchers.add(listener) : undefined;
  }

  // ------------------------------------------------------------------------------------------
  // lifecycle (connection.ts)

  /**
   * Migrates the schema to this version (idempotent; safe when several instances open at once).
   * Throws StorageError `STORAGE_VERSION` if the database was migrated by a newer version, and
   * StorageError `STORAGE` (naming host and cause) if PostgreSQL cannot be reached.
   */
  open(): Promise<void> {
    return this.conn.open();
  }

  /** Stops the listener and, when the storage created its pool, ends it. Idempotent. */
  async close(): Promise<void> {
    if (!this.conn.markClosed()) return;
    // Let calls batched in this turn go out before the pool goes away.
    await new Promise((resolve) => setImmediate(resolve));
    await this.watchers.close();
    await this.conn.end();
  }

  // ------------------------------------------------------------------------------------------
  // schedules and control (schedules.ts)

  insertSchedule(schedule: ScheduleRecord): Promise<void> {
    return this.schedules.insertSchedule(schedule);
  }

  /**
   * See {@link Storage.insertSchedules}: one statement (all or none). On a unique violation one
   * read of the batch's taken ids names the first conflict; a batch that repeats an id is never
   * sent (that read names the first conflict, taken or repeated, in batch order).
   */
  insertSchedules(schedules: readonly ScheduleRecord[]): Promise<void> {
    return this.schedules.insertSchedules(schedules);
  }

  updateSchedule(schedule: ScheduleRecord, expectedRevision: number): Promise<void> {
    return this.schedules.updateSchedule(schedule, expectedRevision);
  }

  /** See {@link Storage.getSchedule}: a row that fails its checks throws `STORAGE_CORRUPT`. */
  getSchedule(id: string): Promise<ScheduleRecord | null> {
    return this.schedules.getSchedule(id);
  }

  /** See {@link Storage.listSchedules}: rows that fail their checks are left out and listed by `issues()`. */
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
   * See {@link Storage.claimFires}: one autocommit statement for the batch (`claimFireBatch`:
   * the claims, the states asked for, and the holders committed before it began), plus one read
   * of the holders that committed while it ran, if any. A fire claimed twice in the batch is
   * sent once: the first claim decides, the later ones get its outcome's record.
   */
  claimFires(claims: readonly FireClaim[]): Promise<ClaimResult[]> {
    return this.claims.claimFires(claims);
  }

  /**
   * See {@link Storage.fireHolders}: one read for the batch (`fireHolders` in statements.ts);
   * given the expected holders, only the fires held otherwise come back (`fireHoldersExcept`).
   */
  fireHolders(fires: readonly FireRef[], expected?: readonly string[]): Promise<(string | null)[]> {
    return this.claims.fireHolders(fires, expected);
  }

  /** See {@link Storage.heartbeat}: one statement (see `heartbeat` in statements.ts). */
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

  // ------------------------------------------------------------------------------------------
  // change notification (watchers.ts, notify.ts)

  /** True while the LISTEN connection is up (false before the first `watch` and while reconnecting). */
  get listening(): boolean {
    return this.watchers.listening;
  }
}
