/**
 * PostgresStorage: the storage for several scheduler instances on one PostgreSQL. Exactly-once is
 * decided by the database (a unique constraint on (schedule_id, scheduled_at)), leases are fenced
 * by holder and status, expired leases are taken over with SELECT ... FOR UPDATE SKIP LOCKED, and
 * changes reach every instance through LISTEN/NOTIFY.
 *
 * The hot path of a fire (claim, overlap check, outcome) goes through batchers: calls made in the
 * same event-loop turn share one statement, so a burst of due fires costs a few round trips.
 */

import { createHash } from "node:crypto";
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
  type ExecutionPatch,
  type ExecutionPrune,
  type ExecutionQuery,
  type ExecutionRecord,
  type FireClaim,
  type FireRef,
  firstConflictingId,
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
import pg from "pg";
import { z } from "zod";
import { decodeApproval } from "../shared/approval-rows.js";
import { Batcher } from "../shared/batcher.js";
import { driverCode, wrapError } from "../shared/errors.js";
import { Lane, Lanes } from "../shared/lanes.js";
import { parseOptions, schemaNameSchema, tablePrefixSchema } from "../shared/options.js";
import {
  APPROVALS,
  AUDIT,
  CONTROL,
  type Codec,
  decodeRow,
  EXECUTIONS,
  encodePatch,
  encodeRow,
  ORDERS,
  SCHEDULES,
  toColumnObject,
} from "../shared/rows.js";
import { StateRowChecks, stateConflict } from "../shared/state-rows.js";
import { summaryOf } from "../shared/summaries.js";
import { RowChecks } from "../shared/trust.js";
import { toPage } from "../shared/where.js";
import { boolArray, columnArrays, numberArray, textArray } from "./arrays.js";
import { migratePostgres } from "./migrations.js";
import { type ChangeSnapshot, PgChangeListener } from "./notify.js";
import {
  listApprovalsSql,
  listAuditSql,
  listExecutionsSql,
  listOrdersSql,
  PATCH_FIELDS,
  type PgNames,
  type PostgresStatements,
  pgNames,
  postgresPruneStatements,
  postgresStatements,
  transitionApprovalGroupSql,
  transitionApprovalSql,
} from "./statements.js";

/** Options of {@link PostgresStorage}. Give `connectionString` or `pool`, not both. */
export interface PostgresStorageOptions {
  /** `postgres://user@host:5432/db`: the storage creates (and on close ends) its own pool. */
  connectionString?: string;
  /** An existing pg Pool to use; the storage never ends it. */
  pool?: pg.Pool;
  /** Schema of the tables (created if missing). Lower-case identifier; default `tradecron`. */
  schema?: string;
  /** Prefix of every table, index and trigger name, e.g. `tc_`. Default none. */
  tablePrefix?: string;
  /** Connections of the storage's own pool (with `connectionString`). Default 10. */
  poolSize?: number;
  /**
   * Connections of the storage's own pool opened by `open()` and kept open while idle (default: all
   * of `poolSize`). A burst of fires (everything due at 09:30:00) then does not wait for new
   * connections, each of which costs PostgreSQL a new backend process. 0: open on demand, close
   * after 10 s idle (pg's default).
   */
  warmConnections?: number;
  /**
   * Change notification through LISTEN/NOTIFY on a dedicated connection (default true). Set false
   * where LISTEN does not work (a PgBouncer in transaction mode): `watch` is then absent and the
   * scheduler polls storage every `syncIntervalMs` instead.
   */
  notify?: boolean;
  /** While the LISTEN connection is down, poll for changes this often (ms). Default 500. */
  pollIntervalMs?: number;
  /**
   * Send static statements as named prepared statements (parsed once per connection). Default true;
   * set false behind a transaction-mode connection pooler.
   */
  preparedStatements?: boolean;
  /** `application_name` of the storage's connections (visible in pg_stat_activity). Default `tradecron`. */
  applicationName?: string;
  /** Where listener reconnects and background failures are logged (pino-compatible). Default silent. */
  logger?: Logger;
}

const poolLike = z.custom<pg.Pool>(
  (v) =>
    typeof v === "object" &&
    v !== null &&
    typeof (v as pg.Pool).connect === "function" &&
    typeof (v as pg.Pool).query === "function",
  "must be a pg Pool",
);

const optionsSchema = z
  .strictObject({
    connectionString: z.string().min(1).optional(),
    pool: poolLike.optional(),
    schema: schemaNameSchema.default("tradecron"),
    tablePrefix: tablePrefixSchema.default(""),
    poolSize: z.number().int().min(1).max(1000).default(10),
    warmConnections: z.number().int().min(0).max(1000).optional(),
    notify: z.boolean().default(true),
    pollIntervalMs: z.number().int().min(10).max(60_000).default(500),
    preparedStatements: z.boolean().default(true),
    applicationName: z.string().min(1).max(63).default("tradecron"),
    logger: z.custom<Logger>((v) => typeof v === "object" && v !== null, "must be a logger").optional(),
  })
  .superRefine((o, ctx) => {
    if ((o.connectionString === undefined) === (o.pool === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [o.pool === undefined ? "connectionString" : "pool"],
        message: "give exactly one of connectionString and pool",
      });
    }
  });

// Our own type parsers, whatever the host did to pg's global ones: int8 (instants, counts) as
// numbers (they stay below 2^53), json/jsonb parsed.
const INT8 = 20;
const JSON_OID = 114;
const JSONB_OID = 3802;
const types = {
  getTypeParser(oid: number, format?: string) {
    if (oid === INT8) return (value: string) => Number(value);
    if (oid === JSON_OID || oid === JSONB_OID) return (value: string) => JSON.parse(value) as unknown;
    return pg.types.getTypeParser(oid, (format ?? "text") as "text");
  },
} as pg.CustomTypesConfig;

/** PostgreSQL value conversions: JSON travels as text parameters and comes back parsed. */
const codec: Codec = {
  encodeJson: (value) => JSON.stringify(value),
  decodeJson: (value) => value,
  encodeBool: (value) => value,
  decodeBool: (value) => (value === true ? true : value === false ? false : (value as boolean)),
};

const UNIQUE_VIOLATION = "23505";

const decodeSchedule = (row: Record<string, unknown>) => decodeRow<ScheduleRecord>(SCHEDULES, row, codec);
const decodeControl = (row: Record<string, unknown>) => decodeRow<ControlRecord>(CONTROL, row, codec);

function isDataError(error: unknown): boolean {
  const code = driverCode(error);
  // Class 22 (data exception) and 23 (integrity constraint violation): the rows, not the connection.
  return code !== null && (code.startsWith("22") || code.startsWith("23"));
}

function fireKey(scheduleId: string, scheduledAt: number): string {
  return `${scheduleId}\u0000${scheduledAt}`;
}

/**
 * The order in which a burst of claims is cut into batches. When many fires come due at once every
 * instance claims all of them; sent in the same order, the instances would race for the same rows
 * batch after batch, each waiting for the other's uncommitted batch. Sorted by fire and rotated to
 * a place that depends on the instance, each instance starts on a different stretch, wins it
 * without waiting, and later finds the rest committed already (a cheap conflict).
 */
function arrangeClaims(claims: ExecutionRecord[]): number[] {
  const order = claims.map((_, i) => i);
  order.sort((a, b) => {
    const x = claims[a] as ExecutionRecord;
    const y = claims[b] as ExecutionRecord;
    return x.scheduleId < y.scheduleId ? -1 : x.scheduleId > y.scheduleId ? 1 : x.scheduledAt - y.scheduledAt;
  });
  const instance = claims[0]?.instanceId ?? "";
  const start =
    Number.parseInt(createHash("sha1").update(instance).digest("hex").slice(0, 8), 16) % order.length;
  return [...order.slice(start), ...order.slice(0, start)];
}

interface UpdateRequest {
  id: string;
  instanceId: string;
  patch: ExecutionPatch;
}

const PATCH_ENTRIES = Object.entries(PATCH_FIELDS);

/**
 * A batch of fenced patches as the column arrays of `updateExecutions` (ids, instances, masks,
 * then one array per patch field): bit i of a row's mask says it sets the i-th field. Only the
 * fields a holder may change are read: a stray `scheduleId` in a patch must not move the fire.
 */
function patchArrays(batch: readonly UpdateRequest[]): string[] {
  const masks = new Array<number>(batch.length);
  const fields = PATCH_ENTRIES.map(() => new Array<unknown>(batch.length));
  for (let r = 0; r < batch.length; r++) {
    const patch = (batch[r] as UpdateRequest).patch as Record<string, unknown>;
    let mask = 0;
    for (let f = 0; f < PATCH_ENTRIES.length; f++) {
      const value = patch[(PATCH_ENTRIES[f] as [string, string])[0]];
      (fields[f] as unknown[])[r] = value ?? null;
      if (value !== undefined) mask |= 1 << f;
    }
    masks[r] = mask;
  }
  return [
    textArray(batch.map((u) => u.id)),
    textArray(batch.map((u) => u.instanceId)),
    numberArray(masks),
    ...PATCH_ENTRIES.map(([, type], f) => {
      const values = fields[f] as unknown[];
      if (type === "jsonb") return textArray(values.map((v) => (v === null ? null : JSON.stringify(v))));
      if (type === "text") return textArray(values as (string | null)[]);
      return numberArray(values as (number | null)[]);
    }),
  ];
}

/**
 * The record a won claim hands back: the caller's own when it is frozen (it cannot change, and
 * it is exactly what was written, as MemoryStorage keeps it), else a deep copy, so the caller
 * never shares an object with what it sent.
 */
function wonRecord(execution: ExecutionRecord, decode: (row: Record<string, unknown>) => ExecutionRecord) {
  return Object.isFrozen(execution) ? execution : decode(sentRow(execution));
}

/** The row a claim wrote, as its own copy (JSON fields too), keyed by column. */
function sentRow(execution: ExecutionRecord): Record<string, unknown> {
  return structuredClone(toColumnObject(EXECUTIONS, execution));
}

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

  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly warm: number = 0;
  private readonly names: PgNames;
  private readonly sql: PostgresStatements;
  private readonly prepared: boolean;
  private readonly pollIntervalMs: number;
  private readonly applicationName: string;
  private readonly logger: Logger;
  private readonly statementNames = new Map<string, string>();
  private opening: Promise<void> | null = null;
  private opened = false;
  private closed = false;
  private listener: PgChangeListener | null = null;
  private stopping: Promise<void> | null = null;
  private readonly watchers = new Set<(change: StorageChange) => void>();
  private readonly lanes: Lanes;
  private readonly inserts: Batcher<ScheduleRecord, boolean>;
  private readonly claims: Batcher<ExecutionRecord, ClaimResult>;
  /** Single claims that want their schedule's state: coalesced into `claimFires` batches. */
  private readonly stateClaims: Batcher<FireClaim, ClaimResult>;
  private readonly updates: Batcher<UpdateRequest, ExecutionRecord | null>;
  private readonly actives: Batcher<string, ExecutionRecord[]>;
  private readonly lastFires: Batcher<string, number | null>;
  private readonly checks: RowChecks;
  private readonly stateChecks: StateRowChecks;

  constructor(options: PostgresStorageOptions) {
    const o = parseOptions(optionsSchema, options, "postgres");
    this.schema = o.schema;
    this.tablePrefix = o.tablePrefix;
    this.names = pgNames(o.schema, o.tablePrefix);
    this.sql = postgresStatements(this.names);
    this.checks = new RowChecks("postgres", {
      schedules: this.names.display("schedules"),
      control: this.names.display("control"),
    });
    // jsonb comes back parsed by the driver's type parser.
    this.stateChecks = new StateRowChecks("postgres", this.names.display("schedule_state"), (raw) => raw);
    this.prepared = o.preparedStatements;
    this.pollIntervalMs = o.pollIntervalMs;
    this.applicationName = o.applicationName;
    this.logger = o.logger ?? silentLogger;
    if (o.pool) {
      this.pool = o.pool;
      this.ownsPool = false;
    } else {
      this.warm = Math.min(o.warmConnections ?? o.poolSize, o.poolSize);
      this.pool = new pg.Pool({
        connectionString: o.connectionString,
        max: o.poolSize,
        // The warm connections never time out; the rest close after pg's default 10 s idle.
        min: this.warm,
        application_name: o.applicationName,
        keepAlive: true,
      });
      this.ownsPool = true;
      // An idle client that loses its connection emits 'error' on the pool; unhandled, that
      // would crash the host. The pool replaces the client on next use.
      this.pool.on("error", (error) => this.logger.warn({ err: error }, "postgres: idle connection lost"));
    }
    // As many queries in flight as the pool has connections; the rest wait in priority lanes.
    this.lanes = new Lanes(this.pool.options.max ?? 10);
    this.inserts = new Batcher((batch) => this.runInserts(batch));
    this.claims = new Batcher((batch) => this.runClaims(batch), 500, arrangeClaims);
    this.stateClaims = new Batcher((batch) => this.runStateClaims(batch));
    this.updates = new Batcher((batch) => this.runUpdates(batch));
    this.actives = new Batcher((batch) => this.runActive(batch));
    this.lastFires = new Batcher((batch) => this.runLastFires(batch));
    this.watch = o.notify ? (listener) => this.addWatcher(listener) : undefined;
  }

  // ------------------------------------------------------------------------------------------
  // plumbing

  private statementName(text: string): string {
    let name = this.statementNames.get(text);
    if (name === undefined) {
      // Named by content: the same text on any connection maps to the same prepared statement,
      // and storages with other schemas or prefixes (other text) never collide on a shared pool.
      name = `tc_${createHash("sha1").update(text).digest("hex").slice(0, 24)}`;
      this.statementNames.set(text, name);
    }
    return name;
  }

  private async query<R extends pg.QueryResultRow = Record<string, unknown>>(
    operation: string,
    table: string,
    text: string,
    values: unknown[] = [],
    lane: Lane = Lane.Normal,
  ): Promise<pg.QueryResult<R>> {
    if (!this.opened) await this.open();
    try {
      return await this.lanes.run(lane, () =>
        this.pool.query<R>({
          text,
          values,
          types,
          ...(this.prepared ? { name: this.statementName(text) } : {}),
        }),
      );
    } catch (error) {
      throw wrapError("postgres", operation, this.names.display(table), error);
    }
  }

  // ------------------------------------------------------------------------------------------
  // lifecycle

  /**
   * Migrates the schema to this version (idempotent; safe when several instances open at once).
   * Throws StorageError `STORAGE_VERSION` if the database was migrated by a newer version, and
   * StorageError `STORAGE` (naming host and cause) if PostgreSQL cannot be reached.
   */
  async open(): Promise<void> {
    if (this.closed) throw new StorageError("STORAGE", "postgres: the storage is closed");
    if (this.opened) return;
    this.opening ??= migratePostgres(this.pool, this.names)
      .then(() => this.warmUp())
      .then(() => {
        this.opened = true;
      });
    try {
      await this.opening;
    } catch (error) {
      this.opening = null;
      throw error;
    }
  }

  /** Opens the warm connections: checked out together, so the pool has to open that many. */
  private async warmUp(): Promise<void> {
    if (this.warm === 0) return;
    const clients: pg.PoolClient[] = [];
    try {
      for (const result of await Promise.allSettled(
        Array.from({ length: this.warm }, () => this.pool.connect()),
      )) {
        if (result.status === "fulfilled") clients.push(result.value);
      }
    } finally {
      for (const client of clients) client.release();
    }
  }

  /** Stops the listener and, when the storage created its pool, ends it. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Let calls batched in this turn go out before the pool goes away.
    await new Promise((resolve) => setImmediate(resolve));
    this.watchers.clear();
    await this.stopListener();
    await this.endPrunePool();
    if (this.ownsPool) await this.pool.end().catch(() => {});
  }

  // ------------------------------------------------------------------------------------------
  // schedules

  async insertSchedule(schedule: ScheduleRecord): Promise<void> {
    if (!this.opened) await this.open();
    const inserted = await this.inserts.submit(schedule);
    if (!inserted) {
      throw new ConflictError("SCHEDULE_EXISTS", `schedule '${schedule.id}' exists already`, {
        field: "id",
        details: { table: this.names.display("schedules") },
      });
    }
  }

  /** Inserts a batch of schedules; true for each one inserted, false for an id that was taken. */
  private async runInserts(batch: ScheduleRecord[]): Promise<(boolean | Error)[]> {
    let res: pg.QueryResult<{ id: string }>;
    try {
      res = await this.query<{ id: string }>("insertSchedule", "schedules", this.sql.insertSchedules, [
        JSON.stringify(batch.map((s) => toColumnObject(SCHEDULES, s))),
      ]);
    } catch (error) {
      // One bad record fails the statement: retry one by one so only its caller gets the error.
      if (batch.length > 1 && isDataError((error as Error).cause)) {
        return Promise.all(batch.map(async (s) => (await this.runInserts([s]))[0] as boolean | Error));
      }
      const e = error instanceof Error ? error : new Error(String(error));
      return batch.map(() => e);
    }
    // Within a batch the first of two equal ids wins, as if the calls had run one by one.
    const fresh = new Set(res.rows.map((r) => r.id));
    return batch.map((s) => fresh.delete(s.id));
  }

  /**
   * See {@link Storage.insertSchedules}: one statement (all or none). On a unique violation one
   * read of the batch's taken ids names the first conflict; a batch that repeats an id is never
   * sent (that read names the first conflict, taken or repeated, in batch order).
   */
  async insertSchedules(schedules: readonly ScheduleRecord[]): Promise<void> {
    if (schedules.length === 0) return;
    const table = this.names.display("schedules");
    const repeats = firstConflictingId(schedules, () => false) !== null;
    const payload = repeats ? "" : JSON.stringify(schedules.map((s) => toColumnObject(SCHEDULES, s)));
    for (let attempt = 0; ; attempt++) {
      if (!repeats) {
        try {
          await this.query("insertSchedules", "schedules", this.sql.insertSchedulesAllOrNone, [payload]);
          return;
        } catch (error) {
          if (driverCode((error as Error).cause) !== UNIQUE_VIOLATION || attempt >= 3) throw error;
        }
      }
      const res = await this.query<{ id: string }>(
        "insertSchedules",
        "schedules",
        this.sql.takenScheduleIds,
        [schedules.map((s) => s.id)],
      );
      const taken = new Set(res.rows.map((r) => r.id));
      const id = firstConflictingId(schedules, (x) => taken.has(x));
      if (id !== null) throw scheduleExistsError(id, { table });
      // The id that was taken has been deleted since: nothing was inserted, so try again.
    }
  }

  async updateSchedule(schedule: ScheduleRecord, expectedRevision: number): Promise<void> {
    const res = await this.query("updateSchedule", "schedules", this.sql.updateSchedule, [
      ...encodeRow(SCHEDULES, schedule, codec),
      expectedRevision,
    ]);
    if (res.rowCount === 1) return;
    const current = await this.query<{ revision: number }>(
      "updateSchedule",
      "schedules",
      this.sql.scheduleRevision,
      [schedule.id],
    );
    const row = current.rows[0];
    if (!row) {
      throw new NotFoundError("SCHEDULE_NOT_FOUND", `schedule '${schedule.id}' not found`, { field: "id" });
    }
    throw new ConflictError(
      "REVISION_CONFLICT",
      `schedule '${schedule.id}' is at revision ${row.revision}, not ${expectedRevision}`,
      { field: "revision", details: { current: row.revision, expected: expectedRevision } },
    );
  }

  /** See {@link Storage.getSchedule}: a row that fails its checks throws `STORAGE_CORRUPT`. */
  async getSchedule(id: string): Promise<ScheduleRecord | null> {
    const res = await this.query("getSchedule", "schedules", this.sql.getSchedule, [id]);
    return this.checks.schedule(id, res.rows[0], decodeSchedule);
  }

  /** See {@link Storage.listSchedules}: rows that fail their checks are left out and listed by `issues()`. */
  async listSchedules(): Promise<ScheduleRecord[]> {
    const res = await this.query("listSchedules", "schedules", this.sql.listSchedules);
    return this.checks.schedules(res.rows, decodeSchedule);
  }

  async deleteSchedule(id: string): Promise<boolean> {
    const res = await this.query("deleteSchedule", "schedules", this.sql.deleteSchedule, [id]);
    this.checks.forget(id);
    this.stateChecks.forget(id);
    return res.rowCount === 1;
  }

  // ------------------------------------------------------------------------------------------
  // control

  /** See {@link Storage.getControl}: a control row that fails its checks, or is gone, throws `STORAGE_CORRUPT`. */
  async getControl(): Promise<ControlRecord> {
    const res = await this.query("getControl", "control", this.sql.getControl);
    return this.checks.control(res.rows[0], decodeControl);
  }

  async setControl(control: ControlRecord): Promise<void> {
    await this.query("setControl", "control", this.sql.setControl, encodeRow(CONTROL, control, codec));
    this.checks.controlReplaced();
  }

  /** See {@link Storage.issues}: schedule and control rows that failed their checks when last read. */
  issues(): StorageIssue[] {
    return [...this.checks.issues(), ...this.stateChecks.issues()];
  }

  // ------------------------------------------------------------------------------------------
  // fires and executions

  async claimFire(claim: FireClaim): Promise<ClaimResult> {
    if (!this.opened) await this.open();
    // Claims that ask for more than the claim go through the batch statement, which answers.
    if (claim.withState === true || claim.withOverlap === true) return this.stateClaims.submit(claim);
    return this.claims.submit(claim.execution);
  }

  /** Single claims with state of one turn, as one `claimFires` (its statement reads the states). */
  private async runStateClaims(batch: FireClaim[]): Promise<(ClaimResult | Error)[]> {
    try {
      return await this.claimFires(batch);
    } catch (error) {
      // One bad row fails the statement: retry one by one so only its caller gets the error.
      return this.claimRoundFailed(
        error,
        batch,
        (c) => c.execution.id,
        (c) => this.runStateClaims([c]),
      );
    }
  }

  /**
   * What each caller of a failed claim round gets: a bad row fails the whole statement, so a
   * batch is retried one by one (only that caller gets the error); a lone claim whose execution id
   * exists is a ConflictError; anything else fails every caller.
   */
  private claimRoundFailed<T>(
    error: unknown,
    batch: readonly T[],
    idOf: (item: T) => string,
    alone: (item: T) => Promise<(ClaimResult | Error)[]>,
  ): Promise<(ClaimResult | Error)[]> | (ClaimResult | Error)[] {
    if (batch.length > 1 && isDataError((error as Error).cause)) {
      return Promise.all(batch.map(async (item) => (await alone(item))[0] as ClaimResult | Error));
    }
    const only = batch[0];
    if (batch.length === 1 && only !== undefined && driverCode((error as Error).cause) === UNIQUE_VIOLATION) {
      return [
        new ConflictError("CONFLICT", `execution '${idOf(only)}' exists already`, {
          field: "id",
          cause: error,
          details: { table: this.names.display("executions") },
        }),
      ];
    }
    const e = error instanceof Error ? error : new Error(String(error));
    return batch.map(() => e);
  }

  private decodeExecution = (row: Record<string, unknown>): ExecutionRecord =>
    decodeRow<ExecutionRecord>(EXECUTIONS, row, codec);

  /**
   * See {@link Storage.claimFires}: one autocommit statement for the batch (`claimFireBatch`:
   * the claims, the states asked for, and the holders committed before it began), plus one read
   * of the holders that committed while it ran, if any. A fire claimed twice in the batch is
   * sent once: the first claim decides, the later ones get its outcome's record.
   */
  async claimFires(claims: readonly FireClaim[]): Promise<ClaimResult[]> {
    if (claims.length === 0) return [];
    if (!this.opened) await this.open();
    const firstOf = new Map<string, number>();
    let repeated: Map<number, number> | null = null;
    const send: FireClaim[] = [];
    const sentAt: number[] = [];
    for (let i = 0; i < claims.length; i++) {
      const { execution } = claims[i] as FireClaim;
      const key = fireKey(execution.scheduleId, execution.scheduledAt);
      const first = firstOf.get(key);
      if (first === undefined) {
        firstOf.set(key, i);
        send.push(claims[i] as FireClaim);
        sentAt.push(i);
      } else {
        repeated ??= new Map();
        repeated.set(i, first);
      }
    }
    const decided = await this.claimBatch(send, 0);
    if (repeated === null) return decided;
    const results = new Array<ClaimResult>(claims.length);
    sentAt.forEach((i, k) => {
      results[i] = decided[k] as ClaimResult;
    });
    for (const [i, first] of repeated) {
      const outcome = results[first] as ClaimResult;
      // A copy: no two results share a record.
      const holder = outcome.claimed ? outcome.execution : outcome.existing;
      results[i] = { claimed: false, existing: structuredClone(holder) };
    }
    return results;
  }

  /** Claims distinct fires; see {@link PostgresStorage.claimFires}. */
  private async claimBatch(claims: readonly FireClaim[], round: number): Promise<ClaimResult[]> {
    const executions = claims.map((c) => c.execution);
    const res = await this.query("claimFires", "executions", this.sql.claimFireBatch, [
      ...columnArrays(EXECUTIONS, executions),
      boolArray(claims.map((c) => c.withState === true)),
      boolArray(claims.map((c) => c.withOverlap === true)),
    ]);
    // Won: the claims' ids, and the state rows by schedule. Lost: the holder's row by fire.
    let won = new Set<string>();
    let states: Record<string, Record<string, unknown>> = {};
    let busy: ReadonlySet<string> = NO_IDS;
    const held = new Map<string, Record<string, unknown>>();
    for (const row of res.rows) {
      if (row.summary === true) {
        won = new Set((row.won_ids as string[] | null) ?? []);
        states = (row.won_states as typeof states | null) ?? {};
        if (row.won_busy) busy = new Set(row.won_busy as string[]);
      } else held.set(fireKey(row.schedule_id as string, row.scheduled_at as number), row);
    }
    // Won claims of one schedule in this batch do not see each other in the statement: every
    // one after the first has the first active beside it.
    const wonBefore = new Set<string>();
    const results = new Array<ClaimResult>(claims.length);
    const unknown: number[] = [];
    claims.forEach((c, i) => {
      const e = c.execution;
      if (won.has(e.id)) {
        const execution = wonRecord(e, this.decodeExecution);
        const result: ClaimResult = { claimed: true, execution };
        if (c.withState === true) result.state = this.claimState(e.scheduleId, states[e.scheduleId]);
        if (c.withOverlap === true) result.othersActive = busy.has(e.id) || wonBefore.has(e.scheduleId);
        wonBefore.add(e.scheduleId);
        results[i] = result;
        return;
      }
      const existing = held.get(fireKey(e.scheduleId, e.scheduledAt));
      if (existing) results[i] = { claimed: false, existing: this.decodeExecution(existing) };
      else unknown.push(i);
    });
    if (unknown.length === 0) return results;
    // Lost to holders that committed while the statement ran (not in its snapshot): one read.
    const found = await this.query("claimFires", "executions", this.sql.findFires, [
      unknown.map((i) => (claims[i] as FireClaim).execution.scheduleId),
      unknown.map((i) => (claims[i] as FireClaim).execution.scheduledAt),
    ]);
    const byFire = new Map(
      found.rows.map((row) => [fireKey(row.schedule_id as string, Number(row.scheduled_at)), row]),
    );
    const again: number[] = [];
    for (const i of unknown) {
      const e = (claims[i] as FireClaim).execution;
      const existing = byFire.get(fireKey(e.scheduleId, e.scheduledAt));
      if (existing) results[i] = { claimed: false, existing: this.decodeExecution(existing) };
      else again.push(i); // the holder released it between our statement and this read: claim again
    }
    if (again.length === 0) return results;
    if (round >= 5) {
      throw new StorageError("STORAGE", "postgres: claimFires kept racing with releases; giving up", {
        details: { table: this.names.display("executions") },
      });
    }
    const retried = await this.claimBatch(
      again.map((i) => claims[i] as FireClaim),
      round + 1,
    );
    again.forEach((i, k) => {
      results[i] = retried[k] as ClaimResult;
    });
    return results;
  }

  /** See {@link Storage.fireHolders}: one read for the batch (`fireHolders` in statements.ts). */
  async fireHolders(fires: readonly FireRef[]): Promise<(string | null)[]> {
    if (fires.length === 0) return [];
    if (!this.opened) await this.open();
    const res = await this.query<{ i: string; instance_id: string }>(
      "fireHolders",
      "executions",
      this.sql.fireHolders,
      [fires.map((f) => f.scheduleId), fires.map((f) => f.scheduledAt)],
    );
    const holders = new Array<string | null>(fires.length).fill(null);
    for (const row of res.rows) holders[Number(row.i) - 1] = row.instance_id;
    return holders;
  }

  /** A won claim's state (its `schedule_state` row as jsonb, or none): undefined for one failing its checks. */
  private claimState(
    scheduleId: string,
    row: Record<string, unknown> | undefined,
  ): ScheduleStateRecord | null | undefined {
    try {
      return this.stateChecks.check(scheduleId, row);
    } catch (error) {
      // The claim stands; the scheduler's own getScheduleState reports the row.
      if (isCorruptRecord(error)) return undefined;
      throw error;
    }
  }

  // ------------------------------------------------------------------------------------------
  // cluster membership

  /** See {@link Storage.heartbeat}: one statement (see `heartbeat` in statements.ts). */
  async heartbeat(instanceId: string, now: number, expiresAt: number): Promise<string[]> {
    checkHeartbeat(instanceId, now, expiresAt);
    const res = await this.query<{ instance_id: string }>(
      "heartbeat",
      "instances",
      this.sql.heartbeat,
      [instanceId, now, expiresAt],
      Lane.Urgent,
    );
    return res.rows.map((r) => r.instance_id);
  }

  /** Claims a batch of fires in one statement; see `claimFires` in statements.ts. */
  private async runClaims(batch: ExecutionRecord[], round = 0): Promise<(ClaimResult | Error)[]> {
    let won: Set<string>;
    try {
      const res = await this.query<{ id: string }>(
        "claimFire",
        "executions",
        this.sql.claimFires,
        columnArrays(EXECUTIONS, batch),
      );
      won = new Set(res.rows.map((r) => r.id));
    } catch (error) {
      // A bad row (a duplicate execution id, a NULL where none may be) fails the whole
      // statement: retry one by one so only that caller gets the error.
      return this.claimRoundFailed(
        error,
        batch,
        (e) => e.id,
        (e) => this.runClaims([e], round),
      );
    }
    // Raw rows by fire; every caller decodes its own copy, so no two callers share a record.
    const byFire = new Map<string, Record<string, unknown>>();
    const results: (ClaimResult | Error | undefined)[] = batch.map((e) => {
      if (!won.has(e.id)) return undefined;
      won.delete(e.id); // an id sent twice wins once
      // A racer in this batch that lost to it decodes the winner's row as sent.
      byFire.set(fireKey(e.scheduleId, e.scheduledAt), sentRow(e));
      return { claimed: true, execution: wonRecord(e, this.decodeExecution) };
    });
    // The rest lost: to a racer in this batch (its row is in `byFire`) or to another caller.
    const unknown = batch.filter(
      (e, i) => results[i] === undefined && !byFire.has(fireKey(e.scheduleId, e.scheduledAt)),
    );
    if (unknown.length > 0) {
      try {
        const res = await this.query("claimFire", "executions", this.sql.findFires, [
          unknown.map((e) => e.scheduleId),
          unknown.map((e) => e.scheduledAt),
        ]);
        for (const row of res.rows)
          byFire.set(fireKey(row.schedule_id as string, Number(row.scheduled_at)), row);
      } catch (error) {
        const e = error instanceof Error ? error : new Error(String(error));
        return batch.map((_, i) => results[i] ?? e);
      }
    }
    const again: number[] = [];
    batch.forEach((e, i) => {
      if (results[i] !== undefined) return;
      const existing = byFire.get(fireKey(e.scheduleId, e.scheduledAt));
      if (existing) results[i] = { claimed: false, existing: this.decodeExecution(existing) };
      else again.push(i); // the holder released it between our insert and our read: try again
    });
    if (again.length > 0) {
      if (round >= 5) {
        const e = new StorageError("STORAGE", "postgres: claimFire kept racing with releases; giving up", {
          details: { table: this.names.display("executions") },
        });
        for (const i of again) results[i] = e;
      } else {
        const retried = await this.runClaims(
          again.map((i) => batch[i] as ExecutionRecord),
          round + 1,
        );
        again.forEach((i, j) => {
          results[i] = retried[j];
        });
      }
    }
    return results as (ClaimResult | Error)[];
  }

  async updateExecution(
    id: string,
    instanceId: string,
    patch: ExecutionPatch,
    state?: StateCommit,
  ): Promise<ExecutionRecord | null> {
    if (!this.opened) await this.open();
    if (state === undefined) return this.updates.submit({ id, instanceId, patch });
    // Not batched: its own statement writes the outcome and the state together, or neither.
    const res = await this.query(
      "updateExecution",
      "schedule_state",
      this.sql.updateExecutionWithState,
      [
        ...patchArrays([{ id, instanceId, patch }]),
        id,
        instanceId,
        JSON.stringify(state.value),
        state.expectedRevision,
        state.at,
      ],
      Lane.Background,
    );
    const { state_held: held, ...row } = res.rows[0] as Record<string, unknown>;
    if (row.id !== null && row.id !== undefined) return this.decodeExecution(row);
    if (held === 0) return null;
    const execution = await this.getExecution(id);
    throw stateConflict(execution?.scheduleId ?? "?", state.expectedRevision);
  }

  /** See {@link Storage.getScheduleState}: a row failing its checks throws `STORAGE_CORRUPT`. */
  async getScheduleState(scheduleId: string): Promise<ScheduleStateRecord | null> {
    const res = await this.query("getScheduleState", "schedule_state", this.sql.getScheduleState, [
      scheduleId,
    ]);
    return this.stateChecks.check(scheduleId, res.rows[0]);
  }

  /**
   * Applies the fenced patches of one turn (the coalesced `updateExecution` calls without a
   * state) as one statement per round; an id seen twice waits for the next round, so two
   * patches of one execution apply in call order. Each caller gets its own updated record, or
   * null when its instance no longer holds the execution. A statement that fails rejects every
   * caller in it, except a data error (one patch PostgreSQL cannot store, e.g. a result with a
   * NUL character): then each patch of the round is retried alone, so only its caller fails and
   * the others' outcomes are not lost.
   */
  private async runUpdates(batch: UpdateRequest[]): Promise<(ExecutionRecord | null | Error)[]> {
    const results: (ExecutionRecord | null | Error)[] = new Array(batch.length).fill(null);
    let todo = batch.map((_, i) => i);
    while (todo.length > 0) {
      const seen = new Set<string>();
      const round: number[] = [];
      const later: number[] = [];
      for (const i of todo) {
        const id = (batch[i] as UpdateRequest).id;
        if (seen.has(id)) later.push(i);
        else {
          seen.add(id);
          round.push(i);
        }
      }
      const outcomes = await this.updateRound(round.map((i) => batch[i] as UpdateRequest));
      round.forEach((i, k) => {
        results[i] = outcomes[k] as ExecutionRecord | null | Error;
      });
      todo = later;
    }
    return results;
  }

  /** One `updateExecutions` statement for patches of distinct executions; see {@link runUpdates}. */
  private async updateRound(round: UpdateRequest[]): Promise<(ExecutionRecord | null | Error)[]> {
    try {
      const res = await this.query(
        "updateExecution",
        "executions",
        this.sql.updateExecutions,
        patchArrays(round),
        Lane.Background,
      );
      const byId = new Map(res.rows.map((row) => [row.id as string, row]));
      return round.map((u) => {
        const row = byId.get(u.id);
        return row === undefined ? null : this.decodeExecution(row);
      });
    } catch (error) {
      if (round.length > 1 && isDataError((error as Error).cause)) {
        return Promise.all(
          round.map(async (u) => (await this.updateRound([u]))[0] as ExecutionRecord | null | Error),
        );
      }
      const e = error instanceof Error ? error : new Error(String(error));
      return round.map(() => e);
    }
  }

  async renewLeases(instanceId: string, ids: string[], leaseExpiresAt: number): Promise<string[]> {
    if (ids.length === 0) return [];
    const res = await this.query<{ id: string }>(
      "renewLeases",
      "executions",
      this.sql.renewLeases,
      [instanceId, ids, leaseExpiresAt],
      Lane.Urgent,
    );
    const held = new Set(res.rows.map((r) => r.id));
    return ids.filter((id) => held.has(id));
  }

  async cancelExecution(id: string, reason: string, endedAt: number): Promise<ExecutionRecord | null> {
    const res = await this.query(
      "cancelExecution",
      "executions",
      this.sql.cancelExecution,
      [id, reason, endedAt],
      Lane.Urgent,
    );
    const row = res.rows[0];
    return row ? this.decodeExecution(row) : null;
  }

  async activeExecutions(scheduleId: string): Promise<ExecutionRecord[]> {
    if (!this.opened) await this.open();
    return this.actives.submit(scheduleId);
  }

  private async runActive(batch: string[]): Promise<ExecutionRecord[][]> {
    const res = await this.query(
      "activeExecutions",
      "executions",
      this.sql.activeExecutions,
      [[...new Set(batch)]],
      Lane.Urgent,
    );
    const bySchedule = new Map<string, Record<string, unknown>[]>();
    for (const row of res.rows) {
      const id = row.schedule_id as string;
      const list = bySchedule.get(id);
      if (list) list.push(row);
      else bySchedule.set(id, [row]);
    }
    // Decoded per caller, so two callers asking for one schedule never share record objects.
    return batch.map((id) => (bySchedule.get(id) ?? []).map(this.decodeExecution));
  }

  async releaseClaim(id: string, instanceId: string): Promise<boolean> {
    const res = await this.query("releaseClaim", "executions", this.sql.releaseClaim, [id, instanceId]);
    return res.rowCount === 1;
  }

  async takeOverExpired(
    instanceId: string,
    now: number,
    leaseExpiresAt: number,
    limit: number,
    jobs?: readonly string[],
  ): Promise<ExecutionRecord[]> {
    if (limit <= 0) return [];
    const res = await this.query(
      "takeOverExpired",
      "executions",
      this.sql.takeOverExpired,
      [instanceId, now, leaseExpiresAt, limit, jobs === undefined ? null : [...jobs]],
      Lane.Urgent,
    );
    return res.rows.map(this.decodeExecution);
  }

  async getExecution(id: string): Promise<ExecutionRecord | null> {
    const res = await this.query("getExecution", "executions", this.sql.getExecution, [id]);
    const row = res.rows[0];
    return row ? this.decodeExecution(row) : null;
  }

  async findExecution(scheduleId: string, scheduledAt: number): Promise<ExecutionRecord | null> {
    const res = await this.query("findExecution", "executions", this.sql.findExecution, [
      scheduleId,
      scheduledAt,
    ]);
    const row = res.rows[0];
    return row ? this.decodeExecution(row) : null;
  }

  async listExecutions(query: ExecutionQuery): Promise<Page<ExecutionRecord>> {
    const limit = checkLimit(query.limit);
    const statement = listExecutionsSql(this.names, query, limit);
    const res = await this.query("listExecutions", "executions", statement.text, statement.values);
    return toPage(
      res.rows.map(this.decodeExecution),
      limit,
      (e) => e.scheduledAt,
      (e) => e.id,
    );
  }

  async lastFireAt(scheduleId: string): Promise<number | null> {
    if (!this.opened) await this.open();
    return this.lastFires.submit(scheduleId);
  }

  async scheduleSummaries(scheduleIds: readonly string[]): Promise<ScheduleSummary[]> {
    if (scheduleIds.length === 0) return [];
    const res = await this.query("scheduleSummaries", "executions", this.sql.scheduleSummaries, [
      [...scheduleIds],
    ]);
    return res.rows.map(summaryOf);
  }

  /** The last own fire of a batch of schedules (a scheduler starting with many schedules asks for all). */
  private async runLastFires(batch: string[]): Promise<(number | null)[]> {
    const res = await this.query<{ schedule_id: string; scheduled_at: number | null }>(
      "lastFireAt",
      "executions",
      this.sql.lastFireAt,
      [[...new Set(batch)]],
    );
    const last = new Map(res.rows.map((r) => [r.schedule_id, r.scheduled_at]));
    return batch.map((id) => last.get(id) ?? null);
  }

  // ------------------------------------------------------------------------------------------
  // approvals

  async insertApprovals(approvals: ApprovalRecord[]): Promise<void> {
    if (approvals.length === 0) return;
    try {
      await this.query("insertApprovals", "approvals", this.sql.insertApprovals, [
        JSON.stringify(approvals.map((a) => toColumnObject(APPROVALS, a))),
      ]);
    } catch (error) {
      if (driverCode((error as Error).cause) === UNIQUE_VIOLATION) {
        throw new ConflictError("CONFLICT", "an approval with one of these ids exists already", {
          field: "id",
          cause: error,
          details: { table: this.names.display("approvals") },
        });
      }
      throw error;
    }
  }

  async getApproval(id: string): Promise<ApprovalRecord | null> {
    const res = await this.query("getApproval", "approvals", this.sql.getApproval, [id]);
    const row = res.rows[0];
    return row ? decodeApproval(row, codec, "postgres") : null;
  }

  async listApprovals(query: ApprovalQuery): Promise<Page<ApprovalRecord>> {
    const limit = checkLimit(query.limit);
    const statement = listApprovalsSql(this.names, query, limit);
    const res = await this.query("listApprovals", "approvals", statement.text, statement.values);
    return toPage(
      res.rows.map((row) => decodeApproval(row, codec, "postgres")),
      limit,
      (a) => a.createdAt,
      (a) => a.id,
    );
  }

  async countApprovals(status: ApprovalStatus): Promise<number> {
    const res = await this.query<{ n: number }>("countApprovals", "approvals", this.sql.countApprovals, [
      status,
    ]);
    return Number(res.rows[0]?.n ?? 0);
  }

  async transitionApproval(
    id: string,
    from: ApprovalStatus,
    patch: Partial<Omit<ApprovalRecord, "id">>,
  ): Promise<ApprovalRecord | null> {
    const { columns: set, values } = encodePatch(APPROVALS, patch, codec, ["id"]);
    // An empty patch still compares: `status = status` changes nothing.
    const text = transitionApprovalSql(this.names, set.length ? set : ["status"]);
    const res = await this.query("transitionApproval", "approvals", text, [
      id,
      from,
      ...(set.length ? values : [from]),
    ]);
    const row = res.rows[0];
    return row ? decodeApproval(row, codec, "postgres") : null;
  }

  async transitionApprovalGroup(
    groupId: string,
    from: ApprovalStatus,
    patch: Partial<Omit<ApprovalRecord, "id" | "groupId">>,
  ): Promise<ApprovalRecord[] | null> {
    const { columns: set, values } = encodePatch(APPROVALS, patch, codec, ["id", "groupId"]);
    const text = transitionApprovalGroupSql(this.names, set.length ? set : ["status"]);
    const res = await this.query("transitionApprovalGroup", "approvals", text, [
      groupId,
      from,
      ...(set.length ? values : [from]),
    ]);
    if (res.rows.length === 0) return null;
    return res.rows
      .map((row) => decodeApproval(row, codec, "postgres"))
      .sort((a, b) => a.intentIndex - b.intentIndex);
  }

  async listExpiredApprovals(now: number, limit: number): Promise<ApprovalRecord[]> {
    const res = await this.query("listExpiredApprovals", "approvals", this.sql.listExpiredApprovals, [
      now,
      limit,
    ]);
    return res.rows.map((row) => decodeApproval(row, codec, "postgres"));
  }

  // ------------------------------------------------------------------------------------------
  // orders

  async upsertOrder(order: OrderRecord): Promise<void> {
    await this.query("upsertOrder", "orders", this.sql.upsertOrder, encodeRow(ORDERS, order, codec));
  }

  async getOrder(clientOrderId: string): Promise<OrderRecord | null> {
    const res = await this.query("getOrder", "orders", this.sql.getOrder, [clientOrderId]);
    const row = res.rows[0];
    return row ? decodeRow<OrderRecord>(ORDERS, row, codec) : null;
  }

  async listOrders(query: OrderQuery): Promise<Page<OrderRecord>> {
    const limit = checkLimit(query.limit);
    const statement = listOrdersSql(this.names, query, limit);
    const res = await this.query("listOrders", "orders", statement.text, statement.values);
    return toPage(
      res.rows.map((row) => decodeRow<OrderRecord>(ORDERS, row, codec)),
      limit,
      (o) => o.submittedAt,
      (o) => o.clientOrderId,
    );
  }

  // ------------------------------------------------------------------------------------------
  // audit

  async appendAudit(entry: Omit<AuditEntry, "seq">): Promise<AuditEntry> {
    const res = await this.query(
      "appendAudit",
      "audit",
      this.sql.appendAudit,
      encodeRow(AUDIT, entry, codec, "seq"),
    );
    return decodeRow<AuditEntry>(AUDIT, res.rows[0] as Record<string, unknown>, codec);
  }

  // ------------------------------------------------------------------------------------------
  // retention (rules: core's prune.ts; each call is one bounded DELETE on the prune connection)

  private prunes: ReturnType<typeof postgresPruneStatements> | null = null;

  private get pruneSql(): ReturnType<typeof postgresPruneStatements> {
    this.prunes ??= postgresPruneStatements(this.names, {
      executions: PRUNABLE_EXECUTION_STATUSES,
      approvals: PRUNABLE_APPROVAL_STATUSES,
      orders: PRUNABLE_ORDER_STATUSES,
    });
    return this.prunes;
  }

  /**
   * Where the pass pruning a schedule's executions is: the latest scheduled_at its last batch
   * deleted, so the next batch starts there instead of stepping over the dead index entries of
   * every row deleted before it (see the statement). Reused like core's PruneQueue: for the same
   * keepLast and a `before` at least as late (rows behind the cursor that were kept then are kept
   * now: protected, active or another instance's); dropped when a batch comes back short (the
   * pass is over, the next starts from the oldest again).
   */
  private readonly pruneCursors = new Map<
    string,
    { keepLast: number | undefined; before: number | undefined; after: number }
  >();

  async pruneExecutions(prune: ExecutionPrune): Promise<number> {
    checkPrune(prune);
    const cursor = this.pruneCursors.get(prune.scheduleId);
    const reusable =
      cursor !== undefined &&
      cursor.keepLast === prune.keepLast &&
      (cursor.before === undefined
        ? prune.before === undefined
        : prune.before === undefined || prune.before >= cursor.before);
    const res = await this.pruneQuery<{ n: number; last: string | number | null }>(
      "pruneExecutions",
      "executions",
      this.pruneSql.pruneExecutions,
      [
        prune.scheduleId,
        prune.before ?? null,
        prune.keepLast ? prune.keepLast : null,
        prune.limit,
        reusable ? cursor.after : null,
      ],
    );
    const row = res.rows[0];
    const n = row ? Number(row.n) : 0;
    if (n < prune.limit || row?.last === null || row?.last === undefined)
      this.pruneCursors.delete(prune.scheduleId);
    else
      this.pruneCursors.set(prune.scheduleId, {
        keepLast: prune.keepLast,
        before: prune.before,
        after: Number(row.last),
      });
    return n;
  }

  /**
   * Runs a prune statement on the storage's prune connection: a pool of its own (one connection,
   * closed after 10 s idle) when the storage owns its pool, so a DELETE never takes a connection
   * a claim is waiting for; on a pool the host passed, the background lane of that pool.
   */
  private async pruneQuery<R extends pg.QueryResultRow = Record<string, unknown>>(
    operation: string,
    table: string,
    text: string,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    if (!this.ownsPool) return this.query<R>(operation, table, text, values, Lane.Background);
    if (!this.opened) await this.open();
    if (this.closed)
      throw wrapError("postgres", operation, this.names.display(table), new Error("storage is closed"));
    this.prunePool ??= this.makePrunePool();
    try {
      return await this.prunePool.query<R>({
        text,
        values,
        types,
        ...(this.prepared ? { name: this.statementName(text) } : {}),
      });
    } catch (error) {
      throw wrapError("postgres", operation, this.names.display(table), error);
    }
  }

  private prunePool: pg.Pool | null = null;

  private makePrunePool(): pg.Pool {
    const o = this.pool.options;
    const pool = new pg.Pool({
      ...(o.connectionString !== undefined && { connectionString: o.connectionString }),
      max: 1,
      application_name: `${this.applicationName}-prune`.slice(0, 63),
      keepAlive: true,
    });
    pool.on("error", (error) => this.logger.warn({ err: error }, "postgres: idle prune connection lost"));
    return pool;
  }

  /** Ends the prune connection (close()). */
  private async endPrunePool(): Promise<void> {
    const pool = this.prunePool;
    this.prunePool = null;
    await pool?.end().catch(() => {});
  }

  async executionScheduleIds(after: string | null, limit: number): Promise<string[]> {
    const res = await this.query<{ id: string }>(
      "executionScheduleIds",
      "executions",
      this.pruneSql.executionScheduleIds,
      [after, checkLimit(limit)],
      Lane.Background,
    );
    return res.rows.map((r) => r.id);
  }

  async pruneApprovals(prune: RecordPrune): Promise<number> {
    checkPrune(prune);
    const res = await this.pruneQuery("pruneApprovals", "approvals", this.pruneSql.pruneApprovals, [
      prune.before,
      prune.limit,
    ]);
    return res.rowCount ?? 0;
  }

  async pruneOrders(prune: RecordPrune): Promise<number> {
    checkPrune(prune);
    const res = await this.pruneQuery("pruneOrders", "orders", this.pruneSql.pruneOrders, [
      prune.before,
      prune.limit,
    ]);
    return res.rowCount ?? 0;
  }

  async pruneAudit(prune: RecordPrune): Promise<number> {
    checkPrune(prune);
    const res = await this.pruneQuery("pruneAudit", "audit", this.pruneSql.pruneAudit, [
      prune.before,
      prune.limit,
    ]);
    return res.rowCount ?? 0;
  }

  async listAudit(query: AuditQuery): Promise<Page<AuditEntry>> {
    const limit = checkLimit(query.limit);
    const statement = listAuditSql(this.names, query, limit);
    const res = await this.query("listAudit", "audit", statement.text, statement.values);
    return toPage(
      res.rows.map((row) => decodeRow<AuditEntry>(AUDIT, row, codec)),
      limit,
      (e) => e.seq,
      (e) => String(e.seq).padStart(16, "0"),
    );
  }

  // ------------------------------------------------------------------------------------------
  // change notification

  private addWatcher(listener: (change: StorageChange) => void): () => void {
    if (this.closed) return () => {};
    this.watchers.add(listener);
    if (!this.listener) {
      this.listener = new PgChangeListener({
        createClient: () => this.createListenClient(),
        channel: this.names.channel,
        snapshot: () => this.snapshot(),
        onChange: (change) => this.dispatch(change),
        onError: (error) =>
          this.logger.warn(
            { err: error },
            `postgres: change listener on ${this.names.channel}: ${error.message}`,
          ),
        pollIntervalMs: this.pollIntervalMs,
      });
      this.listener.start();
    }
    return () => {
      this.watchers.delete(listener);
      if (this.watchers.size === 0) void this.stopListener();
    };
  }

  private createListenClient(): pg.Client {
    const base = this.ownsPool ? {} : { ...this.pool.options };
    return new pg.Client({
      ...base,
      ...(this.ownsPool ? { connectionString: this.pool.options.connectionString } : {}),
      application_name: `${this.applicationName}:listen`,
      keepAlive: true,
    });
  }

  private dispatch(change: StorageChange): void {
    for (const watcher of [...this.watchers]) {
      try {
        watcher({ ...change });
      } catch (error) {
        this.logger.error({ err: error }, "postgres: a storage watcher threw");
      }
    }
  }

  private async snapshot(): Promise<ChangeSnapshot> {
    const [control, schedules, pending] = await Promise.all([
      this.query<{ revision: number }>("watch", "control", this.sql.getControl),
      this.query<{ id: string; revision: number }>("watch", "schedules", this.sql.scheduleRevisions),
      this.query<{ id: string }>("watch", "approvals", this.sql.pendingApprovals),
    ]);
    return {
      control: control.rows[0]?.revision ?? 0,
      schedules: new Map(schedules.rows.map((r) => [r.id, r.revision])),
      pendingApprovals: new Set(pending.rows.map((r) => r.id)),
    };
  }

  private stopListener(): Promise<void> {
    const listener = this.listener;
    if (!listener) return this.stopping ?? Promise.resolve();
    this.listener = null;
    this.stopping = listener.stop().finally(() => {
      this.stopping = null;
    });
    return this.stopping;
  }

  /** True while the LISTEN connection is up (false before the first `watch` and while reconnecting). */
  get listening(): boolean {
    return this.listener?.connected ?? false;
  }
}

const NO_IDS: ReadonlySet<string> = new Set();
