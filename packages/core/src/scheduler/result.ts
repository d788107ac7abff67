/**
 * The stored forms of a run's outcome: the handler's result as JSON, an error as its message,
 * code and name; and the one storage error that means the schedule's state moved on under a run.
 */

import { ConflictError, errorCode, toError } from "../errors.js";
import type { ExecutionError, JsonValue } from "../storage/records.js";

/** Serialises a handler's return value for storage; never throws. */
export function toResult(value: unknown): JsonValue | null {
  if (value === undefined || value === null) return null;
  const t = typeof value;
  if (t === "string" || t === "boolean") return value as JsonValue;
  if (t === "number") return Number.isFinite(value) ? (value as number) : String(value);
  try {
    const json = JSON.stringify(value);
    return json === undefined ? null : (JSON.parse(json) as JsonValue);
  } catch (error) {
    return { unserializable: String(value), reason: toError(error).message };
  }
}

/** The stored form of an error. */
export function toExecutionError(error: unknown): ExecutionError {
  const e = toError(error);
  return { message: e.message, code: errorCode(e), name: e.name };
}

/** Thrown by the storage when the state a run read was replaced before it committed. */
export function isStateConflict(error: unknown): error is ConflictError {
  return error instanceof ConflictError && error.code === "REVISION_CONFLICT" && error.field === "state";
}
