/**
 * Change notification of PostgresStorage: while anyone watches, one LISTEN connection (notify.ts)
 * reports every change of a schedule, the control row or an approval made by any instance, and
 * the snapshot read here covers what it missed while disconnected.
 */

import type { Logger, StorageChange } from "@tradecron/core";
import { WatcherSet } from "../shared/watchers.js";
import type { PgConnection } from "./connection.js";
import { type ChangeSnapshot, PgChangeListener } from "./notify.js";
import type { PgNames, PostgresStatements } from "./statements.js";

/** The watchers of PostgresStorage and the LISTEN connection that feeds them. */
export class PgWatchers {
  private readonly watchers: WatcherSet;
  private listener: PgChangeListener | null = null;
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly conn: PgConnection,
    private readonly sql: PostgresStatements,
    private readonly names: PgNames,
    private readonly pollIntervalMs: number,
    private readonly logger: Logger,
  ) {
    this.watchers = new WatcherSet("postgres", logger);
  }

  /** See {@link PostgresStorage.watch}: starts the listener with the first watcher, stops it after the last. */
  add(listener: (change: StorageChange) => void): () => void {
    if (this.conn.closed) return () => {};
    this.watchers.add(listener);
    if (!this.listener) {
      this.listener = new PgChangeListener({
        createClient: () => this.conn.createListenClient(),
        channel: this.names.channel,
        snapshot: () => this.snapshot(),
        onChange: (change) => this.watchers.dispatch(change),
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

  /** True while the LISTEN connection is up (false before the first `watch` and while reconnecting). */
  get listening(): boolean {
    return this.listener?.connected ?? false;
  }

  /** Forgets every watcher and stops the listener (close()). */
  close(): Promise<void> {
    this.watchers.clear();
    return this.stopListener();
  }

  private async snapshot(): Promise<ChangeSnapshot> {
    const [control, schedules, pending] = await Promise.all([
      this.conn.query<{ revision: number }>("watch", "control", this.sql.getControl),
      this.conn.query<{ id: string; revision: number }>("watch", "schedules", this.sql.scheduleRevisions),
      this.conn.query<{ id: string }>("watch", "approvals", this.sql.pendingApprovals),
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
}
