/**
 * The options of {@link PostgresStorage} and their zod schema. The schema name and the prefix are
 * spliced into SQL text, so only safe identifiers pass (see `shared/options.ts`).
 */

import type { Logger } from "@tradecron/core";
import type pg from "pg";
import { z } from "zod";
import { loggerSchema, schemaNameSchema, tablePrefixSchema } from "../shared/options.js";
import type { PostgresStorage } from "./postgres-storage.js";

/** Options of {@link PostgresStorage}. Give `connectionString` or `pool`, not both. */
export interface PostgresStorageOptions {
  /** `postgres://user@host:5432/db`: the storage creates (and on close ends) its own pool. */
  connectionString?: string;
  /** An existing pg Pool to use; the storage never ends it. */
  pool?: pg.Pool;
  /** Schema of the tables (created if missing). Lower-case identifier; default `tradecron`. */
  schema?: string;
  /** Prefix of every table, index and trigger name, e.g. `tc_`. Default none. */
  tablePrefix?: string;
  /** Connections of the storage's own pool (with `connectionString`). Default 10. */
  poolSize?: number;
  /**
   * Connections of the storage's own pool opened by `open()` and kept open while idle (default: all
   * of `poolSize`). A burst of fires (everything due at 09:30:00) then does not wait for new
   * connections, each of which costs PostgreSQL a new backend process. 0: open on demand, close
   * after 10 s idle (pg's default).
   */
  warmConnections?: number;
  /**
   * Change notification through LISTEN/NOTIFY on a dedicated connection (default true). Set false
   * where LISTEN does not work (a PgBouncer in transaction mode): `watch` is then absent and the
   * scheduler polls storage every `syncIntervalMs` instead.
   */
  notify?: boolean;
  /** While the LISTEN connection is down, poll for changes this often (ms). Default 500. */
  pollIntervalMs?: number;
  /**
   * Send static statements as named prepared statements (parsed once per connection). Default true;
   * set false behind a transaction-mode connection pooler.
   */
  preparedStatements?: boolean;
  /** `application_name` of the storage's connections (visible in pg_stat_activity). Default `tradecron`. */
  applicationName?: string;
  /** Where listener reconnects and background failures are logged (pino-compatible). Default silent. */
  logger?: Logger;
}

const poolLike = z.custom<pg.Pool>(
  (v) =>
    typeof v === "object" &&
    v !== null &&
    typeof (v as pg.Pool).connect === "function" &&
    typeof (v as pg.Pool).query === "function",
  "must be a pg Pool",
);

/** The schema of {@link PostgresStorageOptions}, with the defaults filled in. */
export const postgresOptionsSchema = z
  .strictObject({
    connectionString: z.string().min(1).optional(),
    pool: poolLike.optional(),
    schema: schemaNameSchema.default("tradecron"),
    tablePrefix: tablePrefixSchema.default(""),
    poolSize: z.number().int().min(1).max(1000).default(10),
    warmConnections: z.number().int().min(0).max(1000).optional(),
    notify: z.boolean().default(true),
    pollIntervalMs: z.number().int().min(10).max(60_000).default(500),
    preparedStatements: z.boolean().default(true),
    applicationName: z.string().min(1).max(63).default("tradecron"),
    logger: loggerSchema.optional(),
  })
  .superRefine((o, ctx) => {
    if ((o.connectionString === undefined) === (o.pool === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [o.pool === undefined ? "connectionString" : "pool"],
        message: "give exactly one of connectionString and pool",
      });
    }
  });

/** {@link PostgresStorageOptions} as parsed: defaults filled in. */
export type PostgresOptions = z.output<typeof postgresOptionsSchema>;
