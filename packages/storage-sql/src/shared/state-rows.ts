/**
 * Rows of the `schedule_state` table (schema version 3) as core's {@link ScheduleStateRecord},
 * checked with core's `checkStoredScheduleState`: a row changed with psql or sqlite3 that fails
 * the check throws `STORAGE_CORRUPT` and is listed by `issues()`, never handed to a handler.
 */

import {
  ConflictError,
  checkStoredScheduleState,
  isCorruptRecord,
  type ScheduleStateRecord,
  StorageError,
  type StorageIssue,
} from "@tradecron/core";

type Row = Record<string, unknown>;

/** The error of a state commit whose expected revision is no longer the stored one. */
export function stateConflict(scheduleId: string, expected: number): ConflictError {
  return new ConflictError(
    "REVISION_CONFLICT",
    `the state of schedule '${scheduleId}' is no longer at revision ${expected}; nothing was written`,
    { field: "state", details: { scheduleId, expected } },
  );
}

/** Decodes and checks state rows of one storage, remembering the rows that failed. */
export class StateRowChecks {
  private readonly invalid = new Map<string, StorageIssue>();

  constructor(
    private readonly storage: string,
    /** The table as people see it, for the issues' `where`. */
    private readonly table: string,
    /** The stored `value` column as a JSON value (SQLite keeps text, PostgreSQL's driver parses jsonb). */
    private readonly parseValue: (raw: unknown) => unknown,
  ) {}

  /** The state row of `scheduleId` (or none) as a record, or null; throws `STORAGE_CORRUPT`. */
  check(scheduleId: string, row: Row | undefined): ScheduleStateRecord | null {
    if (!row) {
      this.invalid.delete(scheduleId);
      return null;
    }
    try {
      let value: unknown;
      try {
        value = this.parseValue(row.value);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new StorageError(
          "STORAGE_CORRUPT",
          `${this.storage}: the state of schedule '${scheduleId}' cannot be used: value is not JSON (${message})`,
          {
            field: "state",
            details: { subject: "state", id: scheduleId, reason: `value is not JSON (${message})` },
          },
        );
      }
      const record = checkStoredScheduleState(this.storage, scheduleId, {
        scheduleId: row.schedule_id,
        value,
        revision: row.revision,
        executionId: row.execution_id,
        updatedAt: row.updated_at,
      });
      this.invalid.delete(scheduleId);
      return record;
    } catch (error) {
      if (isCorruptRecord(error)) {
        const reason = (error.details as { reason?: unknown } | undefined)?.reason;
        this.invalid.set(scheduleId, {
          subject: "state",
          id: scheduleId,
          kind: "invalid",
          reason: typeof reason === "string" ? reason : error.message,
          where: this.table,
        });
      }
      throw error;
    }
  }

  /**
   * The state a won claim hands back: as {@link StateRowChecks.check}, but undefined for a row
   * failing its checks instead of an error. The claim stands; the scheduler's own
   * `getScheduleState` then reports the row.
   */
  checkForClaim(scheduleId: string, row: Row | undefined): ScheduleStateRecord | null | undefined {
    try {
      return this.check(scheduleId, row);
    } catch (error) {
      if (isCorruptRecord(error)) return undefined;
      throw error;
    }
  }

  /** Forgets a deleted schedule's state. */
  forget(scheduleId: string): void {
    this.invalid.delete(scheduleId);
  }

  /** See Storage.issues. */
  issues(): StorageIssue[] {
    return [...this.invalid.values()];
  }
}
