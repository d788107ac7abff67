/**
 * The file of one SqliteStorage: `open()` (WAL, `synchronous`, `busy_timeout`, migrations), the
 * prepared-statement cache, and the two ways every part touches the file: a read runs now, a write
 * joins the next group commit (group-commit.ts). Driver errors come out typed, naming the file, the
 * operation and the table.
 */

import { StorageError } from "@tradecron/core";
import Database from "better-sqlite3";
import { driverCode, wrapError } from "../shared/errors.js";
import type { Row } from "./codec.js";
import { GroupCommit } from "./group-commit.js";
import { migrateSqlite } from "./migrations.js";
import type { SqliteOptions } from "./options.js";
import type { SqliteNames } from "./statements.js";

/** The database connection, its statements and its group commit, for one SqliteStorage. */
export class SqliteConnection {
  private db: Database.Database | null = null;
  private writes: GroupCommit | null = null;
  private closedFlag = false;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly shaped = new Map<string, Database.Statement>();

  constructor(
    private readonly options: SqliteOptions,
    private readonly names: SqliteNames,
  ) {}

  private get path(): string {
    return this.options.path;
  }

  /** True once `close()` began. */
  get closed(): boolean {
    return this.closedFlag;
  }

  /** True while the file is open. */
  get isOpen(): boolean {
    return this.db !== null;
  }

  /** Writes queued for the next group commit. */
  get pendingWrites(): number {
    return this.writes?.pending ?? 0;
  }

  /** Maps a driver error to a typed one naming the file, the operation and the table. */
  wrap(operation: string, table: string | null, error: unknown): Error {
    const code = driverCode(error);
    const where = table ? this.names.display(table) : null;
    if (code === "SQLITE_BUSY" || code?.startsWith("SQLITE_BUSY_") || code === "SQLITE_LOCKED") {
      return wrapError(
        "sqlite",
        `${operation} (${this.path} stayed locked by another connection for more than ${this.options.busyTimeoutMs} ms)`,
        where,
        error,
        "STORAGE_LOCKED",
      );
    }
    if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT" || code?.startsWith("SQLITE_CORRUPT_")) {
      return wrapError(
        "sqlite",
        `${operation} (${this.path} is not a usable SQLite database)`,
        where,
        error,
        "STORAGE_CORRUPT",
      );
    }
    return wrapError("sqlite", `${operation} (${this.path})`, where, error);
  }

  private connection(): Database.Database {
    if (this.db) return this.db;
    if (this.closed) throw new StorageError("STORAGE", `sqlite: the storage on ${this.path} is closed`);
    throw new StorageError("STORAGE", `sqlite: open() the storage on ${this.path} first`);
  }

  /** `text` prepared once per connection. */
  prepare(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.connection().prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  /**
   * A statement whose text is built from a shape (an update's set of columns), prepared once per
   * `key`, so the text is not built again for every call of a shape seen before.
   */
  prepareShaped(key: string, text: () => string): Database.Statement {
    let statement = this.shaped.get(key);
    if (!statement) {
      statement = this.prepare(text());
      this.shaped.set(key, statement);
    }
    return statement;
  }

  /** The first row of `text`, if any. */
  get(text: string, ...params: unknown[]): Row | undefined {
    return this.prepare(text).get(...params) as Row | undefined;
  }

  /** Every row of `text`. */
  all(text: string, ...params: unknown[]): Row[] {
    return this.prepare(text).all(...params) as Row[];
  }

  /** Runs a read now. */
  read<T>(operation: string, table: string, fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(this.wrap(operation, table, error));
    }
  }

  /** Queues a write for the next group commit; settles once committed. */
  async write<T>(operation: string, table: string, fn: () => T, savepoint = false): Promise<T> {
    if (!this.writes) this.connection();
    try {
      return await (this.writes as GroupCommit).run(fn, { savepoint });
    } catch (error) {
      throw this.wrap(operation, table, error);
    }
  }

  /**
   * Runs a write now in a transaction of its own, committed without waiting for the fsync (see
   * GroupCommit.runUnsynced): for retention only, whose lost batch the next pass deletes again.
   */
  writeUnsynced<T>(operation: string, table: string, fn: () => T): T {
    if (!this.writes) this.connection();
    try {
      return (this.writes as GroupCommit).runUnsynced(fn, this.options.synchronous);
    } catch (error) {
      throw this.wrap(operation, table, error);
    }
  }

  /** See {@link SqliteStorage.open}. */
  async open(): Promise<void> {
    if (this.db) return;
    if (this.closed) throw new StorageError("STORAGE", `sqlite: the storage on ${this.path} is closed`);
    let db: Database.Database | null = null;
    try {
      db = new Database(this.path, { timeout: this.options.busyTimeoutMs });
      const mode = await this.switchToWal(db);
      if (mode !== "wal" && this.path !== ":memory:" && !this.path.startsWith("file::memory:")) {
        throw new StorageError(
          "STORAGE",
          `sqlite: ${this.path} cannot use WAL journaling (got '${String(mode)}')`,
          {
            details: { path: this.path },
          },
        );
      }
      db.pragma(`synchronous = ${this.options.synchronous.toUpperCase()}`);
      migrateSqlite(db, this.names, this.path);
    } catch (error) {
      db?.close();
      throw this.wrap("opening the database", null, error);
    }
    this.db = db;
    this.writes = new GroupCommit(db, this.options.groupCommit, (error) =>
      this.wrap("committing a group of writes", null, error),
    );
  }

  /**
   * Sets WAL journaling (a persistent property of the file). Switching needs an exclusive lock for
   * a moment, and SQLite answers SQLITE_BUSY at once, without its busy handler, when two processes
   * open a new file together; so we retry with a short jittered backoff for up to `busyTimeoutMs`.
   */
  private async switchToWal(db: Database.Database): Promise<unknown> {
    const deadline = Date.now() + this.options.busyTimeoutMs;
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      try {
        const current = db.pragma("journal_mode", { simple: true });
        return current === "wal" ? current : db.pragma("journal_mode = WAL", { simple: true });
      } catch (error) {
        if (driverCode(error) !== "SQLITE_BUSY" || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay + Math.random() * delay));
      }
    }
  }

  /** Marks the storage closed; false when it was closed already. */
  markClosed(): boolean {
    if (this.closedFlag) return false;
    this.closedFlag = true;
    return true;
  }

  /** Commits the queued writes and closes the file (close()). */
  closeFile(): void {
    this.writes?.flush();
    this.statements.clear();
    this.shaped.clear();
    this.db?.close();
    this.db = null;
    this.writes = null;
  }
}
