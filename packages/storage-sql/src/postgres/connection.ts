/**
 * The connections of one PostgresStorage: the pool (its own, or the host's), the priority lanes in
 * front of it, the prune connection and the settings of the LISTEN client; `open()` (migrate, then
 * warm up); and the one query every part sends its statements through (named prepared statements,
 * our type parsers, errors wrapped with the operation and the table).
 */

import { createHash } from "node:crypto";
import { type Logger, StorageError } from "@tradecron/core";
import pg from "pg";
import { wrapError } from "../shared/errors.js";
import { Lane, Lanes } from "../shared/lanes.js";
import { types } from "./codec.js";
import { migratePostgres } from "./migrations.js";
import type { PostgresOptions } from "./options.js";
import type { PgNames } from "./statements.js";

/** The pool, its lanes and the side connections of one PostgresStorage. */
export class PgConnection {
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly warm: number = 0;
  private readonly prepared: boolean;
  private readonly applicationName: string;
  private readonly statementNames = new Map<string, string>();
  private readonly lanes: Lanes;
  private opening: Promise<void> | null = null;
  private openedFlag = false;
  private closedFlag = false;
  private prunePool: pg.Pool | null = null;

  constructor(
    o: PostgresOptions,
    private readonly names: PgNames,
    private readonly logger: Logger,
  ) {
    this.prepared = o.preparedStatements;
    this.applicationName = o.applicationName;
    if (o.pool) {
      this.pool = o.pool;
      this.ownsPool = false;
    } else {
      this.warm = Math.min(o.warmConnections ?? o.poolSize, o.poolSize);
      this.pool = new pg.Pool({
        connectionString: o.connectionString,
        max: o.poolSize,
        // The warm connections never time out; the rest close after pg's default 10 s idle.
        min: this.warm,
        application_name: o.applicationName,
        keepAlive: true,
      });
      this.ownsPool = true;
      // An idle client that loses its connection emits 'error' on the pool; unhandled, that
      // would crash the host. The pool replaces the client on next use.
      this.pool.on("error", (error) => this.logger.warn({ err: error }, "postgres: idle connection lost"));
    }
    // As many queries in flight as the pool has connections; the rest wait in priority lanes.
    this.lanes = new Lanes(this.pool.options.max ?? 10);
  }

  /** True once `open()` has migrated the schema and warmed the pool up. */
  get opened(): boolean {
    return this.openedFlag;
  }

  /** True once `close()` began: `open()` and the prune connection refuse from then on. */
  get closed(): boolean {
    return this.closedFlag;
  }

  private statementName(text: string): string {
    let name = this.statementNames.get(text);
    if (name === undefined) {
      // Named by content: the same text on any connection maps to the same prepared statement,
      // and storages with other schemas or prefixes (other text) never collide on a shared pool.
      name = `tc_${createHash("sha1").update(text).digest("hex").slice(0, 24)}`;
      this.statementNames.set(text, name);
    }
    return name;
  }

  /**
   * Runs one statement on the pool in `lane` (opening the storage first if needed); a failure is
   * a StorageError naming `operation` and `table` (or the tradecron error it already was).
   */
  async query<R extends pg.QueryResultRow = Record<string, unknown>>(
    operation: string,
    table: string,
    text: string,
    values: unknown[] = [],
    lane: Lane = Lane.Normal,
  ): Promise<pg.QueryResult<R>> {
    if (!this.opened) await this.open();
    try {
      return await this.lanes.run(lane, () =>
        this.pool.query<R>({
          text,
          values,
          types,
          ...(this.prepared ? { name: this.statementName(text) } : {}),
        }),
      );
    } catch (error) {
      throw wrapError("postgres", operation, this.names.display(table), error);
    }
  }

  /** See {@link PostgresStorage.open}. */
  async open(): Promise<void> {
    if (this.closed) throw new StorageError("STORAGE", "postgres: the storage is closed");
    if (this.opened) return;
    this.opening ??= migratePostgres(this.pool, this.names)
      .then(() => this.warmUp())
      .then(() => {
        this.openedFlag = true;
      });
    try {
      await this.opening;
    } catch (error) {
      this.opening = null;
      throw error;
    }
  }

  /** Opens the warm connections: checked out together, so the pool has to open that many. */
  private async warmUp(): Promise<void> {
    if (this.warm === 0) return;
    const clients: pg.PoolClient[] = [];
    try {
      for (const result of await Promise.allSettled(
        Array.from({ length: this.warm }, () => this.pool.connect()),
      )) {
        if (result.status === "fulfilled") clients.push(result.value);
      }
    } finally {
      for (const client of clients) client.release();
    }
  }

  /** Marks the storage closed; false when it was closed already. */
  markClosed(): boolean {
    if (this.closedFlag) return false;
    this.closedFlag = true;
    return true;
  }

  /** Ends the prune connection and, when the storage created its pool, the pool (close()). */
  async end(): Promise<void> {
    await this.endPrunePool();
    if (this.ownsPool) await this.pool.end().catch(() => {});
  }

  /**
   * Runs a prune statement on the storage's prune connection: a pool of its own (one connection,
   * closed after 10 s idle) when the storage owns its pool, so a DELETE never takes a connection
   * a claim is waiting for; on a pool the host passed, the background lane of that pool.
   */
  async pruneQuery<R extends pg.QueryResultRow = Record<string, unknown>>(
    operation: string,
    table: string,
    text: string,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    if (!this.ownsPool) return this.query<R>(operation, table, text, values, Lane.Background);
    if (!this.opened) await this.open();
    if (this.closed)
      throw wrapError("postgres", operation, this.names.display(table), new Error("storage is closed"));
    this.prunePool ??= this.makePrunePool();
    try {
      return await this.prunePool.query<R>({
        text,
        values,
        types,
        ...(this.prepared ? { name: this.statementName(text) } : {}),
      });
    } catch (error) {
      throw wrapError("postgres", operation, this.names.display(table), error);
    }
  }

  private makePrunePool(): pg.Pool {
    const o = this.pool.options;
    const pool = new pg.Pool({
      ...(o.connectionString !== undefined && { connectionString: o.connectionString }),
      max: 1,
      application_name: `${this.applicationName}-prune`.slice(0, 63),
      keepAlive: true,
    });
    pool.on("error", (error) => this.logger.warn({ err: error }, "postgres: idle prune connection lost"));
    return pool;
  }

  private async endPrunePool(): Promise<void> {
    const pool = this.prunePool;
    this.prunePool = null;
    await pool?.end().catch(() => {});
  }

  /** A new, unconnected client for the dedicated LISTEN connection, configured like the pool. */
  createListenClient(): pg.Client {
    const base = this.ownsPool ? {} : { ...this.pool.options };
    return new pg.Client({
      ...base,
      ...(this.ownsPool ? { connectionString: this.pool.options.connectionString } : {}),
      application_name: `${this.applicationName}:listen`,
      keepAlive: true,
    });
  }
}
