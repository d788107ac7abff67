/** The options of {@link SqliteStorage} and their zod schema. */

import type { Logger } from "@tradecron/core";
import { z } from "zod";
import { loggerSchema, tablePrefixSchema } from "../shared/options.js";
import type { SqliteStorage } from "./sqlite-storage.js";

/** Options of {@link SqliteStorage}. */
export interface SqliteStorageOptions {
  /** Path of the database file (created if missing). */
  path: string;
  /** Prefix of every table, index and trigger name, e.g. `tc_`. Default none. */
  tablePrefix?: string;
  /**
   * How long a write waits for another connection's (or process's) write lock before failing with
   * StorageError `STORAGE_LOCKED`. Default 5000 ms.
   */
  busyTimeoutMs?: number;
  /**
   * `full` (default): every commit is fsynced, acknowledged writes survive power loss.
   * `normal`: survives a crash of the process, may lose the last commits on power loss.
   */
  synchronous?: "full" | "normal";
  /**
   * Commit the writes of one event-loop turn together (one fsync). Default true. False: every
   * write is its own transaction.
   */
  groupCommit?: boolean;
  /**
   * How often `watch` polls the change log, in ms (default 250), or `false` for no `watch` (the
   * scheduler then polls storage every `syncIntervalMs` itself).
   */
  watchIntervalMs?: number | false;
  /** Where background failures (watch polling) are logged (pino-compatible). Default silent. */
  logger?: Logger;
}

/** The schema of {@link SqliteStorageOptions}, with the defaults filled in. */
export const sqliteOptionsSchema = z.strictObject({
  path: z.string().min(1),
  tablePrefix: tablePrefixSchema.default(""),
  busyTimeoutMs: z.number().int().min(0).max(600_000).default(5000),
  synchronous: z.enum(["full", "normal"]).default("full"),
  groupCommit: z.boolean().default(true),
  watchIntervalMs: z.union([z.number().int().min(10).max(60_000), z.literal(false)]).default(250),
  logger: loggerSchema.optional(),
});

/** {@link SqliteStorageOptions} as parsed: defaults filled in. */
export type SqliteOptions = z.output<typeof sqliteOptionsSchema>;
