/**
 * Change notification of SqliteStorage. SQLite cannot push across processes: triggers append every
 * change to the `changes` log, and while anyone watches (and the file is open) a poller (watch.ts)
 * reads what is new every `watchIntervalMs`.
 */

import type { Logger, StorageChange } from "@tradecron/core";
import { WatcherSet } from "../shared/watchers.js";
import type { SqliteConnection } from "./connection.js";
import type { SqliteStatements } from "./statements.js";
import { type ChangeRow, SqliteChangePoller } from "./watch.js";

/** The watchers of SqliteStorage and the change-log poller that feeds them. */
export class SqliteWatchers {
  private readonly watchers: WatcherSet;
  private poller: SqliteChangePoller | null = null;

  constructor(
    private readonly conn: SqliteConnection,
    private readonly sql: SqliteStatements,
    private readonly path: string,
    private readonly intervalMs: number | false,
    private readonly logger: Logger,
  ) {
    this.watchers = new WatcherSet("sqlite", logger);
  }

  /** See {@link SqliteStorage.watch}: polls while there are watchers. */
  add(listener: (change: StorageChange) => void): () => void {
    if (this.conn.closed) return () => {};
    this.watchers.add(listener);
    this.ensurePoller();
    return () => {
      this.watchers.delete(listener);
      if (this.watchers.size === 0) this.stopPolling();
    };
  }

  /** Starts polling the change log once the file is open and someone watches. */
  ensurePoller(): void {
    if (!this.poller && this.conn.isOpen && this.watchers.size > 0) {
      this.poller = new SqliteChangePoller(
        {
          bounds: () => this.conn.get(this.sql.changesBounds) as { lo: number; hi: number },
          since: (seq) => this.conn.all(this.sql.changesSince, seq) as unknown as ChangeRow[],
          scheduleIds: () => this.conn.all(this.sql.scheduleIds).map((r) => r.id as string),
        },
        this.intervalMs as number,
        (change) => this.watchers.dispatch(change),
        (error) => this.logger.warn({ err: error }, `sqlite: polling the change log of ${this.path} failed`),
      );
      this.poller.start();
    }
  }

  /** Stops polling. */
  stopPolling(): void {
    this.poller?.stop();
    this.poller = null;
  }

  /** Forgets every watcher (close()). */
  clear(): void {
    this.watchers.clear();
  }
}
