/**
 * Reads of executions on PostgreSQL: by id, by fire, keyset-paginated history, the last own fire
 * and the per-schedule summaries; and the overlap check `activeExecutions`. The two a burst of
 * fires asks once per fire (`activeExecutions`, `lastFireAt`) share one statement per event-loop
 * turn.
 */

import {
  checkLimit,
  type ExecutionQuery,
  type ExecutionRecord,
  type Page,
  type ScheduleSummary,
} from "@tradecron/core";
import { Batcher } from "../shared/batcher.js";
import { Lane } from "../shared/lanes.js";
import { summaryOf } from "../shared/summaries.js";
import { toPage } from "../shared/where.js";
import { decodeExecution } from "./codec.js";
import type { PgConnection } from "./connection.js";
import { listExecutionsSql, type PgNames, type PostgresStatements } from "./statements.js";

/** Execution reads of PostgresStorage. */
export class PgExecutions {
  private readonly actives: Batcher<string, ExecutionRecord[]>;
  private readonly lastFires: Batcher<string, number | null>;

  constructor(
    private readonly conn: PgConnection,
    private readonly sql: PostgresStatements,
    private readonly names: PgNames,
  ) {
    this.actives = new Batcher((batch) => this.runActive(batch));
    this.lastFires = new Batcher((batch) => this.runLastFires(batch));
  }

  async getExecution(id: string): Promise<ExecutionRecord | null> {
    const res = await this.conn.query("getExecution", "executions", this.sql.getExecution, [id]);
    const row = res.rows[0];
    return row ? decodeExecution(row) : null;
  }

  async findExecution(scheduleId: string, scheduledAt: number): Promise<ExecutionRecord | null> {
    const res = await this.conn.query("findExecution", "executions", this.sql.findExecution, [
      scheduleId,
      scheduledAt,
    ]);
    const row = res.rows[0];
    return row ? decodeExecution(row) : null;
  }

  async listExecutions(query: ExecutionQuery): Promise<Page<ExecutionRecord>> {
    const limit = checkLimit(query.limit);
    const statement = listExecutionsSql(this.names, query, limit);
    const res = await this.conn.query("listExecutions", "executions", statement.text, statement.values);
    return toPage(
      res.rows.map(decodeExecution),
      limit,
      (e) => e.scheduledAt,
      (e) => e.id,
    );
  }

  async lastFireAt(scheduleId: string): Promise<number | null> {
    if (!this.conn.opened) await this.conn.open();
    return this.lastFires.submit(scheduleId);
  }

  async scheduleSummaries(scheduleIds: readonly string[]): Promise<ScheduleSummary[]> {
    if (scheduleIds.length === 0) return [];
    const res = await this.conn.query("scheduleSummaries", "executions", this.sql.scheduleSummaries, [
      [...scheduleIds],
    ]);
    return res.rows.map(summaryOf);
  }

  /** The last own fire of a batch of schedules (a scheduler starting with many schedules asks for all). */
  private async runLastFires(batch: string[]): Promise<(number | null)[]> {
    const res = await this.conn.query<{ schedule_id: string; scheduled_at: number | null }>(
      "lastFireAt",
      "executions",
      this.sql.lastFireAt,
      [[...new Set(batch)]],
    );
    const last = new Map(res.rows.map((r) => [r.schedule_id, r.scheduled_at]));
    return batch.map((id) => last.get(id) ?? null);
  }

  async activeExecutions(scheduleId: string): Promise<ExecutionRecord[]> {
    if (!this.conn.opened) await this.conn.open();
    return this.actives.submit(scheduleId);
  }

  /** The active executions of a batch of schedules, in the urgent lane: the answer lets a handler start. */
  private async runActive(batch: string[]): Promise<ExecutionRecord[][]> {
    const res = await this.conn.query(
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
    return batch.map((id) => (bySchedule.get(id) ?? []).map(decodeExecution));
  }
}
