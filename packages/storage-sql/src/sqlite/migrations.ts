/**
 * SQLite schema migrations. Versions only ever get appended. They run inside BEGIN IMMEDIATE, which
 * takes the database's single write lock: two processes opening a new file at once migrate one
 * after the other (the second waits up to `busy_timeout`, then finds nothing to do).
 */

import { StorageError } from "@tradecron/core";
import type Database from "better-sqlite3";
import type { SqliteNames } from "./statements.js";

/** One schema version. */
export interface SqliteMigration {
  version: number;
  name: string;
  /** DDL, run in order inside the migration transaction. */
  up(n: SqliteNames): string[];
}

function changeTriggers(
  n: SqliteNames,
  table: string,
  type: string,
  idExpr: (row: string) => string,
): string[] {
  const t = (name: string) => n.index(`${table}_${name}_change`);
  const src = n.index(table);
  return [
    `CREATE TRIGGER ${t("insert")} AFTER INSERT ON ${src} BEGIN
      INSERT INTO ${n.changes} (type, subject_id) VALUES ('${type}', ${idExpr("NEW")}); END`,
    `CREATE TRIGGER ${t("update")} AFTER UPDATE ON ${src} BEGIN
      INSERT INTO ${n.changes} (type, subject_id) VALUES ('${type}', ${idExpr("NEW")}); END`,
    `CREATE TRIGGER ${t("delete")} AFTER DELETE ON ${src} BEGIN
      INSERT INTO ${n.changes} (type, subject_id) VALUES ('${type}', ${idExpr("OLD")}); END`,
  ];
}

/** Every migration, oldest first. Tables are STRICT: a value of the wrong type is an error, not a surprise. */
export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: "initial schema",
    up: (n) => [
      `CREATE TABLE ${n.schedules} (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        job TEXT NOT NULL,
        description TEXT,
        tags TEXT NOT NULL,
        trigger TEXT NOT NULL,
        data TEXT,
        enabled INTEGER NOT NULL,
        paused INTEGER NOT NULL,
        misfire TEXT NOT NULL,
        overlap TEXT NOT NULL,
        retry TEXT NOT NULL,
        timeout_ms INTEGER,
        fires_since INTEGER NOT NULL,
        revision INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        extra TEXT
      ) STRICT`,
      `CREATE TABLE ${n.control} (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        paused_all INTEGER NOT NULL,
        paused_at INTEGER,
        paused_by TEXT,
        reason TEXT,
        revision INTEGER NOT NULL,
        extra TEXT
      ) STRICT`,
      `INSERT INTO ${n.control} (id, paused_all, revision) VALUES (1, 0, 0)`,
      `CREATE TABLE ${n.executions} (
        id TEXT PRIMARY KEY,
        schedule_id TEXT NOT NULL,
        job TEXT NOT NULL,
        scheduled_at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        attempts INTEGER NOT NULL,
        claimed_at INTEGER NOT NULL,
        started_at INTEGER,
        ended_at INTEGER,
        instance_id TEXT NOT NULL,
        lease_expires_at INTEGER,
        actor TEXT,
        error TEXT,
        result TEXT,
        details TEXT,
        idempotency_key TEXT NOT NULL,
        extra TEXT
      ) STRICT`,
      // Exactly-once: one row per fire. Also serves per-schedule history and lastFireAt.
      `CREATE UNIQUE INDEX ${n.index("executions_fire_key")} ON ${n.executions} (schedule_id, scheduled_at)`,
      `CREATE INDEX ${n.index("executions_time_idx")} ON ${n.executions} (scheduled_at, id)`,
      `CREATE INDEX ${n.index("executions_status_idx")} ON ${n.executions} (status, scheduled_at, id)`,
      // Held fires only (a handful at any time): overlap checks and lease takeover (which scans
      // this small set) stay cheap however long the history grows.
      `CREATE INDEX ${n.index("executions_active_idx")} ON ${n.executions} (schedule_id, scheduled_at)
        WHERE status IN ('claimed', 'running')`,
      `CREATE TABLE ${n.approvals} (
        id TEXT PRIMARY KEY,
        schedule_id TEXT NOT NULL,
        execution_id TEXT NOT NULL,
        fire_key TEXT NOT NULL,
        intent_index INTEGER NOT NULL,
        client_order_id TEXT NOT NULL,
        intent TEXT,
        status TEXT NOT NULL,
        risk_level TEXT NOT NULL,
        rationale TEXT,
        confidence REAL,
        supporting_data TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        decided_at INTEGER,
        decided_by TEXT,
        decision_reason TEXT,
        broker_order_id TEXT,
        error TEXT,
        extra TEXT
      ) STRICT`,
      `CREATE INDEX ${n.index("approvals_time_idx")} ON ${n.approvals} (created_at, id)`,
      `CREATE INDEX ${n.index("approvals_status_idx")} ON ${n.approvals} (status, created_at, id)`,
      `CREATE INDEX ${n.index("approvals_schedule_idx")} ON ${n.approvals} (schedule_id, created_at, id)`,
      `CREATE INDEX ${n.index("approvals_execution_idx")} ON ${n.approvals} (execution_id)`,
      `CREATE INDEX ${n.index("approvals_expiry_idx")} ON ${n.approvals} (expires_at, id)
        WHERE status = 'pending'`,
      `CREATE TABLE ${n.orders} (
        client_order_id TEXT PRIMARY KEY,
        broker_order_id TEXT,
        broker TEXT NOT NULL,
        schedule_id TEXT,
        execution_id TEXT,
        approval_id TEXT,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        intent TEXT,
        status TEXT NOT NULL,
        filled_qty TEXT NOT NULL,
        avg_fill_price TEXT,
        submitted_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        error TEXT,
        extra TEXT
      ) STRICT`,
      `CREATE INDEX ${n.index("orders_time_idx")} ON ${n.orders} (submitted_at, client_order_id)`,
      `CREATE INDEX ${n.index("orders_schedule_idx")} ON ${n.orders} (schedule_id, submitted_at, client_order_id)`,
      `CREATE INDEX ${n.index("orders_symbol_idx")} ON ${n.orders} (symbol, submitted_at, client_order_id)`,
      `CREATE INDEX ${n.index("orders_execution_idx")} ON ${n.orders} (execution_id)`,
      `CREATE INDEX ${n.index("orders_broker_id_idx")} ON ${n.orders} (broker_order_id)`,
      // AUTOINCREMENT: a seq is never reused, even after the newest entries were rolled back.
      `CREATE TABLE ${n.audit} (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject_type TEXT NOT NULL,
        subject_id TEXT,
        details TEXT,
        extra TEXT
      ) STRICT`,
      `CREATE INDEX ${n.index("audit_actor_idx")} ON ${n.audit} (actor, seq)`,
      `CREATE INDEX ${n.index("audit_time_idx")} ON ${n.audit} (at)`,
      `CREATE INDEX ${n.index("audit_subject_idx")} ON ${n.audit} (subject_type, subject_id, seq)`,
      `CREATE INDEX ${n.index("audit_action_idx")} ON ${n.audit} (action, seq)`,
      // Change log for `watch`: triggers record every change of a schedule, the control row or an
      // approval, whoever wrote it (another connection, another process). One writer at a time
      // means seq order is commit order, so a watcher reading `seq > last` misses nothing.
      `CREATE TABLE ${n.changes} (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        type TEXT NOT NULL,
        subject_id TEXT
      ) STRICT`,
      // Keeps the log short; a watcher 10,000 changes behind resyncs from the tables.
      `CREATE TRIGGER ${n.index("changes_prune")} AFTER INSERT ON ${n.changes} BEGIN
        DELETE FROM ${n.changes} WHERE seq <= NEW.seq - 10000; END`,
      ...changeTriggers(n, "schedules", "schedule", (row) => `${row}.id`),
      ...changeTriggers(n, "control", "control", () => "NULL"),
      ...changeTriggers(n, "approvals", "approval", (row) => `${row}.id`),
    ],
  },
  {
    version: 2,
    name: "retention",
    up: (n) => [
      // A schedule's own retention override (JSON), next to its other policies.
      `ALTER TABLE ${n.schedules} ADD COLUMN retention TEXT`,
      // Retention's prune queries: the latest success of a schedule is one seek however long it
      // has been failing; open orders of an approval, final orders by age, are index lookups.
      // (Partial, so it never competes with the active-fires index on the fire path.)
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
      // One row per schedule, apart from its executions (which retention may delete).
      `CREATE TABLE ${n.scheduleState} (
        schedule_id TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        revision INTEGER NOT NULL,
        execution_id TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        extra TEXT
      ) STRICT`,
      // Deleting a schedule deletes its state in the same statement, whoever deletes it.
      `CREATE TRIGGER ${n.index("schedules_delete_state")} AFTER DELETE ON ${n.schedules} BEGIN
        DELETE FROM ${n.scheduleState} WHERE schedule_id = OLD.id; END`,
    ],
  },
  {
    version: 4,
    name: "approval groups",
    up: (n) => [
      `ALTER TABLE ${n.approvals} ADD COLUMN group_id TEXT`,
      // A group's members, found (and decided at once) by group id; single approvals stay out of it.
      `CREATE INDEX ${n.index("approvals_group_idx")} ON ${n.approvals} (group_id, intent_index)
        WHERE group_id IS NOT NULL`,
    ],
  },
  {
    version: 5,
    name: "cluster membership",
    up: (n) => [
      // One row per live scheduler instance (Storage.heartbeat): a few rows, rewritten by beats.
      `CREATE TABLE ${n.instances} (
        instance_id TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
      ) STRICT`,
    ],
  },
];

/** The schema version this code writes and reads. */
export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1]?.version ?? 0;

function storedVersion(db: Database.Database, n: SqliteNames): number | null {
  const exists = db
    .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?")
    .get(`${n.prefix}migrations`);
  if (!exists) return null;
  const row = db.prepare(`SELECT max(version) AS v FROM ${n.migrations}`).get() as { v: number | null };
  return row.v ?? 0;
}

function tooNew(path: string, n: SqliteNames, stored: number): StorageError {
  return new StorageError(
    "STORAGE_VERSION",
    `sqlite: ${path} (${n.display("migrations")}) is at schema version ${stored}, newer than this version ` +
      `of @tradecron/storage-sql knows (${SQLITE_SCHEMA_VERSION}); upgrade the package in this process`,
    { details: { path, table: n.display("migrations"), stored, supported: SQLITE_SCHEMA_VERSION } },
  );
}

/**
 * Brings the file to {@link SQLITE_SCHEMA_VERSION}: a read when it is current, otherwise one
 * IMMEDIATE transaction that applies what is missing and records each version. A stored version
 * newer than this code throws StorageError `STORAGE_VERSION`.
 */
export function migrateSqlite(
  db: Database.Database,
  n: SqliteNames,
  path: string,
): { from: number; to: number } {
  const current = storedVersion(db, n);
  if (current !== null && current > SQLITE_SCHEMA_VERSION) throw tooNew(path, n, current);
  if (current === SQLITE_SCHEMA_VERSION) return { from: current, to: current };
  const migrate = db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS ${n.migrations} (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    ) STRICT`);
    // Read again under the write lock: another process may have migrated while we waited.
    const from = storedVersion(db, n) ?? 0;
    if (from > SQLITE_SCHEMA_VERSION) throw tooNew(path, n, from);
    const record = db.prepare(`INSERT INTO ${n.migrations} (version, name, applied_at) VALUES (?, ?, ?)`);
    for (const m of SQLITE_MIGRATIONS) {
      if (m.version <= from) continue;
      for (const statement of m.up(n)) db.exec(statement);
      record.run(m.version, m.name, Date.now());
    }
    return { from, to: SQLITE_SCHEMA_VERSION };
  });
  return migrate.immediate();
}
