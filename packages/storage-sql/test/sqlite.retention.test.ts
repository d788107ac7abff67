/**
 * SqliteStorage retention beyond the conformance suite: migration 2 upgrades a version-1 file in
 * place (its schedules keep their data and gain the `retention` column), a schedule's override
 * survives a reopen, and the prune statements are served by indexes (a batch never scans the
 * whole history).
 */

import { join } from "node:path";
import {
  PRUNABLE_APPROVAL_STATUSES,
  PRUNABLE_EXECUTION_STATUSES,
  PRUNABLE_ORDER_STATUSES,
} from "@tradecron/core";
import { makeSchedule } from "@tradecron/core/testing";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteStorage } from "../src/index.js";
import { SQLITE_MIGRATIONS } from "../src/sqlite/migrations.js";
import { sqliteNames, sqlitePruneStatements } from "../src/sqlite/statements.js";
import { useTempDir } from "./helpers/sqlite.js";

const tempDir = useTempDir();
const opened: SqliteStorage[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => {});
});

describe("SqliteStorage retention", () => {
  it("migrates a version-1 file to the current version in place, keeping its schedules", async () => {
    const path = join(tempDir(), "v1.db");
    const n = sqliteNames("");
    const db = new Database(path);
    db.exec(
      "CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT",
    );
    for (const statement of (SQLITE_MIGRATIONS[0] as (typeof SQLITE_MIGRATIONS)[0]).up(n)) db.exec(statement);
    db.prepare("INSERT INTO migrations VALUES (1, 'initial schema', 0)").run();
    // A schedule as a version-1 storage wrote it: no retention column, the rest of it in `extra`.
    const old = makeSchedule({ id: "old" });
    const j = JSON.stringify;
    db.prepare(
      `INSERT INTO schedules (id, name, job, description, tags, trigger, data, enabled, paused, misfire,
        overlap, retry, timeout_ms, fires_since, revision, created_at, updated_at, extra)
       VALUES (?, ?, ?, NULL, ?, ?, ?, 1, 0, ?, ?, ?, NULL, ?, 1, ?, ?, ?)`,
    ).run(
      old.id,
      old.name,
      old.job,
      j(old.tags),
      j(old.trigger),
      j(old.data),
      j(old.misfire),
      old.overlap,
      j(old.retry),
      old.firesSince,
      old.createdAt,
      old.updatedAt,
      j({
        requiresApproval: false,
        approvalExpiryMs: null,
        risk: null,
        requireBrokerConnection: false,
        marketHoursOnly: false,
        calendar: "XNYS",
      }),
    );
    db.close();
    const v1 = new SqliteStorage({ path });
    opened.push(v1);
    await v1.open();
    expect(await v1.getSchedule("old")).toEqual(old);
    const s2 = makeSchedule({ id: "own", retention: { maxAgeMs: 86_400_000, keepLast: 3 } });
    await v1.insertSchedule(s2);
    await v1.close();
    const again = new SqliteStorage({ path });
    opened.push(again);
    await again.open();
    expect(await again.getSchedule("own")).toEqual(s2);
    const check = new Database(path, { readonly: true });
    try {
      expect(check.prepare("SELECT version FROM migrations ORDER BY version").all()).toEqual(
        SQLITE_MIGRATIONS.map((m) => ({ version: m.version })),
      );
      const columns = check.prepare("SELECT name FROM pragma_table_info('schedules')").all() as {
        name: string;
      }[];
      expect(columns.map((c) => c.name)).toContain("retention");
      expect(check.prepare("SELECT retention FROM schedules WHERE id = 'own'").get()).toEqual({
        retention: JSON.stringify({ maxAgeMs: 86_400_000, keepLast: 3 }),
      });
    } finally {
      check.close();
    }
  });

  it("prunes through indexes: no statement scans a whole table", async () => {
    const s = new SqliteStorage({ path: join(tempDir(), "plan.db") });
    opened.push(s);
    await s.open();
    await s.close();
    const db = new Database(s.path, { readonly: true });
    try {
      const sql = sqlitePruneStatements(sqliteNames(""), {
        executions: PRUNABLE_EXECUTION_STATUSES,
        approvals: PRUNABLE_APPROVAL_STATUSES,
        orders: PRUNABLE_ORDER_STATUSES,
      });
      const plan = (text: string, params: unknown) =>
        (db.prepare(`EXPLAIN QUERY PLAN ${text}`).all(params as never) as { detail: string }[])
          .map((r) => r.detail)
          .join("\n");
      const executions = plan(sql.pruneExecutions, { schedule: "s", before: 1, keep: 5, limit: 10 });
      expect(executions).not.toMatch(/SCAN executions(?! USING)/);
      expect(executions).toMatch(/executions_success_idx/);
      expect(plan(sql.executionScheduleIds, { after: null, limit: 10 })).not.toMatch(
        /SCAN executions(?! USING)/,
      );
      const approvals = plan(sql.pruneApprovals, [1, 10]);
      expect(approvals).toMatch(/orders_approval_idx/);
      expect(plan(sql.pruneOrders, [1, 10])).toMatch(/orders_status_time_idx/);
    } finally {
      db.close();
    }
  });
});
