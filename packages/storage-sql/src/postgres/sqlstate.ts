/**
 * The SQLSTATE codes PostgresStorage tells apart. Everything else is wrapped as it comes
 * (`shared/errors.ts`); these decide whether a failed batch is retried one by one and whether a
 * failure is a conflict.
 */

import { driverCode } from "../shared/errors.js";

/** unique_violation: an id (or a fire) that is taken. */
export const UNIQUE_VIOLATION = "23505";

/**
 * True when `error` is about the rows sent, not the connection: class 22 (data exception) and 23
 * (integrity constraint violation). One such row fails the whole statement of a batch.
 */
export function isDataError(error: unknown): boolean {
  const code = driverCode(error);
  return code !== null && (code.startsWith("22") || code.startsWith("23"));
}
