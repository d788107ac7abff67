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
 */

import {
  type ApprovalQuery,
  type ApprovalRecord,
  type ApprovalStatus,
  type AuditEntry,
  type AuditQuery,
  type ClaimResult,
  ConflictError,
  type ControlRecord,
  checkHeartbeat,
  checkLimit,
  checkPrune,
  EXECUTION_PATCH_KEYS,
  type ExecutionPatch,
  type ExecutionPrune,
  type ExecutionQuery,
  type ExecutionRecord,
  type FireClaim,
  type FireRef,
  isCorruptRecord,
  type Logger,
  NotFoundError,
  type OrderQuery,
  type OrderRecord,
  type Page,
  PRUNABLE_APPROVAL_STATUSES,
  PRUNABLE_EXECUTION_STATUSES,
  PRUNABLE_ORDER_STATUSES,
  type RecordPrune,
  type ScheduleRecord,
  type ScheduleStateRecord,
  type ScheduleSummary,
  type StateCommit,
  type Storage,
  type StorageChange,
  StorageError,
  type StorageIssue,
  scheduleExistsError,
  silentLogger,
} from "@tradecron/core";
import Database from "better-sqlite3";
import { z } from "zod";
import { decodeApproval } from "../shared/approval-rows.js";
import { driverCode, wrapError } from "../shared/errors.js";
import { parseOptions, tablePrefixSchema } from "../shared/options.js";
import {
  APPROVALS,
  AUDIT,
  CONTROL,
  type Codec,
  columnOf,
  decodeRow,
  EXECUTIONS,
  EXTRA_COLUMN,
  encodeExtra,
  encodePatch,
  encodeRow,
  encodeValue,
  ORDERS,
  SCHEDULES,
} from "../shared/rows.js";
import { StateRowChecks, stateConflict } from "../shared/state-rows.js";
import { summaryOf } from "../shared/summaries.js";
import { RowChecks } from "../shared/trust.js";
import { toPage } from "../shared/where.js";
import { GroupCommit } from "./group-commit.js";
import { migrateSqlite } from "./migrations.js";
import {
  listApprovalsSql,
  listAuditSql,
  listExecutionsSql,
  listOrdersSql,
  type SqliteNames,
  type SqliteStatements,
  sqliteNames,
  sqlitePruneStatements,
  sqliteStatements,
  transitionApprovalGroupSql,
  transitionApprovalSql,
  updateExecutionSql,
} from "./statements.js";
import { WalCheckpointer } from "./wal-checkpointer.js";
import { type ChangeRow, SqliteChangePoller } from "./watch.js";

/** Options of {@link SqliteStorage}. */
export interface SqliteStorageOptions {
  /** Path of the database file (created if missing). */
  path: string;
  /** Prefix of every table, index and trigger name, e.g. `tc_`. Default none. */
  tablePrefix?: string;
  /**
   * How long a write waits for another connection's (or process's) write lock before failing with
   * StorageError `STORAGE_LOCKED`. Default 5000 ms.
   */
  busyTimeoutMs?: number;
  /**
   * `full` (default): every commit is fsynced, acknowledged writes survive power loss.
   * `normal`: survives a crash of the process, may lose the last commits on power loss.
   */
  synchronous?: "full" | "normal";
  /**
   * Commit the writes of one event-loop turn together (one fsync). Default true. False: every
   * write is its own transaction.
   */
  groupCommit?: boolean;
  /**
   * How often `watch` polls the change log, in ms (default 250), or `false` for no `watch` (the
   * scheduler then polls storage every `syncIntervalMs` itself).
   */
  watchIntervalMs?: number | false;
  /** Where background failures (watch polling) are logged (pino-compatible). Default silent. */
  logger?: Logger;
}

const optionsSchema = z.strictObject({
  path: z.string().min(1),
  tablePrefix: tablePrefixSchema.default(""),
  busyTimeoutMs: z.number().int().min(0).max(600_000).default(5000),
  synchronous: z.enum(["full", "normal"]).default("full"),
  groupCommit: z.boolean().default(true),
  watchIntervalMs: z.union([z.number().int().min(10).max(60_000), z.literal(false)]).default(250),
  logger: z.custom<Logger>((v) => typeof v === "object" && v !== null, "must be a logger").optional(),
});

/**
 * SQLite value conversions: JSON as text, booleans as 0/1. SQLite keeps whatever a person writes
 * into a column, so anything but 0 and 1 comes back as it is (not as false): the record checks
 * then refuse it instead of reading `paused_all = 'yes'` as "not paused".
 */
const codec: Codec = {
  encodeJson: (value) => JSON.stringify(value),
  decodeJson: (value) => JSON.parse(value as string) as unknown,
  encodeBool: (value) => (value ? 1 : 0),
  decodeBool: (value) => (value === 1 ? true : value === 0 ? false : (value as boolean)),
};

const decodeSchedule = (row: Row) => decodeRow<ScheduleRecord>(SCHEDULES, row, codec);
const decodeControl = (row: Row) => decodeRow<ControlRecord>(CONTROL, row, codec);

/** Fields of an ExecutionPatch that have a column. */
const PATCH_COLUMNS = new Map(
  EXECUTION_PATCH_KEYS.map((field) => [field, columnOf(EXECUTIONS, field)] as const),
);

type Row = Record<string, unknown>;

/** Column names of the executions table in `encodeRow` order (extra last). */
const EXECUTIONS_COLUMNS = [...EXECUTIONS.columns.map((c) => c.column), EXTRA_COLUMN];

/** A row object from column names and the values `encodeRow` produced for them. */
function rowOf(columns: readonly string[], values: readonly unknown[]): Row {
  const row: Row = {};
  columns.forEach((column, i) => {
    row[column] = values[i];
  });
  return row;
}

/** The most event-loop turns a prune batch waits for other queued writes to commit first. */
const PRUNE_YIELD_TURNS = 3;

/** True unless `path` is an in-memory or temporary database (they have no WAL file to checkpoint). */
function hasWalFile(path: string): boolean {
  return path !== "" && path !== ":memory:" && !path.startsWith("file:");
}

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

  private readonly options: z.output<typeof optionsSchema>;
  private readonly names: SqliteNames;
  private readonly sql: SqliteStatements;
  private readonly pruneSql: ReturnType<typeof sqlitePruneStatements>;
  private readonly logger: Logger;
  private db: Database.Database | null = null;
  private writes: GroupCommit | null = null;
  private closed = false;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly updateStatements = new Map<string, Database.Statement>();
  private readonly watchers = new Set<(change: StorageChange) => void>();
  private poller: SqliteChangePoller | null = null;
  /** Checkpoints the WAL off the event loop while retention prunes (see wal-checkpointer.ts). */
  private checkpointer: WalCheckpointer | null = null;
  private readonly checks: RowChecks;
  private readonly stateChecks: StateRowChecks;

  constructor(options: SqliteStorageOptions) {
    this.options = parseOptions(optionsSchema, options, "sqlite");
    this.path = this.options.path;
    this.tablePrefix = this.options.tablePrefix;
    this.names = sqliteNames(this.tablePrefix);
    this.sql = sqliteStatements(this.names);
    this.pruneSql = sqlitePruneStatements(this.names, {
      executions: PRUNABLE_EXECUTION_STATUSES,
      approvals: PRUNABLE_APPROVAL_STATUSES,
      orders: PRUNABLE_ORDER_STATUSES,
    });
    this.checks = new RowChecks("sqlite", {
      schedules: `${this.path}: ${this.names.display("schedules")}`,
      control: `${this.path}: ${this.names.display("control")}`,
    });
    this.stateChecks = new StateRowChecks(
      "sqlite",
      `${this.path}: ${this.names.display("schedule_state")}`,
      (raw) => JSON.parse(raw as string),
    );
    this.logger = this.options.logger ?? silentLogger;
    this.watch = this.options.watchIntervalMs === false ? undefined : (listener) => this.addWatcher(listener);
  }

  // ------------------------------------------------------------------------------------------
  // plumbing

  /** Maps a driver error to a typed one naming the file, the operation and the table. */
  private wrap(operation: string, table: string | null, error: unknown): Error {
    const code = driverCode(error);
    const where = table ? this.names.display(table) : null;
    if (code === "SQLITE_BUSY" || code?.startsWith("SQLITE_BUSY_") || code === "SQLITE_LOCKED") {
      return wrapError(
        "sqlite",
        `${operation} (${this.path} stayed locked by another connection for more than ${this.options.busyTimeoutMs} ms)`,
        where,
        error,
        "STORAGE_LOCKED",
      );
    }
    if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT" || code?.startsWith("SQLITE_CORRUPT_")) {
      return wrapError(
        "sqlite",
        `${operation} (${this.path} is not a usable SQLite database)`,
        where,
        error,
        "STORAGE_CORRUPT",
      );
    }
    return wrapError("sqlite", `${operation} (${this.path})`, where, error);
  }

  private connection(): Database.Database {
    if (this.db) return this.db;
    if (this.closed) throw new StorageError("STORAGE", `sqlite: the storage on ${this.path} is closed`);
    throw new StorageError("STORAGE", `sqlite: open() the storage on ${this.path} first`);
  }

  private prepare(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.connection().prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  /** Runs a read now. */
  private read<T>(operation: string, table: string, fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(this.wrap(operation, table, error));
    }
  }

  /** Queues a write for the next group commit; settles once committed. */
  private async write<T>(operation: string, table: string, fn: () => T, savepoint = false): Promise<T> {
    if (!this.writes) this.connection();
    try {
      return await (this.writes as GroupCommit).run(fn, { savepoint });
    } catch (error) {
      throw this.wrap(operation, table, error);
    }
  }

  /** The fenced update for one set of columns, prepared once per set (patches come in few shapes). */
  private updateStatement(columns: readonly string[]): Database.Statement {
    const key = columns.join(",");
    let statement = this.updateStatements.get(key);
    if (!statement) {
      statement = this.prepare(updateExecutionSql(this.names, columns));
      this.updateStatements.set(key, statement);
    }
    return statement;
  }

  private get = (text: string, ...params: unknown[]): Row | undefined =>
    this.prepare(text).get(...params) as Row | undefined;

  private all = (text: string, ...params: unknown[]): Row[] => this.prepare(text).all(...params) as Row[];

  private decodeExecution = (row: Row): ExecutionRecord => decodeRow<ExecutionRecord>(EXECUTIONS, row, codec);

  // ------------------------------------------------------------------------------------------
  // lifecycle

  /**
   * Opens the file (creating it), switches it to WAL, sets `synchronous` and `busy_timeout`, and
   * migrates the schema (idempotent; safe when several processes open at once). Throws
   * StorageError `STORAGE_CORRUPT` for a file that is not a SQLite database (it is left untouched),
   * `STORAGE_VERSION` for a file migrated by a newer version, `STORAGE_LOCKED` when another process
   * holds the write lock longer than `busyTimeoutMs`.
   */
  async open(): Promise<void> {
    if (this.db) return;
    if (this.closed) throw new StorageError("STORAGE", `sqlite: the storage on ${this.path} is closed`);
    let db: Database.Database | null = null;
    try {
      db = new Database(this.path, { timeout: this.options.busyTimeoutMs });
      const mode = await this.switchToWal(db);
      if (mode !== "wal" && this.path !== ":memory:" && !this.path.startsWith("file::memory:")) {
        throw new StorageError(
          "STORAGE",
          `sqlite: ${this.path} cannot use WAL journaling (got '${String(mode)}')`,
          {
            details: { path: this.path },
          },
        );
      }
      db.pragma(`synchronous = ${this.options.synchronous.toUpperCase()}`);
      migrateSqlite(db, this.names, this.path);
    } catch (error) {
      db?.close();
      throw this.wrap("opening the database", null, error);
    }
    this.db = db;
    this.writes = new GroupCommit(db, this.options.groupCommit, (error) =>
      this.wrap("committing a group of writes", null, error),
    );
    this.ensurePoller();
  }

  /**
   * Sets WAL journaling (a persistent property of the file). Switching needs an exclusive lock for
   * a moment, and SQLite answers SQLITE_BUSY at once, without its busy handler, when two processes
   * open a new file together; so we retry with a short jittered backoff for up to `busyTimeoutMs`.
   */
  private async switchToWal(db: Database.Database): Promise<unknown> {
    const deadline = Date.now() + this.options.busyTimeoutMs;
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      try {
        const current = db.pragma("journal_mode", { simple: true });
        return current === "wal" ? current : db.pragma("journal_mode = WAL", { simple: true });
      } catch (error) {
        if (driverCode(error) !== "SQLITE_BUSY" || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay + Math.random() * delay));
      }
    }
  }

  /** Commits queued writes, stops watching and closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.poller?.stop();
    this.poller = null;
    await this.checkpointer?.close();
    this.checkpointer = null;
    this.watchers.clear();
    this.writes?.flush();
    this.statements.clear();
    this.updateStatements.clear();
    this.db?.close();
    this.db = null;
    this.writes = null;
  }

  // ------------------------------------------------------------------------------------------
  // schedules

  insertSchedule(schedule: ScheduleRecord): Promise<void> {
    const values = encodeRow(SCHEDULES, schedule, codec);
    return this.write("insertSchedule", "schedules", () => {
      try {
        this.prepare(this.sql.insertSchedule).run(...values);
      } catch (error) {
        if (driverCode(error)?.startsWith("SQLITE_CONSTRAINT")) {
          throw new ConflictError("SCHEDULE_EXISTS", `schedule '${schedule.id}' exists already`, {
            field: "id",
            cause: error,
            details: { table: this.names.display("schedules") },
          });
        }
        throw error;
      }
    });
  }

  /**
   * See {@link Storage.insertSchedules}: one write in a savepoint of the group commit, so a taken
   * or repeated id rolls the whole batch back (a repeated one conflicts with its earlier row).
   */
  insertSchedules(schedules: readonly ScheduleRecord[]): Promise<void> {
    if (schedules.length === 0) return Promise.resolve();
    const rows = schedules.map((schedule) => encodeRow(SCHEDULES, schedule, codec));
    return this.write(
      "insertSchedules",
      "schedules",
      () => {
        const insert = this.prepare(this.sql.insertSchedule);
        rows.forEach((values, i) => {
          try {
            insert.run(...values);
          } catch (error) {
            if (!driverCode(error)?.startsWith("SQLITE_CONSTRAINT")) throw error;
            throw scheduleExistsError(
              (schedules[i] as ScheduleRecord).id,
              { table: this.names.display("schedules") },
              error,
            );
          }
        });
      },
      true,
    );
  }

  updateSchedule(schedule: ScheduleRecord, expectedRevision: number): Promise<void> {
    const [id, ...rest] = encodeRow(SCHEDULES, schedule, codec);
    return this.write("updateSchedule", "schedules", () => {
      const res = this.prepare(this.sql.updateSchedule).run(...rest, id, expectedRevision);
      if (res.changes === 1) return;
      const row = this.get(this.sql.scheduleRevision, schedule.id) as { revision: number } | undefined;
      if (!row) {
        throw new NotFoundError("SCHEDULE_NOT_FOUND", `schedule '${schedule.id}' not found`, { field: "id" });
      }
      throw new ConflictError(
        "REVISION_CONFLICT",
        `schedule '${schedule.id}' is at revision ${row.revision}, not ${expectedRevision}`,
        { field: "revision", details: { current: row.revision, expected: expectedRevision } },
      );
    });
  }

  getSchedule(id: string): Promise<ScheduleRecord | null> {
    return this.read("getSchedule", "schedules", () =>
      this.checks.schedule(id, this.get(this.sql.getSchedule, id), decodeSchedule),
    );
  }

  listSchedules(): Promise<ScheduleRecord[]> {
    return this.read("listSchedules", "schedules", () =>
      this.checks.schedules(this.all(this.sql.listSchedules), decodeSchedule),
    );
  }

  deleteSchedule(id: string): Promise<boolean> {
    return this.write("deleteSchedule", "schedules", () => {
      this.checks.forget(id);
      this.stateChecks.forget(id);
      // The schema's delete trigger removes the schedule's state in the same statement.
      return this.prepare(this.sql.deleteSchedule).run(id).changes === 1;
    });
  }

  // ------------------------------------------------------------------------------------------
  // control

  /** See {@link Storage.getControl}: a control row that fails its checks, or is gone, throws `STORAGE_CORRUPT`. */
  getControl(): Promise<ControlRecord> {
    return this.read("getControl", "control", () =>
      this.checks.control(this.get(this.sql.getControl), decodeControl),
    );
  }

  setControl(control: ControlRecord): Promise<void> {
    const values = encodeRow(CONTROL, control, codec);
    return this.write("setControl", "control", () => {
      this.prepare(this.sql.setControl).run(...values);
      this.checks.controlReplaced();
    });
  }

  /** See {@link Storage.issues}: schedule and control rows that failed their checks when last read. */
  issues(): StorageIssue[] {
    return [...this.checks.issues(), ...this.stateChecks.issues()];
  }

  // ------------------------------------------------------------------------------------------
  // fires and executions

  claimFire(claim: FireClaim): Promise<ClaimResult> {
    const values = encodeRow(EXECUTIONS, claim.execution, codec);
    return this.write("claimFire", "executions", () => this.claimRow(claim, values));
  }

  /**
   * See {@link Storage.claimFires}: one write of the group commit, in a savepoint, so the batch
   * shares the group's transaction and fsync and a failing claim (an execution id that is taken)
   * rolls the whole batch back. A second claim of a fire in the batch conflicts with the first's
   * row, inserted earlier in the same transaction, and reads it back.
   */
  claimFires(claims: readonly FireClaim[]): Promise<ClaimResult[]> {
    if (claims.length === 0) return Promise.resolve([]);
    const rows = claims.map((claim) => encodeRow(EXECUTIONS, claim.execution, codec));
    return this.write(
      "claimFires",
      "executions",
      () => claims.map((claim, i) => this.claimRow(claim, rows[i] as unknown[])),
      true,
    );
  }

  /** One claim inside a write: insert unless the fire is taken, else read the holder's row. */
  private claimRow({ execution, withState, withOverlap }: FireClaim, values: unknown[]): ClaimResult {
    let changes: number;
    try {
      changes = this.prepare(this.sql.claimFire).run(...values).changes;
    } catch (error) {
      if (driverCode(error)?.startsWith("SQLITE_CONSTRAINT")) {
        throw new ConflictError("CONFLICT", `execution '${execution.id}' exists already`, {
          field: "id",
          cause: error,
          details: { table: this.names.display("executions") },
        });
      }
      throw error;
    }
    if (changes === 1) {
      const claimed = this.decodeExecution(rowOf(EXECUTIONS_COLUMNS, values));
      const result: ClaimResult = { claimed: true, execution: claimed };
      if (withState === true) result.state = this.claimState(execution.scheduleId);
      // Same transaction: what is active besides this claim, as it was decided.
      if (withOverlap === true)
        result.othersActive =
          this.get(this.sql.othersActive, execution.scheduleId, execution.id) !== undefined;
      return result;
    }
    // Same transaction: the holder cannot release the fire between our insert and this read.
    const existing = this.get(this.sql.findExecution, execution.scheduleId, execution.scheduledAt) as Row;
    return { claimed: false, existing: this.decodeExecution(existing) };
  }

  /** The committed state a won claim hands back (same transaction): undefined for a row failing its checks. */
  private claimState(scheduleId: string): ScheduleStateRecord | null | undefined {
    try {
      return this.stateChecks.check(scheduleId, this.get(this.sql.getScheduleState, scheduleId));
    } catch (error) {
      // The claim stands; the scheduler's own getScheduleState reports the row.
      if (isCorruptRecord(error)) return undefined;
      throw error;
    }
  }

  // ------------------------------------------------------------------------------------------
  // cluster membership

  /**
   * See {@link Storage.heartbeat}: one write of the group commit (renew or leave, forget the
   * memberships that ran out, read the live ones), so every process on the file sees the others.
   */
  heartbeat(instanceId: string, now: number, expiresAt: number): Promise<string[]> {
    try {
      checkHeartbeat(instanceId, now, expiresAt);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.write("heartbeat", "instances", () => {
      if (expiresAt > now) this.prepare(this.sql.heartbeat).run(instanceId, expiresAt);
      else this.prepare(this.sql.leave).run(instanceId);
      this.prepare(this.sql.dropExpiredInstances).run(now);
      return this.all(this.sql.liveInstances, now).map((r) => r.instance_id as string);
    });
  }

  updateExecution(
    id: string,
    instanceId: string,
    patch: ExecutionPatch,
    state?: StateCommit,
  ): Promise<ExecutionRecord | null> {
    const columns: string[] = [];
    const values: unknown[] = [];
    // Only the fields a holder may change: a stray `scheduleId` in a patch must not move the fire.
    for (const [field, column] of PATCH_COLUMNS) {
      const value = (patch as Record<string, unknown>)[field];
      if (value === undefined || !column) continue;
      columns.push(column.column);
      values.push(encodeValue(column.kind, value, codec));
    }
    if (state === undefined) {
      return this.write("updateExecution", "executions", () => {
        const row = this.updateStatement(columns).get(...values, id, instanceId) as Row | undefined;
        return row ? this.decodeExecution(row) : null;
      });
    }
    // In a savepoint: a state conflict throws, which rolls the execution patch back with it.
    return this.write(
      "updateExecution",
      "executions",
      () => {
        const row = this.updateStatement(columns).get(...values, id, instanceId) as Row | undefined;
        if (!row) return null;
        const execution = this.decodeExecution(row);
        this.commitState(execution, state);
        return execution;
      },
      true,
    );
  }

  /** Writes the state of `execution`'s schedule (inside the execution's write), or throws a conflict. */
  private commitState(execution: ExecutionRecord, state: StateCommit): void {
    const scheduleId = execution.scheduleId;
    if (!this.get(this.sql.scheduleExists, scheduleId)) return;
    const value = JSON.stringify(state.value);
    const changes =
      state.expectedRevision === 0
        ? this.prepare(this.sql.insertScheduleState).run(scheduleId, value, execution.id, state.at).changes
        : this.prepare(this.sql.updateScheduleState).run(
            value,
            execution.id,
            state.at,
            scheduleId,
            state.expectedRevision,
          ).changes;
    if (changes !== 1) throw stateConflict(scheduleId, state.expectedRevision);
  }

  /** See {@link Storage.getScheduleState}: a row failing its checks throws `STORAGE_CORRUPT`. */
  getScheduleState(scheduleId: string): Promise<ScheduleStateRecord | null> {
    return this.read("getScheduleState", "schedule_state", () =>
      this.stateChecks.check(scheduleId, this.get(this.sql.getScheduleState, scheduleId)),
    );
  }

  renewLeases(instanceId: string, ids: string[], leaseExpiresAt: number): Promise<string[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.write("renewLeases", "executions", () => {
      const held = new Set(
        this.all(this.sql.renewLeases, leaseExpiresAt, instanceId, JSON.stringify(ids)).map(
          (r) => r.id as string,
        ),
      );
      return ids.filter((id) => held.has(id));
    });
  }

  cancelExecution(id: string, reason: string, endedAt: number): Promise<ExecutionRecord | null> {
    return this.write("cancelExecution", "executions", () => {
      const row = this.get(this.sql.cancelExecution, reason, endedAt, id);
      return row ? this.decodeExecution(row) : null;
    });
  }

  activeExecutions(scheduleId: string): Promise<ExecutionRecord[]> {
    return this.read("activeExecutions", "executions", () =>
      this.all(this.sql.activeExecutions, scheduleId)
        .map(this.decodeExecution)
        .sort((a, b) => a.scheduledAt - b.scheduledAt),
    );
  }

  releaseClaim(id: string, instanceId: string): Promise<boolean> {
    return this.write(
      "releaseClaim",
      "executions",
      () => this.prepare(this.sql.releaseClaim).run(id, instanceId).changes === 1,
    );
  }

  takeOverExpired(
    instanceId: string,
    now: number,
    leaseExpiresAt: number,
    limit: number,
    jobs?: readonly string[],
  ): Promise<ExecutionRecord[]> {
    if (limit <= 0) return Promise.resolve([]);
    return this.write("takeOverExpired", "executions", () =>
      this.all(this.sql.takeOverExpired, {
        instance: instanceId,
        lease: leaseExpiresAt,
        now,
        jobs: jobs === undefined ? null : JSON.stringify(jobs),
        limit,
      }).map(this.decodeExecution),
    );
  }

  getExecution(id: string): Promise<ExecutionRecord | null> {
    return this.read("getExecution", "executions", () => {
      const row = this.get(this.sql.getExecution, id);
      return row ? this.decodeExecution(row) : null;
    });
  }

  /** See {@link Storage.fireHolders}: one read for the batch, an index lookup per fire. */
  fireHolders(fires: readonly FireRef[]): Promise<(string | null)[]> {
    return this.read("fireHolders", "executions", () => {
      const lookup = this.prepare(this.sql.fireHolder).pluck();
      return fires.map((f) => (lookup.get(f.scheduleId, f.scheduledAt) as string | undefined) ?? null);
    });
  }

  findExecution(scheduleId: string, scheduledAt: number): Promise<ExecutionRecord | null> {
    return this.read("findExecution", "executions", () => {
      const row = this.get(this.sql.findExecution, scheduleId, scheduledAt);
      return row ? this.decodeExecution(row) : null;
    });
  }

  listExecutions(query: ExecutionQuery): Promise<Page<ExecutionRecord>> {
    return this.read("listExecutions", "executions", () => {
      const limit = checkLimit(query.limit);
      const s = listExecutionsSql(this.names, query, limit);
      return toPage(
        this.all(s.text, ...s.values).map(this.decodeExecution),
        limit,
        (e) => e.scheduledAt,
        (e) => e.id,
      );
    });
  }

  lastFireAt(scheduleId: string): Promise<number | null> {
    return this.read("lastFireAt", "executions", () => {
      const row = this.get(this.sql.lastFireAt, scheduleId) as { scheduled_at: number } | undefined;
      return row?.scheduled_at ?? null;
    });
  }

  scheduleSummaries(scheduleIds: readonly string[]): Promise<ScheduleSummary[]> {
    if (scheduleIds.length === 0) return Promise.resolve([]);
    return this.read("scheduleSummaries", "executions", () =>
      this.all(this.sql.scheduleSummaries, JSON.stringify(scheduleIds)).map(summaryOf),
    );
  }

  // ------------------------------------------------------------------------------------------
  // approvals

  insertApprovals(approvals: ApprovalRecord[]): Promise<void> {
    if (approvals.length === 0) return Promise.resolve();
    const rows = approvals.map((a) => encodeRow(APPROVALS, a, codec));
    return this.write(
      "insertApprovals",
      "approvals",
      () => {
        const insert = this.prepare(this.sql.insertApproval);
        for (const [i, values] of rows.entries()) {
          try {
            insert.run(...values);
          } catch (error) {
            if (driverCode(error)?.startsWith("SQLITE_CONSTRAINT")) {
              throw new ConflictError("CONFLICT", `approval '${approvals[i]?.id}' exists already`, {
                field: "id",
                cause: error,
                details: { table: this.names.display("approvals") },
              });
            }
            throw error;
          }
        }
      },
      true,
    );
  }

  getApproval(id: string): Promise<ApprovalRecord | null> {
    return this.read("getApproval", "approvals", () => {
      const row = this.get(this.sql.getApproval, id);
      return row ? decodeApproval(row, codec, "sqlite") : null;
    });
  }

  listApprovals(query: ApprovalQuery): Promise<Page<ApprovalRecord>> {
    return this.read("listApprovals", "approvals", () => {
      const limit = checkLimit(query.limit);
      const s = listApprovalsSql(this.names, query, limit);
      return toPage(
        this.all(s.text, ...s.values).map((row) => decodeApproval(row, codec, "sqlite")),
        limit,
        (a) => a.createdAt,
        (a) => a.id,
      );
    });
  }

  countApprovals(status: ApprovalStatus): Promise<number> {
    return this.read("countApprovals", "approvals", () => {
      const row = this.get(this.sql.countApprovals, status) as { n: number };
      return row.n;
    });
  }

  transitionApproval(
    id: string,
    from: ApprovalStatus,
    patch: Partial<Omit<ApprovalRecord, "id">>,
  ): Promise<ApprovalRecord | null> {
    const columns: string[] = [];
    const values: unknown[] = [];
    const unknownFields: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(patch)) {
      if (value === undefined || field === "id") continue;
      const column = columnOf(APPROVALS, field);
      if (column) {
        columns.push(column.column);
        values.push(encodeValue(column.kind, value, codec));
      } else unknownFields[field] = value;
    }
    const hasExtra = Object.keys(unknownFields).length > 0;
    return this.write(
      "transitionApproval",
      "approvals",
      () => {
        if (hasExtra) {
          const current = this.get(this.sql.getApproval, id);
          if (!current) return null;
          const merged = { ...decodeApproval(current, codec, "sqlite"), ...unknownFields };
          columns.push(EXTRA_COLUMN);
          values.push(encodeExtra(APPROVALS, merged, codec));
        }
        const text = transitionApprovalSql(this.names, columns.length ? columns : ["status"]);
        const row = this.get(text, ...(columns.length ? values : [from]), id, from);
        return row ? decodeApproval(row, codec, "sqlite") : null;
      },
      hasExtra,
    );
  }

  transitionApprovalGroup(
    groupId: string,
    from: ApprovalStatus,
    patch: Partial<Omit<ApprovalRecord, "id" | "groupId">>,
  ): Promise<ApprovalRecord[] | null> {
    const { columns, values } = encodePatch(APPROVALS, patch, codec, ["id", "groupId"]);
    if (columns.length === 0) {
      columns.push("status");
      values.push(from);
    }
    const text = transitionApprovalGroupSql(this.names, columns);
    return this.write("transitionApprovalGroup", "approvals", () => {
      const rows = this.all(text, ...values, groupId, groupId, from);
      if (rows.length === 0) return null;
      return rows
        .map((row) => decodeApproval(row, codec, "sqlite"))
        .sort((a, b) => a.intentIndex - b.intentIndex);
    });
  }

  listExpiredApprovals(now: number, limit: number): Promise<ApprovalRecord[]> {
    return this.read("listExpiredApprovals", "approvals", () =>
      this.all(this.sql.listExpiredApprovals, now, limit).map((row) => decodeApproval(row, codec, "sqlite")),
    );
  }

  // ------------------------------------------------------------------------------------------
  // orders

  upsertOrder(order: OrderRecord): Promise<void> {
    const values = encodeRow(ORDERS, order, codec);
    return this.write("upsertOrder", "orders", () => {
      this.prepare(this.sql.upsertOrder).run(...values);
    });
  }

  getOrder(clientOrderId: string): Promise<OrderRecord | null> {
    return this.read("getOrder", "orders", () => {
      const row = this.get(this.sql.getOrder, clientOrderId);
      return row ? decodeRow<OrderRecord>(ORDERS, row, codec) : null;
    });
  }

  listOrders(query: OrderQuery): Promise<Page<OrderRecord>> {
    return this.read("listOrders", "orders", () => {
      const limit = checkLimit(query.limit);
      const s = listOrdersSql(this.names, query, limit);
      return toPage(
        this.all(s.text, ...s.values).map((row) => decodeRow<OrderRecord>(ORDERS, row, codec)),
        limit,
        (o) => o.submittedAt,
        (o) => o.clientOrderId,
      );
    });
  }

  // ------------------------------------------------------------------------------------------
  // audit

  appendAudit(entry: Omit<AuditEntry, "seq">): Promise<AuditEntry> {
    const values = encodeRow(AUDIT, entry, codec, "seq");
    return this.write("appendAudit", "audit", () =>
      decodeRow<AuditEntry>(AUDIT, this.get(this.sql.appendAudit, ...values) as Row, codec),
    );
  }

  listAudit(query: AuditQuery): Promise<Page<AuditEntry>> {
    return this.read("listAudit", "audit", () => {
      const limit = checkLimit(query.limit);
      const s = listAuditSql(this.names, query, limit);
      return toPage(
        this.all(s.text, ...s.values).map((row) => decodeRow<AuditEntry>(AUDIT, row, codec)),
        limit,
        (e) => e.seq,
        (e) => String(e.seq).padStart(16, "0"),
      );
    });
  }

  // ------------------------------------------------------------------------------------------
  // retention (rules: core's prune.ts; each call is one bounded DELETE in a group commit)

  async pruneExecutions(prune: ExecutionPrune): Promise<number> {
    checkPrune(prune);
    return this.pruneBatch("pruneExecutions", "executions", () =>
      this.prepare(this.pruneSql.pruneExecutions).run({
        schedule: prune.scheduleId,
        before: prune.before ?? null,
        keep: prune.keepLast ? prune.keepLast : null,
        limit: prune.limit,
      }),
    );
  }

  /**
   * Before a prune batch joins the group commit: waits while other writes are queued (at most
   * {@link PRUNE_YIELD_TURNS} event-loop turns), so a batch does not go into the transaction of
   * a fire's claim or start and make it wait for the DELETE. Under a load that always has writes
   * queued it joins them after that.
   */
  private async afterQueuedWrites(): Promise<void> {
    for (let turn = 0; turn < PRUNE_YIELD_TURNS && (this.writes?.pending ?? 0) > 0; turn++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /**
   * After a prune batch committed: asks the checkpoint worker to fold the WAL into the file, so
   * the next commits on the event loop (fires' claims) do not pay for the pages it wrote.
   * Returns `deleted`.
   */
  private pruned(deleted: number): number {
    if (deleted > 0 && !this.closed && this.db && hasWalFile(this.path)) {
      this.checkpointer ??= new WalCheckpointer({ path: this.path, logger: this.logger });
      this.checkpointer.request();
    }
    return deleted;
  }

  executionScheduleIds(after: string | null, limit: number): Promise<string[]> {
    return this.read("executionScheduleIds", "executions", () =>
      this.all(this.pruneSql.executionScheduleIds, { after, limit: checkLimit(limit) }).map(
        (r) => r.id as string,
      ),
    );
  }

  async pruneApprovals(prune: RecordPrune): Promise<number> {
    return this.pruneRecords("pruneApprovals", "approvals", this.pruneSql.pruneApprovals, prune);
  }

  async pruneOrders(prune: RecordPrune): Promise<number> {
    return this.pruneRecords("pruneOrders", "orders", this.pruneSql.pruneOrders, prune);
  }

  async pruneAudit(prune: RecordPrune): Promise<number> {
    return this.pruneRecords("pruneAudit", "audit", this.pruneSql.pruneAudit, prune);
  }

  /** A prune of approvals, orders or audit entries: `sql` takes (before, limit). */
  private async pruneRecords(
    operation: string,
    table: string,
    sql: string,
    prune: RecordPrune,
  ): Promise<number> {
    checkPrune(prune);
    return this.pruneBatch(operation, table, () => this.prepare(sql).run(prune.before, prune.limit));
  }

  /**
   * One prune batch: after the writes queued before it, in a transaction of its own committed
   * without waiting for the fsync (a batch lost to a power failure is deleted again by the next
   * pass; see GroupCommit.runUnsynced), then the checkpoint worker syncs and folds the WAL.
   */
  private async pruneBatch(
    operation: string,
    table: string,
    remove: () => { changes: number },
  ): Promise<number> {
    await this.afterQueuedWrites();
    if (!this.writes) this.connection();
    let deleted: number;
    try {
      deleted = (this.writes as GroupCommit).runUnsynced(() => remove().changes, this.options.synchronous);
    } catch (error) {
      throw this.wrap(operation, table, error);
    }
    return this.pruned(deleted);
  }

  // ------------------------------------------------------------------------------------------
  // change notification

  private addWatcher(listener: (change: StorageChange) => void): () => void {
    if (this.closed) return () => {};
    this.watchers.add(listener);
    this.ensurePoller();
    return () => {
      this.watchers.delete(listener);
      if (this.watchers.size === 0) {
        this.poller?.stop();
        this.poller = null;
      }
    };
  }

  /** Starts polling the change log once the file is open and someone watches. */
  private ensurePoller(): void {
    if (!this.poller && this.db && this.watchers.size > 0) {
      this.poller = new SqliteChangePoller(
        {
          bounds: () => this.get(this.sql.changesBounds) as { lo: number; hi: number },
          since: (seq) => this.all(this.sql.changesSince, seq) as unknown as ChangeRow[],
          scheduleIds: () => this.all(this.sql.scheduleIds).map((r) => r.id as string),
        },
        this.options.watchIntervalMs as number,
        (change) => this.dispatch(change),
        (error) => this.logger.warn({ err: error }, `sqlite: polling the change log of ${this.path} failed`),
      );
      this.poller.start();
    }
  }

  private dispatch(change: StorageChange): void {
    for (const watcher of [...this.watchers]) {
      try {
        watcher({ ...change });
      } catch (error) {
        this.logger.error({ err: error }, "sqlite: a storage watcher threw");
      }
    }
  }
}
