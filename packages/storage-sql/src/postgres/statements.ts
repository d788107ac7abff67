/**
 * Every SQL statement PostgresStorage runs, by name (the pg-boss `plans.ts` pattern): static
 * statements are built once per (schema, prefix) and sent as named prepared statements; the
 * list statements, whose filters are optional, are composed by the builders at the end from fixed
 * fragments. Identifiers spliced into the text are validated (see `shared/options.ts`) and quoted.
 */

import { createHash } from "node:crypto";
import {
  APPROVALS,
  AUDIT,
  CONTROL,
  type ColumnKind,
  EXECUTIONS,
  EXTRA_COLUMN,
  ORDERS,
  SCHEDULES,
  type TableShape,
} from "../shared/rows.js";
import { dollar, type KeysetOrder, keysetSelect, Where } from "../shared/where.js";
import { unnestOf } from "./arrays.js";

/** Quotes an identifier that has been validated already (no quotes can occur in it). */
export function quote(identifier: string): string {
  return `"${identifier}"`;
}

/** The names one PostgresStorage uses in its schema. */
export interface PgNames {
  schema: string;
  prefix: string;
  /** Quoted, schema-qualified table names. */
  schedules: string;
  control: string;
  executions: string;
  approvals: string;
  orders: string;
  audit: string;
  migrations: string;
  /** Per-schedule state committed with a run's outcome (schema version 3). */
  scheduleState: string;
  /** Scheduler instances alive on this schema, by heartbeat (schema version 5). */
  instances: string;
  /** The trigger function that sends change notifications. */
  notifyFunction: string;
  /** The LISTEN/NOTIFY channel: `<schema>.<prefix>changes` (at most 63 bytes). */
  channel: string;
  /** The advisory lock that serialises migrations of this (schema, prefix), as two int4 keys. */
  migrationLock: readonly [number, number];
  /** Quoted, unqualified name of an index or constraint (`<prefix><name>`). */
  index(name: string): string;
  /** Display name of a table for error messages (`schema.prefixtable`). */
  display(table: string): string;
}

/** Derives every name from a validated schema and prefix. */
export function pgNames(schema: string, prefix: string): PgNames {
  const table = (name: string) => `${quote(schema)}.${quote(prefix + name)}`;
  const digest = createHash("sha256").update(`tradecron:migrate:${schema}.${prefix}`).digest();
  return {
    schema,
    prefix,
    schedules: table("schedules"),
    control: table("control"),
    executions: table("executions"),
    approvals: table("approvals"),
    orders: table("orders"),
    audit: table("audit"),
    migrations: table("migrations"),
    scheduleState: table("schedule_state"),
    instances: table("instances"),
    notifyFunction: table("notify_change"),
    channel: `${schema}.${prefix}changes`,
    migrationLock: [digest.readInt32BE(0), digest.readInt32BE(4)],
    index: (name) => quote(prefix + name),
    display: (name) => `${schema}.${prefix}${name}`,
  };
}

const SQL_TYPES: Record<ColumnKind, string> = {
  text: "text",
  int: "bigint",
  float: "double precision",
  bool: "boolean",
  json: "jsonb",
};

function columnList(shape: TableShape, skip?: string): string {
  return [...shape.columns.filter((c) => c.field !== skip).map((c) => c.column), EXTRA_COLUMN].join(", ");
}

function placeholders(count: number, from = 1): string {
  return Array.from({ length: count }, (_, i) => `$${i + from}`).join(", ");
}

/** `x(col type, ...)` for jsonb_to_recordset over a whole table shape (and `more` definitions). */
function recordsetOf(shape: TableShape, more: readonly string[] = []): string {
  const defs = shape.columns.map((c) => `${c.column} ${SQL_TYPES[c.kind]}`);
  return `x(${[...defs, `${EXTRA_COLUMN} jsonb`, ...more].join(", ")})`;
}

/**
 * How long after its membership ran out an instance's row is deleted by the others' beats: an
 * instance whose clock runs ahead then never deletes the row of one that is still beating.
 */
export const STALE_INSTANCE_MS = 60_000;

/** The condition of an execution that is still held (claimed or running). */
export const ACTIVE = "status IN ('claimed', 'running')";

/**
 * Fields of an ExecutionPatch and their column types (the fenced batch update sets these). A
 * patch row says which it sets with a bit mask: bit i for the i-th field here.
 */
export const PATCH_FIELDS = {
  status: "text",
  reason: "text",
  attempts: "integer",
  startedAt: "bigint",
  endedAt: "bigint",
  leaseExpiresAt: "bigint",
  error: "jsonb",
  result: "jsonb",
  details: "jsonb",
} as const;

function snake(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The column of each {@link PATCH_FIELDS} field, in its order. */
export const PATCH_COLUMNS: readonly string[] = Object.keys(PATCH_FIELDS).map(snake);

/** Parameters of {@link patchSource}: id, instance, mask, then one array per patch field. */
export const PATCH_PARAMS = 3 + PATCH_COLUMNS.length;

/**
 * The rows of a batch of fenced patches, `x(id, instance_id, mask, <patch columns>)`, from
 * {@link PATCH_PARAMS} column arrays ($1 ids, $2 instances, $3 masks, then the fields).
 */
function patchSource(): string {
  const types = Object.values(PATCH_FIELDS).map((t) => `${t}[]`);
  const args = ["text[]", "text[]", "integer[]", ...types].map((t, i) => `$${i + 1}::${t}`);
  return `unnest(${args.join(", ")}) AS x(id, instance_id, mask, ${PATCH_COLUMNS.join(", ")})`;
}

/** Builds the static statements of one (schema, prefix). */
export function postgresStatements(n: PgNames) {
  const sc = columnList(SCHEDULES);
  const scheduleCount = SCHEDULES.columns.length + 1;
  const scheduleSet = SCHEDULES.columns
    .filter((c) => c.field !== "id")
    .map((c, i) => `${c.column} = $${i + 2}`)
    .concat(`${EXTRA_COLUMN} = $${SCHEDULES.columns.length + 1}`)
    .join(", ");
  const controlCols = columnList(CONTROL);
  const controlUpdate = [...CONTROL.columns.map((c) => c.column), EXTRA_COLUMN]
    .map((c) => `${c} = EXCLUDED.${c}`)
    .join(", ");
  const ec = columnList(EXECUTIONS);
  const ac = columnList(APPROVALS);
  const oc = columnList(ORDERS);
  const orderUpdate = [...ORDERS.columns.filter((c) => c.field !== "clientOrderId"), { column: EXTRA_COLUMN }]
    .map((c) => `${c.column} = EXCLUDED.${c.column}`)
    .join(", ");
  const auditCols = columnList(AUDIT, "seq");
  const patchSet = PATCH_COLUMNS.map(
    (c, bit) => `${c} = CASE WHEN x.mask & ${1 << bit} <> 0 THEN x.${c} ELSE e.${c} END`,
  ).join(",\n      ");
  const patches = patchSource();
  /** The k-th parameter after the patch arrays (k from 1). */
  const after = (k: number) => `$${PATCH_PARAMS + k}`;
  const executionRows = unnestOf(EXECUTIONS, "x");
  // The holder's row in the claim batch's result: every column, from `e`.
  const holderColumns = [...EXECUTIONS.columns.map((c) => c.column), EXTRA_COLUMN];

  return {
    // --- schedules ----------------------------------------------------------------------------
    /**
     * Inserts a batch of schedules in one statement (one commit for many `insertSchedule` calls);
     * returns the ids inserted, so the callers whose id was taken get SCHEDULE_EXISTS.
     * $1: jsonb array of rows.
     */
    insertSchedules: `INSERT INTO ${n.schedules} (${sc})
      SELECT ${sc} FROM jsonb_to_recordset($1::jsonb) AS ${recordsetOf(SCHEDULES)}
      ON CONFLICT (id) DO NOTHING RETURNING id`,
    /**
     * Storage.insertSchedules: one statement, so all or none; a taken id fails it with a unique
     * violation (then `takenScheduleIds` names the first). $1: jsonb array of rows.
     */
    insertSchedulesAllOrNone: `INSERT INTO ${n.schedules} (${sc})
      SELECT ${sc} FROM jsonb_to_recordset($1::jsonb) AS ${recordsetOf(SCHEDULES)}`,
    /** Which of the ids $1 are taken. */
    takenScheduleIds: `SELECT id FROM ${n.schedules} WHERE id = ANY($1::text[])`,
    /** $1 id, $2.. the other columns and extra, last: the expected revision. */
    updateSchedule: `UPDATE ${n.schedules} SET ${scheduleSet}
      WHERE id = $1 AND revision = $${scheduleCount + 1} RETURNING id`,
    scheduleRevision: `SELECT revision FROM ${n.schedules} WHERE id = $1`,
    getSchedule: `SELECT * FROM ${n.schedules} WHERE id = $1`,
    listSchedules: `SELECT * FROM ${n.schedules} ORDER BY id`,
    /** The schedule's state goes with it (the state table's foreign key cascades). */
    deleteSchedule: `DELETE FROM ${n.schedules} WHERE id = $1`,
    /** What a watcher compares after missing notifications. */
    scheduleRevisions: `SELECT id, revision FROM ${n.schedules}`,

    // --- control ------------------------------------------------------------------------------
    getControl: `SELECT * FROM ${n.control} WHERE id = 1`,
    setControl: `INSERT INTO ${n.control} (id, ${controlCols}) VALUES (1, ${placeholders(CONTROL.columns.length + 1)})
      ON CONFLICT (id) DO UPDATE SET ${controlUpdate}`,

    // --- fires and executions -----------------------------------------------------------------
    /**
     * Claims a batch of fires: the unique constraint on (schedule_id, scheduled_at) decides, for
     * racers in this statement, in concurrent statements and on other instances alike. Returns the
     * ids it inserted (the fires this caller won; their rows are exactly what it sent, so they are
     * not sent back). Rows go in in key order: a racer waits on a row another instance inserted
     * but has not committed yet, and if every statement takes its rows in one global order no two
     * can wait on each other (no deadlocks). $1..: one array per column (see `arrays.ts`).
     */
    claimFires: `INSERT INTO ${n.executions} (${ec})
      SELECT ${ec} FROM ${executionRows}
      ORDER BY schedule_id COLLATE "C", scheduled_at
      ON CONFLICT (schedule_id, scheduled_at) DO NOTHING
      RETURNING id`,
    /**
     * Storage.claimFires in one autocommit statement (no lock outlives it): `ins` claims the free
     * fires in key order as `claimFires` does (no deadlocks between racing instances). The first
     * row (`summary`) names the won claims (`won_ids`) and, for those that asked for it
     * (`with_state`), their schedules' committed states (`won_states`: schedule id -> the state
     * row, absent: none); each further row is the holder of a lost fire, in the table's own
     * columns, when it was committed before the statement began. Holders that committed while it
     * ran are not in its snapshot: the caller reads them with `findFires`. The fires are
     * distinct (the caller dedupes). `won_busy` names the won claims that asked `with_overlap`
     * and whose schedule had an active execution in the statement's snapshot (the rows `ins`
     * inserts are not in it: two won claims of one schedule in one batch are the caller's to see).
     * Why this shape (measured on 10,000 rows): holders as plain columns, not `to_jsonb(e)`,
     * which costs the server ~10 µs a row and the client a JSON.parse on top of the driver's
     * parse; won claims as one array, not one row each, so a burst that wins every fire brings
     * back one row instead of one with two dozen columns per fire. The holders are looked up
     * one by one on the fire key (the LATERAL with OFFSET 0 keeps the planner from turning it
     * into a hash join over the whole table, which it picks once it knows the batch is large).
     * $1..: one array per column (see `arrays.ts`), then `with_state` and `with_overlap` (boolean[]).
     */
    claimFireBatch: `WITH x AS (
        SELECT * FROM ${unnestOf(EXECUTIONS, "x", [
          ["with_state", "boolean[]"],
          ["with_overlap", "boolean[]"],
        ])}
      ), ins AS (
        INSERT INTO ${n.executions} (${ec})
        SELECT ${ec} FROM x ORDER BY schedule_id COLLATE "C", scheduled_at
        ON CONFLICT (schedule_id, scheduled_at) DO NOTHING
        RETURNING id, schedule_id
      )
      SELECT true AS summary, (SELECT array_agg(id) FROM ins) AS won_ids,
        (SELECT jsonb_object_agg(s.schedule_id, to_jsonb(s))
          FROM ins JOIN x ON x.id = ins.id JOIN ${n.scheduleState} AS s ON s.schedule_id = ins.schedule_id
          WHERE x.with_state) AS won_states,
        (SELECT array_agg(ins.id) FROM ins JOIN x ON x.id = ins.id
          WHERE x.with_overlap AND EXISTS (SELECT 1 FROM ${n.executions} AS a
            WHERE a.schedule_id = ins.schedule_id AND a.${ACTIVE})) AS won_busy,
        ${holderColumns.map((c) => `NULL AS ${c}`).join(", ")}
      UNION ALL
      SELECT false, NULL, NULL, NULL, ${holderColumns.map((c) => `e.${c}`).join(", ")}
      FROM x CROSS JOIN LATERAL (SELECT * FROM ${n.executions} AS h
          WHERE h.schedule_id = x.schedule_id COLLATE "C" AND h.scheduled_at = x.scheduled_at
          OFFSET 0) AS e
      WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins.id = x.id)`,
    /**
     * Storage.fireHolders: the holder of each fire that has an execution, by its position in the
     * batch (1-based `i`); fires without one are absent. Looked up one by one on the fire key
     * (LATERAL with OFFSET 0, as in `claimFireBatch`: no hash join over the whole table).
     * $1 schedule ids, $2 instants (pairwise).
     */
    fireHolders: `SELECT k.i, e.instance_id
      FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS k(schedule_id, scheduled_at, i)
      CROSS JOIN LATERAL (SELECT h.instance_id FROM ${n.executions} AS h
          WHERE h.schedule_id = k.schedule_id COLLATE "C" AND h.scheduled_at = k.scheduled_at
          OFFSET 0) AS e`,
    /**
     * Storage.fireHolders with the expected holders: only the fires held by another instance than
     * their expected one, or by none (`instance_id` null), by position (1-based `i`); the others
     * are held as expected. $1 schedule ids, $2 instants, $3 each fire's expected holder as a
     * 1-based position in $4, the distinct expected holders (so the batch sends small integers,
     * not a name per fire).
     */
    fireHoldersExcept: `SELECT k.i, e.instance_id
      FROM unnest($1::text[], $2::bigint[], $3::int[]) WITH ORDINALITY AS k(schedule_id, scheduled_at, o, i)
      LEFT JOIN LATERAL (SELECT h.instance_id FROM ${n.executions} AS h
          WHERE h.schedule_id = k.schedule_id COLLATE "C" AND h.scheduled_at = k.scheduled_at
          OFFSET 0) AS e ON true
      WHERE e.instance_id IS DISTINCT FROM ($4::text[])[k.o]`,
    /** The current holders of fires. $1 schedule ids, $2 instants (pairwise). */
    findFires: `SELECT * FROM ${n.executions}
      WHERE (schedule_id, scheduled_at) IN (SELECT * FROM unnest($1::text[], $2::bigint[]))`,
    /**
     * Fenced update of a batch of executions: a row changes only while `instance_id` still holds it
     * (claimed or running). Each row says which fields it sets (`mask`), so patches of any shape
     * share this one statement. The ids are distinct (the caller sends a repeat in a later round).
     * `e.id = ANY($1)` makes the rows primary-key lookups: told the batch's size, the planner
     * otherwise hashes the batch and scans every active execution (12 ms instead of 5 for 500
     * of 10,000 active).
     * $1..: {@link PATCH_PARAMS} column arrays (see `patchSource`).
     */
    updateExecutions: `UPDATE ${n.executions} AS e SET
      ${patchSet}
      FROM ${patches}
      WHERE e.id = ANY($1::text[]) AND e.id = x.id AND e.instance_id = x.instance_id AND e.${ACTIVE}
      RETURNING e.*`,
    // --- schedule state -----------------------------------------------------------------------
    /** $1 schedule id. */
    getScheduleState: `SELECT * FROM ${n.scheduleState} WHERE schedule_id = $1`,
    /**
     * A fenced execution patch and its schedule's state in one statement, so one atomic write:
     * `held` locks the execution if the instance still holds it; `sched` locks its schedule row
     * against a concurrent delete (none: the schedule is gone and only the patch is written);
     * `st` writes the state compare-and-set on the revision the run read (0: none yet); `e`
     * applies the patch only when the state was written or is not wanted. One row back:
     * `state_held` (0: the claim was lost) and the updated execution (all null: not written, so
     * with state_held 1 the state had moved on).
     * The patch as one row of {@link PATCH_PARAMS} column arrays (as updateExecutions), then:
     * execution id, instance, value (jsonb text), expected revision, commit instant.
     */
    updateExecutionWithState: `WITH held AS (
        SELECT id, schedule_id FROM ${n.executions}
        WHERE id = ${after(1)} AND instance_id = ${after(2)} AND ${ACTIVE} FOR UPDATE
      ), sched AS (
        SELECT s.id FROM ${n.schedules} AS s JOIN held ON s.id = held.schedule_id FOR KEY SHARE OF s
      ), st AS (
        INSERT INTO ${n.scheduleState} AS t (schedule_id, value, revision, execution_id, updated_at)
        SELECT sched.id, ${after(3)}::jsonb, ${after(4)}::integer + 1, ${after(1)}, ${after(5)}::bigint FROM sched
        WHERE ${after(4)}::integer = 0 OR EXISTS (SELECT 1 FROM ${n.scheduleState} WHERE schedule_id = sched.id)
        ON CONFLICT (schedule_id) DO UPDATE SET value = EXCLUDED.value, revision = EXCLUDED.revision,
          execution_id = EXCLUDED.execution_id, updated_at = EXCLUDED.updated_at
        WHERE t.revision = ${after(4)}::integer
        RETURNING t.schedule_id
      ), e AS (
        UPDATE ${n.executions} AS e SET
        ${patchSet}
        FROM ${patches}
        WHERE e.id = x.id AND e.id IN (SELECT id FROM held)
          AND (NOT EXISTS (SELECT 1 FROM sched) OR EXISTS (SELECT 1 FROM st))
        RETURNING e.*
      )
      SELECT (SELECT count(*) FROM held)::int AS state_held, e.* FROM (SELECT 1) AS one LEFT JOIN e ON true`,
    /** $1 instance, $2 ids, $3 new lease expiry. */
    renewLeases: `UPDATE ${n.executions} SET lease_expires_at = $3
      WHERE id = ANY($2::text[]) AND instance_id = $1 AND ${ACTIVE} RETURNING id`,
    /** $1 id, $2 reason, $3 endedAt. Whoever holds it. */
    cancelExecution: `UPDATE ${n.executions}
      SET status = 'cancelled', reason = $2, ended_at = $3, lease_expires_at = NULL
      WHERE id = $1 AND ${ACTIVE} RETURNING *`,
    /** Active executions of a batch of schedules (served by the partial `executions_active` index). */
    activeExecutions: `SELECT * FROM ${n.executions}
      WHERE schedule_id = ANY($1::text[]) AND ${ACTIVE} ORDER BY schedule_id, scheduled_at`,
    releaseClaim: `DELETE FROM ${n.executions} WHERE id = $1 AND instance_id = $2 AND status = 'claimed'`,
    /**
     * Takes over expired leases atomically across instances: the inner SELECT locks the rows it
     * picks and skips rows another instance is taking over right now (SKIP LOCKED), and the outer
     * WHERE re-checks the lease on the locked row, so no row is handed to two instances.
     * $1 instance, $2 now, $3 new lease expiry, $4 limit, $5 job names (or NULL for all).
     */
    takeOverExpired: `UPDATE ${n.executions} AS e
      SET instance_id = $1, lease_expires_at = $3, status = 'running', attempts = e.attempts + 1
      WHERE e.id IN (
        SELECT id FROM ${n.executions}
        WHERE ${ACTIVE} AND lease_expires_at < $2 AND ($5::text[] IS NULL OR job = ANY($5::text[]))
        ORDER BY lease_expires_at
        LIMIT $4
        FOR UPDATE SKIP LOCKED)
      AND e.${ACTIVE} AND e.lease_expires_at < $2
      RETURNING e.*`,
    getExecution: `SELECT * FROM ${n.executions} WHERE id = $1`,
    findExecution: `SELECT * FROM ${n.executions} WHERE schedule_id = $1 AND scheduled_at = $2`,
    /**
     * The newest own fire of each schedule in $1: per schedule, a walk backwards along the
     * (schedule_id, scheduled_at) unique index that stops at the first own fire.
     */
    lastFireAt: `SELECT s.id AS schedule_id, (
        SELECT scheduled_at FROM ${n.executions}
        WHERE schedule_id = s.id AND kind IN ('scheduled', 'catchup')
        ORDER BY scheduled_at DESC LIMIT 1) AS scheduled_at
      FROM unnest($1::text[]) AS s(id)`,
    /**
     * Storage.scheduleSummaries for an array of ids, in their order: each value is the latest
     * matching row by scheduled_at, found walking the (schedule_id, scheduled_at) index backwards.
     */
    scheduleSummaries: `SELECT s.id AS schedule_id,
      (SELECT scheduled_at FROM ${n.executions} WHERE schedule_id = s.id AND kind IN ('scheduled', 'catchup')
        ORDER BY scheduled_at DESC LIMIT 1) AS last_fire_at,
      (SELECT started_at FROM ${n.executions} WHERE schedule_id = s.id AND started_at IS NOT NULL
        ORDER BY scheduled_at DESC LIMIT 1) AS last_start_at,
      r.ended_at AS last_end_at, r.status AS last_status,
      (SELECT ended_at FROM ${n.executions} WHERE schedule_id = s.id AND status = 'succeeded' AND started_at IS NOT NULL
        ORDER BY scheduled_at DESC LIMIT 1) AS last_success_at
      FROM unnest($1::text[]) WITH ORDINALITY AS s(id, ord)
      LEFT JOIN LATERAL (SELECT ended_at, status FROM ${n.executions}
        WHERE schedule_id = s.id AND started_at IS NOT NULL AND status NOT IN ('claimed', 'running')
        ORDER BY scheduled_at DESC LIMIT 1) r ON true
      ORDER BY s.ord`,

    // --- cluster membership ------------------------------------------------------------------
    /**
     * Storage.heartbeat in one statement: `beat` renews (or creates) the caller's row unless it
     * leaves ($3 <= $2), `gone` deletes its row when it leaves and the rows of instances whose
     * membership ran out more than STALE_INSTANCE_MS ago; the live ids come back sorted. The
     * caller's own row comes from `beat` (the snapshot does not see the statement's own write).
     * $1 instance, $2 now, $3 expires at.
     */
    heartbeat: `WITH beat AS (
        INSERT INTO ${n.instances} AS i (instance_id, expires_at)
        SELECT $1::text, $3::bigint WHERE $3::bigint > $2::bigint
        ON CONFLICT (instance_id) DO UPDATE SET expires_at = EXCLUDED.expires_at
        RETURNING i.instance_id
      ), gone AS (
        DELETE FROM ${n.instances}
        WHERE (instance_id = $1::text AND $3::bigint <= $2::bigint)
          OR (instance_id <> $1::text AND expires_at <= $2::bigint - ${STALE_INSTANCE_MS})
        RETURNING instance_id
      )
      SELECT instance_id FROM ${n.instances} WHERE expires_at > $2::bigint AND instance_id <> $1::text
      UNION ALL SELECT instance_id FROM beat
      ORDER BY 1`,

    // --- approvals ----------------------------------------------------------------------------
    /** One statement, so a batch is inserted all or nothing. $1: jsonb array of rows. */
    insertApprovals: `INSERT INTO ${n.approvals} (${ac})
      SELECT ${ac} FROM jsonb_to_recordset($1::jsonb) AS ${recordsetOf(APPROVALS)}`,
    getApproval: `SELECT * FROM ${n.approvals} WHERE id = $1`,
    /** An index-only count on (status, created_at, id). */
    countApprovals: `SELECT count(*) AS n FROM ${n.approvals} WHERE status = $1`,
    listExpiredApprovals: `SELECT * FROM ${n.approvals}
      WHERE status = 'pending' AND expires_at <= $1 ORDER BY expires_at, id LIMIT $2`,
    pendingApprovals: `SELECT id FROM ${n.approvals} WHERE status = 'pending'`,

    // --- orders -------------------------------------------------------------------------------
    upsertOrder: `INSERT INTO ${n.orders} (${oc}) VALUES (${placeholders(ORDERS.columns.length + 1)})
      ON CONFLICT (client_order_id) DO UPDATE SET ${orderUpdate}`,
    getOrder: `SELECT * FROM ${n.orders} WHERE client_order_id = $1`,

    // --- audit --------------------------------------------------------------------------------
    appendAudit: `INSERT INTO ${n.audit} (${auditCols}) VALUES (${placeholders(AUDIT.columns.length)})
      RETURNING *`,
  };
}

/** The static statements of one (schema, prefix), by name. */
export type PostgresStatements = ReturnType<typeof postgresStatements>;

/**
 * `UPDATE approvals SET ... WHERE id = $1 AND status = $2` for the columns in `set` (compare-and-set
 * of {@link Storage.transitionApproval}). Values follow as $3, $4, ...
 */
export function transitionApprovalSql(n: PgNames, set: readonly string[]): string {
  const assignments = set.map((column, i) =>
    column === EXTRA_COLUMN
      ? `${column} = coalesce(${column}, '{}'::jsonb) || $${i + 3}::jsonb`
      : `${column} = $${i + 3}`,
  );
  return `UPDATE ${n.approvals} SET ${assignments.join(", ")} WHERE id = $1 AND status = $2 RETURNING *`;
}

// --- approval groups ---------------------------------------------------------------------------

/**
 * All-or-none compare-and-set of a group (Storage.transitionApprovalGroup), one statement: lock
 * every member in id order (two deciders lock in the same order, so they queue instead of
 * deadlocking; the second then sees the first's committed statuses), and update them all only if
 * there is one and all are in status $2. $1: group id; values follow as $3, $4, ...
 */
export function transitionApprovalGroupSql(n: PgNames, set: readonly string[]): string {
  const assignments = set.map((column, i) =>
    column === EXTRA_COLUMN
      ? `${column} = coalesce(a.${column}, '{}'::jsonb) || $${i + 3}::jsonb`
      : `${column} = $${i + 3}`,
  );
  return `WITH members AS (
      SELECT id, status FROM ${n.approvals} WHERE group_id = $1 ORDER BY id FOR UPDATE
    ), verdict AS (
      SELECT count(*) > 0 AND bool_and(status = $2) AS ok FROM members
    )
    UPDATE ${n.approvals} AS a SET ${assignments.join(", ")}
    FROM verdict WHERE a.group_id = $1 AND verdict.ok RETURNING a.*`;
}

/** A list statement and its parameters. */
export interface ListStatement {
  text: string;
  values: unknown[];
}

const where = () => new Where(dollar, "any");

function list(table: string, w: Where, order: KeysetOrder, cursor: string | null | undefined, limit: number) {
  return { text: keysetSelect(table, w, order, cursor, limit), values: w.params };
}

/** Executions newest first by (scheduled_at, id). */
export function listExecutionsSql(
  n: PgNames,
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
  n: PgNames,
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
  n: PgNames,
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
  n: PgNames,
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

/** The ends of bigint: an open bound of a range condition that stays an index condition. */
const MIN_BIGINT = "'-9223372036854775808'::bigint";
const MAX_BIGINT = "'9223372036854775807'::bigint";

/**
 * The retention statements (see core's `prune.ts` for the rules). Each deletes one bounded batch,
 * picked by a subselect with LIMIT and `FOR UPDATE SKIP LOCKED`: a prune never waits for a row
 * another transaction holds (two instances pruning at once split the work), and it holds its own
 * row locks only for one short autocommit statement.
 */
export function postgresPruneStatements(
  n: PgNames,
  s: { executions: readonly string[]; approvals: readonly string[]; orders: readonly string[] },
) {
  const e = n.executions;
  /** The latest execution of schedule $1 matching `cond` (walks an index backwards). */
  const latest = (cond: string) =>
    `coalesce((SELECT id FROM ${e} WHERE schedule_id = $1 AND ${cond} ORDER BY scheduled_at DESC LIMIT 1), '')`;
  const own = "kind IN ('scheduled', 'catchup')";
  return {
    /**
     * $1 schedule, $2 before (NULL: any age), $3 keepLast (NULL: no floor), $4 limit, $5 after
     * (NULL: from the oldest): only rows with scheduled_at after it, the last one the previous
     * batch of the pass deleted. Kept always: active rows, the newest $3, and what lastFireAt and
     * scheduleSummaries read (latest own fire, latest final own fire, latest ended run, latest
     * success). Returns how many it deleted (n) and the latest scheduled_at among them (last).
     *
     * Why it is written this way (EXPLAIN ANALYZE on a million rows of one schedule):
     * - `$5`: deleted rows stay in the index as dead entries until a vacuum; a scan from the
     *   oldest steps over every row the pass deleted so far (87 ms after 150,000, growing); from
     *   the cursor it starts at the first live one (1 ms).
     * - bounds as `coalesce` instead of `$2 IS NULL OR ...`, and `id = ANY(ARRAY(...))` instead
     *   of `id IN (...)`: pg switches a prepared statement to a generic plan after five runs, and
     *   the generic plan of the old form was a hash semi join over a sequential scan of the whole
     *   table (368 ms); this form is an index range scan and primary-key lookups in either plan.
     */
    pruneExecutions: `WITH picked AS (
        SELECT id FROM ${e}
        WHERE schedule_id = $1 AND status IN (${literals(s.executions)})
          AND scheduled_at > coalesce($5::bigint, ${MIN_BIGINT})
          AND scheduled_at < coalesce($2::bigint, ${MAX_BIGINT})
          AND ($3::int IS NULL OR scheduled_at < (SELECT scheduled_at FROM ${e} WHERE schedule_id = $1
            ORDER BY scheduled_at DESC LIMIT 1 OFFSET greatest($3::int - 1, 0)))
          AND id NOT IN (${latest(own)}, ${latest(`${own} AND NOT ${ACTIVE}`)},
            ${latest(`started_at IS NOT NULL AND NOT ${ACTIVE}`)}, ${latest("status = 'succeeded'")})
        ORDER BY scheduled_at LIMIT $4
        FOR UPDATE SKIP LOCKED),
      deleted AS (DELETE FROM ${e} WHERE id = ANY(ARRAY(SELECT id FROM picked)) RETURNING scheduled_at)
      SELECT count(*)::int AS n, max(scheduled_at) AS last FROM deleted`,
    /** Distinct schedule ids after $1 (NULL: from the start), at most $2: a loose index scan. */
    executionScheduleIds: `WITH RECURSIVE ids(id, n) AS (
        SELECT (SELECT min(schedule_id) FROM ${e} WHERE $1::text IS NULL OR schedule_id > $1::text), 1
        UNION ALL
        SELECT (SELECT min(schedule_id) FROM ${e} WHERE schedule_id > ids.id), ids.n + 1
        FROM ids WHERE ids.id IS NOT NULL AND ids.n < $2::int)
      SELECT id FROM ids WHERE id IS NOT NULL`,
    /** $1 before, $2 limit. Never one an order that is not final references. */
    pruneApprovals: `DELETE FROM ${n.approvals} WHERE id IN (
      SELECT a.id FROM ${n.approvals} a
      WHERE a.status IN (${literals(s.approvals)}) AND a.created_at < $1
        AND NOT EXISTS (SELECT 1 FROM ${n.orders} o
          WHERE o.approval_id = a.id AND o.status NOT IN (${literals(s.orders)}))
      ORDER BY a.created_at LIMIT $2
      FOR UPDATE OF a SKIP LOCKED)`,
    /** $1 before, $2 limit. */
    pruneOrders: `DELETE FROM ${n.orders} WHERE client_order_id IN (
      SELECT client_order_id FROM ${n.orders}
      WHERE status IN (${literals(s.orders)}) AND updated_at < $1 ORDER BY updated_at LIMIT $2
      FOR UPDATE SKIP LOCKED)`,
    /** $1 before, $2 limit. Oldest first; never the newest entry. */
    pruneAudit: `DELETE FROM ${n.audit} WHERE seq IN (
      SELECT seq FROM ${n.audit}
      WHERE at < $1 AND seq < (SELECT max(seq) FROM ${n.audit}) ORDER BY seq LIMIT $2
      FOR UPDATE SKIP LOCKED)`,
  };
}
