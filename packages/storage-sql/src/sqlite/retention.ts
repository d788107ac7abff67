/**
 * Retention in SQLite (the rules: core's prune.ts): each call is one bounded DELETE named in
 * statements.ts (`sqlitePruneStatements`), committed in a transaction of its own after the writes
 * queued before it, without the fsync; then the checkpoint worker (wal-checkpointer.ts) syncs and
 * folds the WAL off the event loop.
 */

import {
  checkLimit,
  checkPrune,
  type ExecutionPrune,
  type Logger,
  PRUNABLE_APPROVAL_STATUSES,
  PRUNABLE_EXECUTION_STATUSES,
  PRUNABLE_ORDER_STATUSES,
  type RecordPrune,
} from "@tradecron/core";
import type { SqliteConnection } from "./connection.js";
import { type SqliteNames, sqlitePruneStatements } from "./statements.js";
import { WalCheckpointer } from "./wal-checkpointer.js";

/** The most event-loop turns a prune batch waits for other queued writes to commit first. */
const PRUNE_YIELD_TURNS = 3;

/** True unless `path` is an in-memory or temporary database (they have no WAL file to checkpoint). */
function hasWalFile(path: string): boolean {
  return path !== "" && path !== ":memory:" && !path.startsWith("file:");
}

/** The prunes of SqliteStorage and the WAL checkpoints after them. */
export class SqliteRetention {
  private readonly pruneSql: ReturnType<typeof sqlitePruneStatements>;
  /** Checkpoints the WAL off the event loop while retention prunes (see wal-checkpointer.ts). */
  private checkpointer: WalCheckpointer | null = null;

  constructor(
    private readonly conn: SqliteConnection,
    names: SqliteNames,
    private readonly path: string,
    private readonly logger: Logger,
  ) {
    this.pruneSql = sqlitePruneStatements(names, {
      executions: PRUNABLE_EXECUTION_STATUSES,
      approvals: PRUNABLE_APPROVAL_STATUSES,
      orders: PRUNABLE_ORDER_STATUSES,
    });
  }

  async pruneExecutions(prune: ExecutionPrune): Promise<number> {
    checkPrune(prune);
    return this.pruneBatch("pruneExecutions", "executions", () =>
      this.conn.prepare(this.pruneSql.pruneExecutions).run({
        schedule: prune.scheduleId,
        before: prune.before ?? null,
        keep: prune.keepLast ? prune.keepLast : null,
        limit: prune.limit,
      }),
    );
  }

  executionScheduleIds(after: string | null, limit: number): Promise<string[]> {
    return this.conn.read("executionScheduleIds", "executions", () =>
      this.conn
        .all(this.pruneSql.executionScheduleIds, { after, limit: checkLimit(limit) })
        .map((r) => r.id as string),
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

  /** Ends the checkpoint worker (close()). */
  async close(): Promise<void> {
    await this.checkpointer?.close();
    this.checkpointer = null;
  }

  /** A prune of approvals, orders or audit entries: `sql` takes (before, limit). */
  private async pruneRecords(
    operation: string,
    table: string,
    sql: string,
    prune: RecordPrune,
  ): Promise<number> {
    checkPrune(prune);
    return this.pruneBatch(operation, table, () => this.conn.prepare(sql).run(prune.before, prune.limit));
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
    const deleted = this.conn.writeUnsynced(operation, table, () => remove().changes);
    return this.pruned(deleted);
  }

  /**
   * Before a prune batch joins the group commit: waits while other writes are queued (at most
   * {@link PRUNE_YIELD_TURNS} event-loop turns), so a batch does not go into the transaction of
   * a fire's claim or start and make it wait for the DELETE. Under a load that always has writes
   * queued it joins them after that.
   */
  private async afterQueuedWrites(): Promise<void> {
    for (let turn = 0; turn < PRUNE_YIELD_TURNS && this.conn.pendingWrites > 0; turn++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /**
   * After a prune batch committed: asks the checkpoint worker to fold the WAL into the file, so
   * the next commits on the event loop (fires' claims) do not pay for the pages it wrote.
   * Returns `deleted`.
   */
  private pruned(deleted: number): number {
    if (deleted > 0 && !this.conn.closed && this.conn.isOpen && hasWalFile(this.path)) {
      this.checkpointer ??= new WalCheckpointer({ path: this.path, logger: this.logger });
      this.checkpointer.request();
    }
    return deleted;
  }
}
