/**
 * `@tradecron/storage-sql`: SqliteStorage (better-sqlite3) and PostgresStorage (pg) for tradecron.
 *
 * @packageDocumentation
 */

export { PG_SCHEMA_VERSION } from "./postgres/migrations.js";
export { PostgresStorage, type PostgresStorageOptions } from "./postgres/postgres-storage.js";
export { SQLITE_SCHEMA_VERSION } from "./sqlite/migrations.js";
export { SqliteStorage, type SqliteStorageOptions } from "./sqlite/sqlite-storage.js";
