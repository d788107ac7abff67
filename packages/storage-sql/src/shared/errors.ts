/**
 * Turning driver errors into tradecron's typed errors. Messages start with the backend
 * (`postgres:` / `sqlite:`), name the operation and the table, and keep the driver error as `cause`.
 */

import { type ErrorCode, StorageError, TradecronError } from "@tradecron/core";

/** Which backend raised an error. */
export type Backend = "postgres" | "sqlite";

/** The `code` of a driver error (pg SQLSTATE, better-sqlite3 SQLITE_*, Node's errno name), if any. */
export function driverCode(error: unknown): string | null {
  if (error && typeof error === "object" && "code" in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === "string") return code;
  }
  return null;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) {
    // pg's AggregateError for "every address refused" has an empty message.
    if (error.message) return error.message;
    const inner = (error as { errors?: unknown[] }).errors?.[0];
    if (inner instanceof Error) return inner.message;
    return error.name;
  }
  return String(error);
}

/**
 * Wraps `error` (thrown while running `operation` on `table`) in a StorageError, unless it is a
 * tradecron error already (a ConflictError raised on purpose must keep its type).
 */
export function wrapError(
  backend: Backend,
  operation: string,
  table: string | null,
  error: unknown,
  code: ErrorCode = "STORAGE",
): TradecronError {
  if (error instanceof TradecronError) return error;
  const where = table ? ` on ${table}` : "";
  const sqlState = driverCode(error);
  return new StorageError(code, `${backend}: ${operation}${where} failed: ${messageOf(error)}`, {
    cause: error,
    details: {
      backend,
      operation,
      ...(table ? { table } : {}),
      ...(sqlState ? { driverCode: sqlState } : {}),
    },
  });
}
