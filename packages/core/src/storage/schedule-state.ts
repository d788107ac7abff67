/**
 * Persisted schedule state: one JSON value per schedule that a handler reads as `ctx.state` and
 * replaces with `ctx.setState(next)`. A storage keeps it in a record of its own (not inside an
 * execution, which retention may delete) and writes it in the same atomic write that records the
 * run's `succeeded` outcome (see {@link StateCommit} and `Storage.updateExecution`).
 */

import { StorageError } from "../errors.js";
import { jsonProblem, MAX_INSTANT } from "../validation.js";
import type { JsonValue } from "./records.js";

/** The committed state of one schedule, as a storage keeps it. */
export interface ScheduleStateRecord {
  scheduleId: string;
  /** The value the last committing run staged with `ctx.setState` (plain JSON, at most 64 KiB). */
  value: JsonValue;
  /** 1 for the first commit, +1 for every commit after it. */
  revision: number;
  /** The execution whose succeeded outcome committed it. */
  executionId: string;
  /** When it was committed (the run's `endedAt`, epoch ms). */
  updatedAt: number;
}

/**
 * A state to commit with a run's outcome, handed to `Storage.updateExecution`. The storage writes
 * it only together with the patch (both or neither), and only if the stored state is still at
 * `expectedRevision` (0: none yet): otherwise it writes nothing and throws ConflictError
 * `REVISION_CONFLICT` (field `state`). If the schedule no longer exists, the patch is written
 * and the state is not.
 */
export interface StateCommit {
  value: JsonValue;
  /** The revision the run read (0 when the schedule had no state). */
  expectedRevision: number;
  /** The commit instant (the run's `endedAt`). */
  at: number;
}

/** The record a {@link StateCommit} of execution `executionId` becomes. */
export function committedState(
  scheduleId: string,
  executionId: string,
  commit: StateCommit,
): ScheduleStateRecord {
  return {
    scheduleId,
    value: commit.value,
    revision: commit.expectedRevision + 1,
    executionId,
    updatedAt: commit.at,
  };
}

/** Null if `raw` is a usable state record of `scheduleId`, else why not. */
export function storedScheduleStateProblem(raw: unknown, scheduleId: string): string | null {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return "not an object";
  const r = raw as Record<string, unknown>;
  if (r.scheduleId !== scheduleId)
    return `scheduleId is ${JSON.stringify(r.scheduleId) ?? "missing"}, not '${scheduleId}'`;
  if (typeof r.revision !== "number" || !Number.isInteger(r.revision) || r.revision < 1)
    return `revision is ${JSON.stringify(r.revision) ?? "missing"}, not an integer >= 1`;
  if (typeof r.executionId !== "string" || r.executionId.length === 0)
    return `executionId is ${JSON.stringify(r.executionId) ?? "missing"}, not a non-empty string`;
  if (typeof r.updatedAt !== "number" || !Number.isFinite(r.updatedAt) || Math.abs(r.updatedAt) > MAX_INSTANT)
    return `updatedAt is ${JSON.stringify(r.updatedAt) ?? "missing"}, not an instant`;
  if (!("value" in r)) return "value is missing";
  const problem = jsonProblem(r.value);
  if (problem) {
    const at = problem.path.length > 0 ? `value.${problem.path.join(".")}` : "value";
    return `${at} ${problem.message}`;
  }
  return null;
}

/**
 * `raw` as the state record of `scheduleId`, or StorageError `STORAGE_CORRUPT` naming it and why:
 * a state edited by hand is never handed to a handler as if it were the committed one.
 */
export function checkStoredScheduleState(
  storage: string,
  scheduleId: string,
  raw: unknown,
): ScheduleStateRecord {
  const problem = storedScheduleStateProblem(raw, scheduleId);
  if (problem) {
    throw new StorageError(
      "STORAGE_CORRUPT",
      `${storage}: the state of schedule '${scheduleId}' cannot be used: ${problem}`,
      { field: "state", details: { subject: "state", id: scheduleId, reason: problem } },
    );
  }
  return raw as ScheduleStateRecord;
}
