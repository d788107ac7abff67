/**
 * Group commit for SQLite. With `synchronous = FULL` every COMMIT waits for an fsync of the WAL;
 * one transaction per write caps a store at a few thousand writes per second, and a burst of
 * 10,000 due fires needs two writes each. So writes queue up for the rest of the event-loop turn
 * and commit together in one IMMEDIATE transaction: one fsync for the whole group. A caller's
 * promise settles only after that COMMIT returned, so an acknowledged write is durable.
 *
 * Each write runs in its own savepoint when it has several statements, so a failing write (a
 * duplicate id) is rolled back alone and the others of its group still commit.
 */

import type Database from "better-sqlite3";

interface Queued {
  fn: () => unknown;
  savepoint: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Options of one write. */
export interface WriteOptions {
  /** Run in a savepoint (writes of more than one statement that must be all or nothing). */
  savepoint?: boolean;
}

/** Runs write functions in shared IMMEDIATE transactions. */
export class GroupCommit {
  private queue: Queued[] = [];
  private scheduled = false;

  constructor(
    private readonly db: Database.Database,
    /** False: every write commits on its own, synchronously (still IMMEDIATE). */
    private readonly grouped: boolean,
    /** Turns a failure of BEGIN/COMMIT into the error every write of the group rejects with. */
    private readonly wrap: (error: unknown) => Error,
  ) {}

  /** Queues `fn` (synchronous SQL) to run in the next group; settles after its COMMIT. */
  run<T>(fn: () => T, options: WriteOptions = {}): Promise<T> {
    if (!this.grouped) {
      try {
        return Promise.resolve(this.db.transaction(fn).immediate());
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        fn,
        savepoint: options.savepoint ?? false,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Runs `fn` now in an IMMEDIATE transaction of its own whose COMMIT does not wait for the
   * fsync (`synchronous = NORMAL` for that one commit), after committing whatever is queued.
   * Only for writes whose loss on a power failure is harmless because they are redone, such as
   * a retention batch (the next pass deletes the same rows): the fsync, several ms and up to
   * 20 on a busy disk, is what such a batch held the event loop for. The WAL stays ordered, so
   * a later durable commit's fsync (or the checkpoint worker's) makes it durable too; a crash of
   * the process alone loses nothing (the pages are in the OS). `durableMode` is the connection's
   * own setting, restored after the commit; when it is NORMAL already this is a plain write.
   */
  runUnsynced<T>(fn: () => T, durableMode: "full" | "normal"): T {
    if (this.queue.length > 0) this.flush();
    if (durableMode === "normal") return this.db.transaction(fn).immediate();
    this.db.pragma("synchronous = NORMAL");
    try {
      return this.db.transaction(fn).immediate();
    } finally {
      this.db.pragma("synchronous = FULL");
    }
  }

  /** Commits everything queued now (also called by close()). */
  flush(): void {
    this.scheduled = false;
    const group = this.queue;
    if (group.length === 0) return;
    this.queue = [];
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.db
        .transaction(() => {
          for (const w of group) {
            try {
              const value = w.savepoint ? this.db.transaction(w.fn)() : w.fn();
              outcomes.push({ ok: true, value });
            } catch (error) {
              // Some errors (disk full, I/O) make SQLite roll the whole transaction back: then
              // nothing of this group can be committed, so fail the group as a whole.
              if (!this.db.inTransaction) throw error;
              outcomes.push({ ok: false, value: error });
            }
          }
        })
        .immediate();
    } catch (error) {
      const e = this.wrap(error);
      for (const w of group) w.reject(e);
      return;
    }
    group.forEach((w, i) => {
      const o = outcomes[i] as { ok: boolean; value: unknown };
      if (o.ok) w.resolve(o.value);
      else w.reject(o.value);
    });
  }

  /** Number of writes waiting for the next group. */
  get pending(): number {
    return this.queue.length;
  }
}
