/**
 * Checks of the schedule and control rows read back, with core's record checks (the schemas of
 * scheduler input): a row changed with psql or sqlite3 that fails them is never handed out as if
 * it were fine. Rows that failed are remembered for `issues()`: they stay in their table (a person
 * fixes or deletes them), and the scheduler names them in its health.
 */

import {
  type ControlRecord,
  checkStoredControl,
  checkStoredSchedule,
  corruptRecord,
  isCorruptRecord,
  type ScheduleRecord,
  type StorageError,
  type StorageIssue,
} from "@tradecron/core";

type Row = Record<string, unknown>;

/** The decoded row, or a record error when it cannot even be decoded (a JSON column that is not JSON). */
function decoded(
  storage: string,
  subject: "schedule" | "control",
  id: string | null,
  row: Row,
  decode: (row: Row) => unknown,
): unknown {
  try {
    return decode(row);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw corruptRecord(storage, subject, id, `a column cannot be decoded (${message})`);
  }
}

/** The checks, and what failed them, for one storage. */
export class RowChecks {
  private readonly invalid = new Map<string, StorageIssue>();
  private controlIssue: StorageIssue | null = null;

  constructor(
    private readonly storage: string,
    /** Table names as people see them, for the issues' `where`. */
    private readonly tables: { schedules: string; control: string },
  ) {}

  private reasonOf(error: StorageError): string {
    const reason = (error.details as { reason?: unknown } | undefined)?.reason;
    return typeof reason === "string" ? reason : error.message;
  }

  private checkSchedule(row: Row, decode: (row: Row) => unknown): ScheduleRecord {
    const id = typeof row.id === "string" ? row.id : null;
    try {
      const record = checkStoredSchedule(this.storage, decoded(this.storage, "schedule", id, row, decode));
      if (id !== null) this.invalid.delete(id);
      return record;
    } catch (error) {
      if (isCorruptRecord(error) && id !== null) {
        this.invalid.set(id, {
          subject: "schedule",
          id,
          kind: "invalid",
          reason: this.reasonOf(error),
          where: this.tables.schedules,
        });
      }
      throw error;
    }
  }

  /** One schedule row (or none): the record, or null; throws `STORAGE_CORRUPT` for an invalid row. */
  schedule(id: string, row: Row | undefined, decode: (row: Row) => unknown): ScheduleRecord | null {
    if (!row) {
      this.invalid.delete(id);
      return null;
    }
    return this.checkSchedule(row, decode);
  }

  /** Every schedule row: the valid records; the invalid ones are noted (and replace earlier notes). */
  schedules(rows: readonly Row[], decode: (row: Row) => unknown): ScheduleRecord[] {
    this.invalid.clear();
    const out: ScheduleRecord[] = [];
    for (const row of rows) {
      try {
        out.push(this.checkSchedule(row, decode));
      } catch (error) {
        if (!isCorruptRecord(error)) throw error;
      }
    }
    return out;
  }

  /** Forgets a deleted schedule. */
  forget(id: string): void {
    this.invalid.delete(id);
  }

  /**
   * The control row as a record; throws `STORAGE_CORRUPT` when it fails its checks or is gone
   * (the migration creates it: a missing row was deleted by hand, and must not read as unpaused).
   */
  control(row: Row | undefined, decode: (row: Row) => unknown): ControlRecord {
    try {
      if (!row)
        throw corruptRecord(this.storage, "control", null, "the control row is missing (deleted by hand?)");
      const control = checkStoredControl(this.storage, decoded(this.storage, "control", null, row, decode));
      this.controlIssue = null;
      return control;
    } catch (error) {
      if (isCorruptRecord(error)) {
        this.controlIssue = {
          subject: "control",
          id: null,
          kind: "invalid",
          reason: this.reasonOf(error),
          where: this.tables.control,
        };
      }
      throw error;
    }
  }

  /** The control record was replaced. */
  controlReplaced(): void {
    this.controlIssue = null;
  }

  /** See Storage.issues. */
  issues(): StorageIssue[] {
    return [...(this.controlIssue ? [this.controlIssue] : []), ...this.invalid.values()];
  }
}
