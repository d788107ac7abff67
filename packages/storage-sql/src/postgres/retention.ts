/**
 * Retention on PostgreSQL (the rules: core's prune.ts): each call is one bounded DELETE on the
 * prune connection (see {@link PgConnection.pruneQuery}), named in statements.ts
 * (`postgresPruneStatements`, with `FOR UPDATE SKIP LOCKED`: concurrent pruners split the work and
 * never wait for a fire's row).
 */

import {
  checkLimit,
  checkPrune,
  type ExecutionPrune,
  PRUNABLE_APPROVAL_STATUSES,
  PRUNABLE_EXECUTION_STATUSES,
  PRUNABLE_ORDER_STATUSES,
  type RecordPrune,
} from "@tradecron/core";
import { Lane } from "../shared/lanes.js";
import type { PgConnection } from "./connection.js";
import { type PgNames, postgresPruneStatements } from "./statements.js";

/** The prunes of PostgresStorage. */
export class PgRetention {
  private prunes: ReturnType<typeof postgresPruneStatements> | null = null;

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

  constructor(
    private readonly conn: PgConnection,
    private readonly names: PgNames,
  ) {}

  /** Built on the first prune: a storage that never prunes never builds them. */
  private get pruneSql(): ReturnType<typeof postgresPruneStatements> {
    this.prunes ??= postgresPruneStatements(this.names, {
      executions: PRUNABLE_EXECUTION_STATUSES,
      approvals: PRUNABLE_APPROVAL_STATUSES,
      orders: PRUNABLE_ORDER_STATUSES,
    });
    return this.prunes;
  }

  async pruneExecutions(prune: ExecutionPrune): Promise<number> {
    checkPrune(prune);
    const cursor = this.pruneCursors.get(prune.scheduleId);
    const reusable =
      cursor !== undefined &&
      cursor.keepLast === prune.keepLast &&
      (cursor.before === undefined
        ? prune.before === undefined
        : prune.before === undefined || prune.before >= cursor.before);
    const res = await this.conn.pruneQuery<{ n: number; last: string | number | null }>(
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

  async executionScheduleIds(after: string | null, limit: number): Promise<string[]> {
    const res = await this.conn.query<{ id: string }>(
      "executionScheduleIds",
      "executions",
      this.pruneSql.executionScheduleIds,
      [after, checkLimit(limit)],
      Lane.Background,
    );
    return res.rows.map((r) => r.id);
  }

  pruneApprovals(prune: RecordPrune): Promise<number> {
    return this.pruneRecords("pruneApprovals", "approvals", this.pruneSql.pruneApprovals, prune);
  }

  pruneOrders(prune: RecordPrune): Promise<number> {
    return this.pruneRecords("pruneOrders", "orders", this.pruneSql.pruneOrders, prune);
  }

  pruneAudit(prune: RecordPrune): Promise<number> {
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
    const res = await this.conn.pruneQuery(operation, table, sql, [prune.before, prune.limit]);
    return res.rowCount ?? 0;
  }
}
