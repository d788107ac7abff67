/**
 * Reads of executions in SQLite: by id, by fire, keyset-paginated history, the last own fire, the
 * per-schedule summaries, and the overlap check `activeExecutions`. Each runs now, on the event
 * loop (better-sqlite3 is synchronous).
 */

import {
  checkLimit,
  type ExecutionQuery,
  type ExecutionRecord,
  type Page,
  type ScheduleSummary,
} from "@tradecron/core";
import { summaryOf } from "../shared/summaries.js";
import { toPage } from "../shared/where.js";
import { decodeExecution } from "./codec.js";
import type { SqliteConnection } from "./connection.js";
import { listExecutionsSql, type SqliteNames, type SqliteStatements } from "./statements.js";

/** Execution reads of SqliteStorage. */
export class SqliteExecutions {
  constructor(
    private readonly conn: SqliteConnection,
    private readonly sql: SqliteStatements,
    private readonly names: SqliteNames,
  ) {}

  activeExecutions(scheduleId: string): Promise<ExecutionRecord[]> {
    return this.conn.read("activeExecutions", "executions", () =>
      this.conn
        .all(this.sql.activeExecutions, scheduleId)
        .map(decodeExecution)
        .sort((a, b) => a.scheduledAt - b.scheduledAt),
    );
  }

  getExecution(id: string): Promise<ExecutionRecord | null> {
    return this.conn.read("getExecution", "executions", () => {
      const row = this.conn.get(this.sql.getExecution, id);
      return row ? decodeExecution(row) : null;
    });
  }

  findExecution(scheduleId: string, scheduledAt: number): Promise<ExecutionRecord | null> {
    return this.conn.read("findExecution", "executions", () => {
      const row = this.conn.get(this.sql.findExecution, scheduleId, scheduledAt);
      return row ? decodeExecution(row) : null;
    });
  }

  listExecutions(query: ExecutionQuery): Promise<Page<ExecutionRecord>> {
    return this.conn.read("listExecutions", "executions", () => {
      const limit = checkLimit(query.limit);
      const s = listExecutionsSql(this.names, query, limit);
      return toPage(
        this.conn.all(s.text, ...s.values).map(decodeExecution),
        limit,
        (e) => e.scheduledAt,
        (e) => e.id,
      );
    });
  }

  lastFireAt(scheduleId: string): Promise<number | null> {
    return this.conn.read("lastFireAt", "executions", () => {
      const row = this.conn.get(this.sql.lastFireAt, scheduleId) as { scheduled_at: number } | undefined;
      return row?.scheduled_at ?? null;
    });
  }

  scheduleSummaries(scheduleIds: readonly string[]): Promise<ScheduleSummary[]> {
    if (scheduleIds.length === 0) return Promise.resolve([]);
    return this.conn.read("scheduleSummaries", "executions", () =>
      this.conn.all(this.sql.scheduleSummaries, JSON.stringify(scheduleIds)).map(summaryOf),
    );
  }
}
