/**
 * PostgreSQL schema migrations. Versions only ever get appended; a released migration never
 * changes. They run in one transaction under an advisory lock per (schema, prefix), so instances
 * that start together migrate one after the other: the first applies, the rest find nothing to do.
 */

import { StorageError } from "@tradecron/core";
import type pg from "pg";
import { driverCode, wrapError } from "../shared/errors.js";
import type { PgNames } from "./statements.js";

/** One schema version. */
export interface PgMigration {
  version: number;
  name: string;
  /** DDL statements, run in order inside the migration transaction. */
  up(n: PgNames): string[];
}

/** Every migration, oldest first. */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: "initial schema",
    up: (n) => [
      // Ids compare byte-wise (COLLATE "C"), as JavaScript compares them, so keyset pages
      // and `listSchedules` sort exactly like MemoryStorage's.
      `CREATE TABLE ${n.schedules} (
        id text COLLATE "C" PRIMARY KEY,
        name text NOT NULL,
        job text NOT NULL,
        description text,
        tags jsonb NOT NULL,
        trigger jsonb NOT NULL,
        data jsonb,
        enabled boolean NOT NULL,
        paused boolean NOT NULL,
        misfire jsonb NOT NULL,
        overlap text NOT NULL,
        retry jsonb NOT NULL,
        timeout_ms bigint,
        fires_since bigint NOT NULL,
        revision integer NOT NULL,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        extra jsonb
      )`,
      `CREATE TABLE ${n.control} (
        id smallint PRIMARY KEY CHECK (id = 1),
        paused_all boolean NOT NULL,
        paused_at bigint,
        paused_by text,
        reason text,
        revision integer NOT NULL,
        extra jsonb
      )`,
      `INSERT INTO ${n.control} (id, paused_all, revision) VALUES (1, false, 0)`,
      `CREATE TABLE ${n.executions} (
        id text COLLATE "C" PRIMARY KEY,
        schedule_id text COLLATE "C" NOT NULL,
        job text NOT NULL,
        scheduled_at bigint NOT NULL,
        kind text NOT NULL,
        status text NOT NULL,
        reason text,
        attempts integer NOT NULL,
        claimed_at bigint NOT NULL,
        started_at bigint,
        ended_at bigint,
        instance_id text NOT NULL,
        lease_expires_at bigint,
        actor text,
        error jsonb,
        result jsonb,
        details jsonb,
        idempotency_key text NOT NULL,
        extra jsonb,
        -- Exactly-once: one row per fire. Also serves per-schedule history and lastFireAt.
        CONSTRAINT ${n.index("executions_fire_key")} UNIQUE (schedule_id, scheduled_at)
      )`,
      // History newest first, all schedules, and time windows.
      `CREATE INDEX ${n.index("executions_time_idx")} ON ${n.executions} (scheduled_at, id)`,
      // History by status (failed runs, ...) newest first.
      `CREATE INDEX ${n.index("executions_status_idx")} ON ${n.executions} (status, scheduled_at, id)`,
      // Held fires only (a handful at any time): overlap checks and lease takeover (which scans
      // this small set) stay cheap however long the history grows.
      `CREATE INDEX ${n.index("executions_active_idx")} ON ${n.executions} (schedule_id, scheduled_at)
        WHERE status IN ('claimed', 'running')`,
      `CREATE TABLE ${n.approvals} (
        id text COLLATE "C" PRIMARY KEY,
        schedule_id text NOT NULL,
        execution_id text NOT NULL,
        fire_key text NOT NULL,
        intent_index integer NOT NULL,
        client_order_id text NOT NULL,
        intent jsonb,
        status text NOT NULL,
        risk_level text NOT NULL,
        rationale text,
        confidence double precision,
        supporting_data jsonb,
        created_at bigint NOT NULL,
        expires_at bigint NOT NULL,
        decided_at bigint,
        decided_by text,
        decision_reason text,
        broker_order_id text,
        error jsonb,
        extra jsonb
      )`,
      `CREATE INDEX ${n.index("approvals_time_idx")} ON ${n.approvals} (created_at, id)`,
      // The approval queue by status, and the pending count as an index-only scan.
      `CREATE INDEX ${n.index("approvals_status_idx")} ON ${n.approvals} (status, created_at, id)`,
      `CREATE INDEX ${n.index("approvals_schedule_idx")} ON ${n.approvals} (schedule_id, created_at, id)`,
      `CREATE INDEX ${n.index("approvals_execution_idx")} ON ${n.approvals} (execution_id)`,
      `CREATE INDEX ${n.index("approvals_expiry_idx")} ON ${n.approvals} (expires_at, id)
        WHERE status = 'pending'`,
      `CREATE TABLE ${n.orders} (
        client_order_id text COLLATE "C" PRIMARY KEY,
        broker_order_id text,
        broker text NOT NULL,
        schedule_id text,
        execution_id text,
        approval_id text,
        symbol text NOT NULL,
        side text NOT NULL,
        intent jsonb,
        status text NOT NULL,
        filled_qty text NOT NULL,
        avg_fill_price text,
        submitted_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        error jsonb,
        extra jsonb
      )`,
      `CREATE INDEX ${n.index("orders_time_idx")} ON ${n.orders} (submitted_at, client_order_id)`,
      `CREATE INDEX ${n.index("orders_schedule_idx")} ON ${n.orders} (schedule_id, submitted_at, client_order_id)`,
      `CREATE INDEX ${n.index("orders_symbol_idx")} ON ${n.orders} (symbol, submitted_at, client_order_id)`,
      `CREATE INDEX ${n.index("orders_execution_idx")} ON ${n.orders} (execution_id)`,
      `CREATE INDEX ${n.index("orders_broker_id_idx")} ON ${n.orders} (broker_order_id)`,
      `CREATE TABLE ${n.audit} (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at bigint NOT NULL,
        actor text NOT NULL,
        action text NOT NULL,
        subject_type text NOT NULL,
        subject_id text,
        details jsonb,
        extra jsonb
      )`,
      // Who did what (newest first), what happened in a time window, the history of one subject.
      `CREATE INDEX ${n.index("audit_actor_idx")} ON ${n.audit} (actor, seq)`,
      `CREATE INDEX ${n.index("audit_time_idx")} ON ${n.audit} (at)`,
      `CREATE INDEX ${n.index("audit_subject_idx")} ON ${n.audit} (subject_type, subject_id, seq)`,
      `CREATE INDEX ${n.index("audit_action_idx")} ON ${n.audit} (action, seq)`,
      // Change notification: a trigger, not the application, sends it, so writes from any
      // instance (or from psql) reach every watcher. NOTIFY is delivered on commit.
      `CREATE FUNCTION ${n.notifyFunction}() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_ARGV[0] = 'control' THEN
          PERFORM pg_notify('${n.channel}', '{"type":"control"}');
        ELSIF TG_OP = 'DELETE' THEN
          PERFORM pg_notify('${n.channel}', json_build_object('type', TG_ARGV[0], 'id', OLD.id)::text);
        ELSE
          PERFORM pg_notify('${n.channel}', json_build_object('type', TG_ARGV[0], 'id', NEW.id)::text);
        END IF;
        RETURN NULL;
      END
      $fn$`,
      `CREATE TRIGGER ${n.index("schedules_notify")} AFTER INSERT OR UPDATE OR DELETE ON ${n.schedules}
        FOR EACH ROW EXECUTE FUNCTION ${n.notifyFunction}('schedule')`,
      `CREATE TRIGGER ${n.index("control_notify")} AFTER INSERT OR UPDATE ON ${n.control}
        FOR EACH ROW EXECUTE FUNCTION ${n.notifyFunction}('control')`,
      `CREATE TRIGGER ${n.index("approvals_notify")} AFTER INSERT OR UPDATE OR DELETE ON ${n.approvals}
        FOR EACH ROW EXECUTE FUNCTION ${n.notifyFunction}('approval')`,
    ],
  },
  {
    version: 2,
    name: "retention",
    up: (n) => [
      // A schedule's own retention override, next to its other policies. Adding a nullable column
      // without a default is a catalog change only: no table rewrite, however many schedules.
      `ALTER TABLE ${n.schedules} ADD COLUMN retention jsonb`,
      // Retention's prune queries: the latest success of a schedule is one seek however long it
      // has been failing (partial, so it never competes with the fire path's indexes); open
      // orders of an approval and final orders by age are index lookups.
      `CREATE INDEX ${n.index("executions_success_idx")} ON ${n.executions} (schedule_id, scheduled_at)
        WHERE status = 'succeeded'`,
      `CREATE INDEX ${n.index("orders_approval_idx")} ON ${n.orders} (approval_id)`,
      `CREATE INDEX ${n.index("orders_status_time_idx")} ON ${n.orders} (status, updated_at)`,
    ],
  },
  {
    version: 3,
    name: "schedule state",
    up: (n) => [
      // One row per schedule, apart from its executions (which retention may delete); the
      // foreign key deletes it with its schedule, and a commit locks the schedule row (FOR KEY
      // SHARE) so a concurrent delete never leaves a state behind.
      `CREATE TABLE ${n.scheduleState} (
        schedule_id text COLLATE "C" PRIMARY KEY REFERENCES ${n.schedules} (id) ON DELETE CASCADE,
        value jsonb NOT NULL,
        revision integer NOT NULL,
        execution_id text NOT NULL,
        updated_at bigint NOT NULL,
        extra jsonb
      )`,
    ],
  },
  {
    version: 4,
    name: "approval groups",
    up: (n) => [
      `ALTER TABLE ${n.approvals} ADD COLUMN group_id text`,
      // A group's members, found (and locked, then decided at once) by group id.
      `CREATE INDEX ${n.index("approvals_group_idx")} ON ${n.approvals} (group_id, intent_index)
        WHERE group_id IS NOT NULL`,
    ],
  },
  {
    version: 5,
    name: "cluster membership",
    up: (n) => [
      // One row per live scheduler instance (Storage.heartbeat): a few rows, rewritten by beats.
      // Ids compare byte-wise, so the live list sorts as JavaScript sorts.
      `CREATE TABLE ${n.instances} (
        instance_id text COLLATE "C" PRIMARY KEY,
        expires_at bigint NOT NULL
      )`,
    ],
  },
  {
    version: 6,
    name: "notify revision",
    up: (n) => [
      // A schedule's notification carries its revision after the write (StorageChange.revision):
      // an instance that already holds it (the echo of its own write, or of a bulk create)
      // skips reading the schedule back. NEW.revision is only evaluated in the schedule branch
      // (PL/pgSQL resolves record fields when the statement runs), so the other tables share
      // the function as before.
      `CREATE OR REPLACE FUNCTION ${n.notifyFunction}() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_ARGV[0] = 'control' THEN
          PERFORM pg_notify('${n.channel}', '{"type":"control"}');
        ELSIF TG_OP = 'DELETE' THEN
          PERFORM pg_notify('${n.channel}', json_build_object('type', TG_ARGV[0], 'id', OLD.id)::text);
        ELSIF TG_ARGV[0] = 'schedule' THEN
          PERFORM pg_notify('${n.channel}',
            json_build_object('type', 'schedule', 'id', NEW.id, 'revision', NEW.revision)::text);
        ELSE
          PERFORM pg_notify('${n.channel}', json_build_object('type', TG_ARGV[0], 'id', NEW.id)::text);
        END IF;
        RETURN NULL;
      END
      $fn$`,
    ],
  },
];

/** The schema version this code writes and reads. */
export const PG_SCHEMA_VERSION = PG_MIGRATIONS[PG_MIGRATIONS.length - 1]?.version ?? 0;

const UNDEFINED_TABLE = "42P01";
const INVALID_SCHEMA = "3F000";

async function storedVersion(client: pg.PoolClient | pg.Pool, n: PgNames): Promise<number | null> {
  try {
    const res = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${n.migrations}`);
    return res.rows[0]?.v ?? 0;
  } catch (error) {
    const code = driverCode(error);
    if (code === UNDEFINED_TABLE || code === INVALID_SCHEMA) return null;
    throw error;
  }
}

function tooNew(n: PgNames, stored: number): StorageError {
  return new StorageError(
    "STORAGE_VERSION",
    `postgres: ${n.display("migrations")} is at schema version ${stored}, newer than this version of ` +
      `@tradecron/storage-sql knows (${PG_SCHEMA_VERSION}); upgrade the package on this instance`,
    { details: { table: n.display("migrations"), stored, supported: PG_SCHEMA_VERSION } },
  );
}

/**
 * Brings the schema to {@link PG_SCHEMA_VERSION}. The fast path (already current) is one query
 * without a lock. Otherwise: BEGIN, take the advisory lock, create the schema if missing, apply
 * what is missing, record each version, COMMIT. A concurrent migrator waits on the lock, then finds
 * the work done. A stored version newer than this code throws StorageError `STORAGE_VERSION`.
 */
export async function migratePostgres(pool: pg.Pool, n: PgNames): Promise<{ from: number; to: number }> {
  let current: number | null;
  let client: pg.PoolClient;
  try {
    current = await storedVersion(pool, n);
    if (current !== null && current > PG_SCHEMA_VERSION) throw tooNew(n, current);
    if (current === PG_SCHEMA_VERSION) return { from: current, to: current };
    client = await pool.connect();
  } catch (error) {
    throw wrapError("postgres", "reading the schema version", n.display("migrations"), error);
  }
  let broken: Error | undefined;
  // A checked-out client that loses its connection emits 'error'; without a listener that would
  // crash the host. The failing query rejects as well, which is how we handle it.
  const onError = (error: Error) => {
    broken = error;
  };
  client.on("error", onError);
  try {
    await client.query("BEGIN");
    try {
      // The lock is held until COMMIT/ROLLBACK (xact lock), and taken before anything else: even
      // `CREATE SCHEMA IF NOT EXISTS` fails with a unique violation when two sessions race on it.
      await client.query("SELECT pg_advisory_xact_lock($1, $2)", [...n.migrationLock]);
      const exists = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [n.schema]);
      if (exists.rowCount === 0) await client.query(`CREATE SCHEMA "${n.schema}"`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${n.migrations} (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const from = (await storedVersion(client, n)) ?? 0;
      if (from > PG_SCHEMA_VERSION) throw tooNew(n, from);
      for (const m of PG_MIGRATIONS) {
        if (m.version <= from) continue;
        for (const statement of m.up(n)) await client.query(statement);
        await client.query(`INSERT INTO ${n.migrations} (version, name) VALUES ($1, $2)`, [
          m.version,
          m.name,
        ]);
      }
      await client.query("COMMIT");
      return { from, to: PG_SCHEMA_VERSION };
    } catch (error) {
      await client.query("ROLLBACK").catch((e: Error) => {
        broken = e;
      });
      throw error;
    }
  } catch (error) {
    throw wrapError("postgres", "migrating the schema", n.display("migrations"), error);
  } finally {
    // A client whose connection or ROLLBACK failed is in an unknown state: destroy it, do not pool it.
    client.off("error", onError);
    client.release(broken);
  }
}
