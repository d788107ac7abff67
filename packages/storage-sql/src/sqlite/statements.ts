/**
 * Every SQL statement SqliteStorage runs, by name. Static statements are prepared once per
 * connection; the list statements (optional filters) and the fenced execution update (patches of
 * any shape) are composed by the builders below from fixed fragments. The table prefix is the only
 * identifier spliced in; it is validated (see `shared/options.ts`) and quoted.
 */

import {
  APPROVALS,
  AUDIT,
  CONTROL,
  EXECUTIONS,
  EXTRA_COLUMN,
  ORDERS,
  SCHEDULES,
  type TableShape,
} from "../shared/rows.js";
import { type KeysetOrder, keysetSelect, question, Where } from "../shared/where.js";

/** The quoted table names of one prefix. */
export interface SqliteNames {
  prefix: string;
  schedules: string;
  control: string;
  executions: string;
  approvals: string;
  orders: string;
  audit: string;
  changes: string;
  migrations: string;
  /** Per-schedule state committed with a run's outcome (schema version 3). */
  scheduleState: string;
  /** Scheduler instances alive on this file, by heartbeat (schema version 5). */
  instances: string;
  /** Quoted name of an index or trigger (`<prefix><name>`). */
  index(name: string): string;
  /** Display name of a table for error messages. */
  display(table: string): string;
}

/** Derives every name from a validated prefix. */
export function sqliteNames(prefix: string): SqliteNames {
  const q = (name: string) => `"${prefix}${name}"`;
  return {
    prefix,
    schedules: q("schedules"),
    control: q("control"),
    executions: q("executions"),
    approvals: q("approvals"),
    orders: q("orders"),
    audit: q("audit"),
    changes: q("changes"),
    migrations: q("migrations"),
    scheduleState: q("schedule_state"),
    instances: q("instances"),
    index: q,
    display: (name) => `${prefix}${name}`,
  };
}

function columnList(shape: TableShape, skip?: string): string {
  return [...shape.columns.filter((c) => c.field !== skip).map((c) => c.column), EXTRA_COLUMN].join(", ");
}

function marks(count: number): string {
  return Array.from({ length: count }, () => "?").join(", ");
}

/** The condition of an execution that is still held (claimed or running). */
export const ACTIVE = "status IN ('claimed', 'running')";

/** Builds the static statements of one prefix. */
export function sqliteStatements(n: SqliteNames) {
  const scheduleSet = [
    ...SCHEDULES.columns.filter((c) => c.field !== "id").map((c) => c.column),
    EXTRA_COLUMN,
  ]
    .map((c) => `${c} = ?`)
    .join(", ");
  const controlUpsert = [...CONTROL.columns.map((c) => c.column), EXTRA_COLUMN]
    .map((c) => `${c} = excluded.${c}`)
    .join(", ");
  const orderUpdate = [
    ...ORDERS.columns.filter((c) => c.field !== "clientOrderId").map((c) => c.column),
    EXTRA_COLUMN,
  ]
    .map((c) => `${c} = excluded.${c}`)
    .join(", ");
  return {
    // --- schedules ----------------------------------------------------------------------------
    insertSchedule: `INSERT INTO ${n.schedules} (${columnList(SCHEDULES)}) VALUES (${marks(SCHEDULES.columns.length + 1)})`,
    /** Parameters: every column but id, extra, then id and the expected revision. */
    updateSchedule: `UPDATE ${n.schedules} SET ${scheduleSet} WHERE id = ? AND revision = ?`,
    scheduleRevision: `SELECT revision FROM ${n.schedules} WHERE id = ?`,
    getSchedule: `SELECT * FROM ${n.schedules} WHERE id = ?`,
    listSchedules: `SELECT * FROM ${n.schedules} ORDER BY id`,
    deleteSchedule: `DELETE FROM ${n.schedules} WHERE id = ?`,
    scheduleIds: `SELECT id FROM ${n.schedules}`,

    // --- schedule state -----------------------------------------------------------------------
    getScheduleState: `SELECT * FROM ${n.scheduleState} WHERE schedule_id = ?`,
    /** Whether the schedule still exists: the state of a deleted schedule is not written. */
    scheduleExists: `SELECT 1 AS found FROM ${n.schedules} WHERE id = ?`,
    /** The first commit: no row changed means another commit came first (a conflict). */
    insertScheduleState: `INSERT INTO ${n.scheduleState} (schedule_id, value, revision, execution_id, updated_at)
      VALUES (?, ?, 1, ?, ?) ON CONFLICT (schedule_id) DO NOTHING`,
    /**
     * A later commit, compare-and-set on the revision the run read. Parameters: value, execution,
     * at, schedule, expected revision. No row changed: a conflict.
     */
    updateScheduleState: `UPDATE ${n.scheduleState}
      SET value = ?, revision = revision + 1, execution_id = ?, updated_at = ?
      WHERE schedule_id = ? AND revision = ?`,

    // --- control ------------------------------------------------------------------------------
    getControl: `SELECT * FROM ${n.control} WHERE id = 1`,
    /** An upsert: a control row deleted by hand is written again, not silently skipped. */
    setControl: `INSERT INTO ${n.control} (id, ${[...CONTROL.columns.map((c) => c.column), EXTRA_COLUMN].join(", ")})
      VALUES (1, ${marks(CONTROL.columns.length + 1)}) ON CONFLICT (id) DO UPDATE SET ${controlUpsert}`,

    // --- fires and executions -----------------------------------------------------------------
    /**
     * Claims one fire: the unique index on (schedule_id, scheduled_at) decides. One row changed:
     * this caller won (the row is exactly what it sent, so it is not read back: RETURNING would
     * triple the cost of the insert); none: the fire was taken.
     */
    claimFire: `INSERT INTO ${n.executions} (${columnList(EXECUTIONS)}) VALUES (${marks(EXECUTIONS.columns.length + 1)})
      ON CONFLICT (schedule_id, scheduled_at) DO NOTHING`,
    /** Parameters: instance, new lease expiry, ids as a JSON array. */
    renewLeases: `UPDATE ${n.executions} SET lease_expires_at = ?
      WHERE instance_id = ? AND ${ACTIVE} AND id IN (SELECT value FROM json_each(?)) RETURNING id`,
    cancelExecution: `UPDATE ${n.executions}
      SET status = 'cancelled', reason = ?, ended_at = ?, lease_expires_at = NULL
      WHERE id = ? AND ${ACTIVE} RETURNING *`,
    /**
     * Served by the small partial index. Not ordered here: an ORDER BY makes SQLite pick the
     * schedule's whole history in the fire-key index (or a sorter), ten times slower than sorting
     * the handful of rows in JavaScript.
     */
    activeExecutions: `SELECT * FROM ${n.executions} WHERE schedule_id = ? AND ${ACTIVE}`,
    /** Whether the schedule has an active execution but ? (FireClaim.withOverlap; the partial index). */
    othersActive: `SELECT 1 FROM ${n.executions} WHERE schedule_id = ? AND ${ACTIVE} AND id != ? LIMIT 1`,
    releaseClaim: `DELETE FROM ${n.executions} WHERE id = ? AND instance_id = ? AND status = 'claimed'`,
    /**
     * Takes over expired leases. Run inside BEGIN IMMEDIATE: SQLite has one writer at a time, so
     * the pick and the update are atomic across connections and processes.
     * Named parameters: instance, lease, now, jobs (JSON array, or NULL for all), limit.
     */
    takeOverExpired: `UPDATE ${n.executions}
      SET instance_id = @instance, lease_expires_at = @lease, status = 'running', attempts = attempts + 1
      WHERE id IN (
        SELECT id FROM ${n.executions}
        WHERE ${ACTIVE} AND lease_expires_at < @now
          AND (@jobs IS NULL OR job IN (SELECT value FROM json_each(@jobs)))
        ORDER BY lease_expires_at LIMIT @limit)
      RETURNING *`,
    getExecution: `SELECT * FROM ${n.executions} WHERE id = ?`,
    findExecution: `SELECT * FROM ${n.executions} WHERE schedule_id = ? AND scheduled_at = ?`,
    /** Storage.fireHolders, one fire at a time (a unique-index lookup each). */
    fireHolder: `SELECT instance_id FROM ${n.executions} WHERE schedule_id = ? AND scheduled_at = ?`,
    lastFireAt: `SELECT scheduled_at FROM ${n.executions}
      WHERE schedule_id = ? AND kind IN ('scheduled', 'catchup') ORDER BY scheduled_at DESC LIMIT 1`,
    /**
     * Storage.scheduleSummaries for a JSON array of ids, in their order: each value is the latest
     * matching row by scheduled_at, found walking the (schedule_id, scheduled_at) index backwards.
     */
    scheduleSummaries: `SELECT s.value AS schedule_id,
      (SELECT scheduled_at FROM ${n.executions} WHERE schedule_id = s.value AND kind IN ('scheduled', 'catchup')
        ORDER BY scheduled_at DESC LIMIT 1) AS last_fire_at,
      (SELECT started_at FROM ${n.executions} WHERE schedule_id = s.value AND started_at IS NOT NULL
        ORDER BY scheduled_at DESC LIMIT 1) AS last_start_at,
      (SELECT ended_at FROM ${n.executions} WHERE schedule_id = s.value AND started_at IS NOT NULL AND NOT ${ACTIVE}
        ORDER BY scheduled_at DESC LIMIT 1) AS last_end_at,
      (SELECT status FROM ${n.executions} WHERE schedule_id = s.value AND started_at IS NOT NULL AND NOT ${ACTIVE}
        ORDER BY scheduled_at DESC LIMIT 1) AS last_status,
      (SELECT ended_at FROM ${n.executions} WHERE schedule_id = s.value AND status = 'succeeded' AND started_at IS NOT NULL
        ORDER BY scheduled_at DESC LIMIT 1) AS last_success_at
      FROM json_each(?) AS s ORDER BY s.key`,

    // --- approvals ----------------------------------------------------------------------------
    insertApproval: `INSERT INTO ${n.approvals} (${columnList(APPROVALS)}) VALUES (${marks(APPROVALS.columns.length + 1)})`,
    getApproval: `SELECT * FROM ${n.approvals} WHERE id = ?`,
    countApprovals: `SELECT count(*) AS n FROM ${n.approvals} WHERE status = ?`,
    listExpiredApprovals: `SELECT * FROM ${n.approvals}
      WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at, id LIMIT ?`,

    // --- orders -------------------------------------------------------------------------------
    upsertOrder: `INSERT INTO ${n.orders} (${columnList(ORDERS)}) VALUES (${marks(ORDERS.columns.length + 1)})
      ON CONFLICT (client_order_id) DO UPDATE SET ${orderUpdate}`,
    getOrder: `SELECT * FROM ${n.orders} WHERE client_order_id = ?`,

    // --- audit --------------------------------------------------------------------------------
    appendAudit: `INSERT INTO ${n.audit} (${columnList(AUDIT, "seq")}) VALUES (${marks(AUDIT.columns.length)}) RETURNING *`,

    // --- cluster membership ------------------------------------------------------------------
    /** Parameters: instance, expires at. A beat renews the row. */
    heartbeat: `INSERT INTO ${n.instances} (instance_id, expires_at) VALUES (?, ?)
      ON CONFLICT (instance_id) DO UPDATE SET expires_at = excluded.expires_at`,
    /** Parameter: instance. A graceful stop (expiresAt <= now) leaves at once. */
    leave: `DELETE FROM ${n.instances} WHERE instance_id = ?`,
    /** Parameter: now. Memberships that ran out are deleted, so the table stays as small as the cluster. */
    dropExpiredInstances: `DELETE FROM ${n.instances} WHERE expires_at <= ?`,
    /** Parameter: now. BINARY collation: code-unit order, as the contract sorts. */
    liveInstances: `SELECT instance_id FROM ${n.instances} WHERE expires_at > ? ORDER BY instance_id`,

    // --- change log (watch) -------------------------------------------------------------------
    changesSince: `SELECT seq, type, subject_id FROM ${n.changes} WHERE seq > ? ORDER BY seq LIMIT 10000`,
    changesBounds: `SELECT coalesce(min(seq), 0) AS lo, coalesce(max(seq), 0) AS hi FROM ${n.changes}`,
  };
}

/** The static statements of one prefix, by name. */
export type SqliteStatements = ReturnType<typeof sqliteStatements>;

/**
 * The fenced update of one execution for the given columns (in order): it changes the row only
 * while `instance_id` still holds it. Parameters: the column values, then id and instance.
 */
export function updateExecutionSql(n: SqliteNames, columns: readonly string[]): string {
  // An empty patch still checks the fence: `status = status` changes nothing.
  const set = columns.length ? columns.map((c) => `${c} = ?`).join(", ") : "status = status";
  return `UPDATE ${n.executions} SET ${set} WHERE id = ? AND instance_id = ? AND ${ACTIVE} RETURNING *`;
}

/** Compare-and-set of an approval for the given columns. Parameters: values, then id and status. */
export function transitionApprovalSql(n: SqliteNames, columns: readonly string[]): string {
  const set = columns.map((c) => `${c} = ?`).join(", ");
  return `UPDATE ${n.approvals} SET ${set} WHERE id = ? AND status = ? RETURNING *`;
}

// --- approval groups ---------------------------------------------------------------------------

/**
 * All-or-none compare-and-set of a group (Storage.transitionApprovalGroup): one statement, so it
 * updates every member or none, and SQLite's single writer orders racing deciders. Parameters:
 * values, then group id, group id, status.
 */
export function transitionApprovalGroupSql(n: SqliteNames, columns: readonly string[]): string {
  const set = columns
    .map((c) => (c === EXTRA_COLUMN ? `${c} = json_patch(coalesce(${c}, '{}'), ?)` : `${c} = ?`))
    .join(", ");
  return `UPDATE ${n.approvals} SET ${set} WHERE group_id = ?
    AND NOT EXISTS (SELECT 1 FROM ${n.approvals} WHERE group_id = ? AND status <> ?) RETURNING *`;
}

/** A list statement and its parameters. */
export interface ListStatement {
  text: string;
  values: unknown[];
}

const where = () => new Where(question, "in");

function list(table: string, w: Where, order: KeysetOrder, cursor: string | null | undefined, limit: number) {
  return { text: keysetSelect(table, w, order, cursor, limit), values: w.params };
}

/** Executions newest first by (scheduled_at, id). */
export function listExecutionsSql(
  n: SqliteNames,
  q: {
    scheduleId?: string;
    status?: string | string[];
    kind?: string | string[];
    from?: number;
    to?: number;
    cursor?: string | null;
  },
  limit: number,
): ListStatement {
  const w = where()
    .eq("schedule_id", q.scheduleId)
    .oneOf("status", q.status)
    .oneOf("kind", q.kind)
    .gte("scheduled_at", q.from)
    .lt("scheduled_at", q.to);
  return list(
    n.executions,
    w,
    { keyColumn: "scheduled_at", idColumn: "id", keyIsUnique: q.scheduleId !== undefined },
    q.cursor,
    limit,
  );
}

/** Approvals newest first by (created_at, id). */
export function listApprovalsSql(
  n: SqliteNames,
  q: {
    status?: string | string[];
    riskLevel?: string | string[];
    scheduleId?: string;
    executionId?: string;
    groupId?: string;
    cursor?: string | null;
  },
  limit: number,
): ListStatement {
  const w = where()
    .oneOf("status", q.status)
    .oneOf("risk_level", q.riskLevel)
    .eq("schedule_id", q.scheduleId)
    .eq("execution_id", q.executionId)
    .eq("group_id", q.groupId);
  return list(n.approvals, w, { keyColumn: "created_at", idColumn: "id" }, q.cursor, limit);
}

/** Orders newest first by (submitted_at, client_order_id). */
export function listOrdersSql(
  n: SqliteNames,
  q: {
    scheduleId?: string;
    executionId?: string;
    symbol?: string;
    status?: string | string[];
    from?: number;
    to?: number;
    cursor?: string | null;
  },
  limit: number,
): ListStatement {
  const w = where()
    .eq("schedule_id", q.scheduleId)
    .eq("execution_id", q.executionId)
    .eq("symbol", q.symbol)
    .oneOf("status", q.status)
    .gte("submitted_at", q.from)
    .lt("submitted_at", q.to);
  return list(n.orders, w, { keyColumn: "submitted_at", idColumn: "client_order_id" }, q.cursor, limit);
}

/** Audit entries newest first by seq. */
export function listAuditSql(
  n: SqliteNames,
  q: {
    actor?: string;
    action?: string;
    subjectType?: string;
    subjectId?: string;
    from?: number;
    to?: number;
    cursor?: string | null;
  },
  limit: number,
): ListStatement {
  const w = where()
    .eq("actor", q.actor)
    .eq("action", q.action)
    .eq("subject_type", q.subjectType)
    .eq("subject_id", q.subjectId)
    .gte("at", q.from)
    .lt("at", q.to);
  return list(n.audit, w, { keyColumn: "seq", idColumn: "seq", keyIsUnique: true }, q.cursor, limit);
}

// --- retention ---------------------------------------------------------------------------------

/** A list of our own status constants as SQL literals (never user input). */
function literals(values: readonly string[]): string {
  return values.map((v) => `'${v.replace(/'/g, "''")}'`).join(", ");
}

/**
 * The retention statements (see core's `prune.ts` for the rules). Each deletes one bounded batch
 * picked by a subselect with LIMIT, so a prune holds the write lock only for its batch.
 */
export function sqlitePruneStatements(
  n: SqliteNames,
  s: { executions: readonly string[]; approvals: readonly string[]; orders: readonly string[] },
) {
  const e = n.executions;
  const final = literals(s.executions);
  /** The latest execution of the schedule matching `cond` (walks the fire-key index backwards). */
  const latest = (cond: string) =>
    `coalesce((SELECT id FROM ${e} WHERE schedule_id = @schedule AND ${cond} ORDER BY scheduled_at DESC LIMIT 1), '')`;
  const own = "kind IN ('scheduled', 'catchup')";
  return {
    /**
     * Named parameters: schedule, before (NULL: any age), keep (keepLast, NULL: no floor), limit.
     * Kept always: active rows, the newest `keep`, and the rows lastFireAt and scheduleSummaries
     * read (latest own fire, latest final own fire, latest ended run, latest success).
     */
    pruneExecutions: `DELETE FROM ${e} WHERE id IN (
      SELECT id FROM ${e}
      WHERE schedule_id = @schedule AND status IN (${final})
        AND (@before IS NULL OR scheduled_at < @before)
        AND (@keep IS NULL OR scheduled_at < (SELECT scheduled_at FROM ${e} WHERE schedule_id = @schedule
          ORDER BY scheduled_at DESC LIMIT 1 OFFSET @keep - 1))
        AND id NOT IN (${latest(own)}, ${latest(`${own} AND NOT ${ACTIVE}`)},
          ${latest(`started_at IS NOT NULL AND NOT ${ACTIVE}`)}, ${latest("status = 'succeeded'")})
      ORDER BY scheduled_at LIMIT @limit)`,
    /**
     * Distinct schedule ids after @after (NULL: from the start), at most @limit: a loose index scan, one
     * index seek per id however long each history is.
     */
    executionScheduleIds: `WITH RECURSIVE ids(id, n) AS (
        SELECT (SELECT min(schedule_id) FROM ${e} WHERE @after IS NULL OR schedule_id > @after), 1
        UNION ALL
        SELECT (SELECT min(schedule_id) FROM ${e} WHERE schedule_id > ids.id), ids.n + 1
        FROM ids WHERE ids.id IS NOT NULL AND ids.n < @limit)
      SELECT id FROM ids WHERE id IS NOT NULL`,
    /** Parameters: before, limit. Never one an order that is not final references. */
    pruneApprovals: `DELETE FROM ${n.approvals} WHERE id IN (
      SELECT a.id FROM ${n.approvals} a
      WHERE a.status IN (${literals(s.approvals)}) AND a.created_at < ?
        AND NOT EXISTS (SELECT 1 FROM ${n.orders} o
          WHERE o.approval_id = a.id AND o.status NOT IN (${literals(s.orders)}))
      ORDER BY a.created_at LIMIT ?)`,
    /** Parameters: before, limit. */
    pruneOrders: `DELETE FROM ${n.orders} WHERE client_order_id IN (
      SELECT client_order_id FROM ${n.orders}
      WHERE status IN (${literals(s.orders)}) AND updated_at < ? ORDER BY updated_at LIMIT ?)`,
    /** Parameters: before, limit. Oldest first; never the newest entry. */
    pruneAudit: `DELETE FROM ${n.audit} WHERE seq IN (
      SELECT seq FROM ${n.audit}
      WHERE at < ? AND seq < (SELECT max(seq) FROM ${n.audit}) ORDER BY seq LIMIT ?)`,
  };
}
