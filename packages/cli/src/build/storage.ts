/**
 * The storage a config names. The storage packages are imported on first use, so `tradecron --help`
 * and a file-storage service never load pg or better-sqlite3.
 */

import { type Logger, MemoryStorage, type Storage } from "@tradecron/core";
import type { ResolvedStorage } from "../config/validate.js";

/** Creates (does not open) the configured storage. */
export async function createStorage(config: ResolvedStorage, logger: Logger): Promise<Storage> {
  switch (config.type) {
    case "memory":
      return new MemoryStorage();
    case "file": {
      const { FileStorage } = await import("@tradecron/storage-fs");
      return new FileStorage({ dir: config.dir, logger });
    }
    case "sqlite": {
      const { SqliteStorage } = await import("@tradecron/storage-sql");
      return new SqliteStorage({ path: config.path, logger });
    }
    case "postgres": {
      const { PostgresStorage } = await import("@tradecron/storage-sql");
      return new PostgresStorage({
        connectionString: config.url,
        ...(config.schema === undefined ? {} : { schema: config.schema }),
        ...(config.tablePrefix === undefined ? {} : { tablePrefix: config.tablePrefix }),
        ...(config.poolSize === undefined ? {} : { poolSize: config.poolSize }),
        applicationName: "tradecron-cli",
        logger,
      });
    }
  }
}

/** The storage for logs and messages, with any password in a connection string masked. */
export function describeStorage(config: ResolvedStorage): string {
  switch (config.type) {
    case "memory":
      return "memory";
    case "file":
      return `file ${config.dir}`;
    case "sqlite":
      return `sqlite ${config.path}`;
    case "postgres":
      return `postgres ${redactUrl(config.url)}${config.schema ? ` schema ${config.schema}` : ""}`;
  }
}

/** A connection string without its password (`postgres://app:***@db/prod`). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    for (const key of [...u.searchParams.keys()]) {
      if (/pass|secret|token|key/i.test(key)) u.searchParams.set(key, "***");
    }
    return u.toString();
  } catch {
    return "(unparsable connection string)";
  }
}
