/**
 * The watchers of one storage, as both dialects keep them: `watch` adds them, the dialect's change
 * feed (PostgreSQL's LISTEN connection, SQLite's change-log poller) runs while there are any and
 * hands every change to {@link WatcherSet.dispatch}.
 */

import type { Logger, StorageChange } from "@tradecron/core";
import type { Backend } from "./errors.js";

/** A listener given to `watch`. */
export type Watcher = (change: StorageChange) => void;

/** The listeners of one storage's `watch`. */
export class WatcherSet {
  private readonly watchers = new Set<Watcher>();

  constructor(
    private readonly backend: Backend,
    private readonly logger: Logger,
  ) {}

  /** Number of listeners: the change feed runs while it is above 0. */
  get size(): number {
    return this.watchers.size;
  }

  /** Adds a listener. */
  add(watcher: Watcher): void {
    this.watchers.add(watcher);
  }

  /** Removes a listener. */
  delete(watcher: Watcher): void {
    this.watchers.delete(watcher);
  }

  /** Removes every listener (close()). */
  clear(): void {
    this.watchers.clear();
  }

  /**
   * Hands `change` to every listener, each its own copy (one listener cannot change what the next
   * sees). A listener that throws is logged: it must not stop the others or the feed.
   */
  dispatch(change: StorageChange): void {
    for (const watcher of [...this.watchers]) {
      try {
        watcher({ ...change });
      } catch (error) {
        this.logger.error({ err: error }, `${this.backend}: a storage watcher threw`);
      }
    }
  }
}
