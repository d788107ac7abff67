/**
 * Schedule rows and the control row of SqliteStorage: the rows people also change by hand, so
 * each is checked when read (`shared/trust.ts`).
 */

import {
  ConflictError,
  type ControlRecord,
  NotFoundError,
  type ScheduleRecord,
  scheduleExistsError,
} from "@tradecron/core";
import { driverCode } from "../shared/errors.js";
import { CONTROL, encodeRow, SCHEDULES } from "../shared/rows.js";
import type { StateRowChecks } from "../shared/state-rows.js";
import type { RowChecks } from "../shared/trust.js";
import { codec, decodeControl, decodeSchedule } from "./codec.js";
import type { SqliteConnection } from "./connection.js";
import type { SqliteNames, SqliteStatements } from "./statements.js";

/** Schedules and the control record in SQLite (the contract: core's `Storage`). */
export class SqliteSchedules {
  constructor(
    private readonly conn: SqliteConnection,
    private readonly sql: SqliteStatements,
    private readonly names: SqliteNames,
    private readonly checks: RowChecks,
    private readonly stateChecks: StateRowChecks,
  ) {}

  insertSchedule(schedule: ScheduleRecord): Promise<void> {
    const values = encodeRow(SCHEDULES, schedule, codec);
    return this.conn.write("insertSchedule", "schedules", () => {
      try {
        this.conn.prepare(this.sql.insertSchedule).run(...values);
      } catch (error) {
        if (driverCode(error)?.startsWith("SQLITE_CONSTRAINT")) {
          throw new ConflictError("SCHEDULE_EXISTS", `schedule '${schedule.id}' exists already`, {
            field: "id",
            cause: error,
            details: { table: this.names.display("schedules") },
          });
        }
        throw error;
      }
    });
  }

  /**
   * One write in a savepoint of the group commit, so a taken or repeated id rolls the whole batch
   * back (a repeated one conflicts with its earlier row).
   */
  insertSchedules(schedules: readonly ScheduleRecord[]): Promise<void> {
    if (schedules.length === 0) return Promise.resolve();
    const rows = schedules.map((schedule) => encodeRow(SCHEDULES, schedule, codec));
    return this.conn.write(
      "insertSchedules",
      "schedules",
      () => {
        const insert = this.conn.prepare(this.sql.insertSchedule);
        rows.forEach((values, i) => {
          try {
            insert.run(...values);
          } catch (error) {
            if (!driverCode(error)?.startsWith("SQLITE_CONSTRAINT")) throw error;
            throw scheduleExistsError(
              (schedules[i] as ScheduleRecord).id,
              { table: this.names.display("schedules") },
              error,
            );
          }
        });
      },
      true,
    );
  }

  updateSchedule(schedule: ScheduleRecord, expectedRevision: number): Promise<void> {
    const [id, ...rest] = encodeRow(SCHEDULES, schedule, codec);
    return this.conn.write("updateSchedule", "schedules", () => {
      const res = this.conn.prepare(this.sql.updateSchedule).run(...rest, id, expectedRevision);
      if (res.changes === 1) return;
      const row = this.conn.get(this.sql.scheduleRevision, schedule.id) as { revision: number } | undefined;
      if (!row) {
        throw new NotFoundError("SCHEDULE_NOT_FOUND", `schedule '${schedule.id}' not found`, { field: "id" });
      }
      throw new ConflictError(
        "REVISION_CONFLICT",
        `schedule '${schedule.id}' is at revision ${row.revision}, not ${expectedRevision}`,
        { field: "revision", details: { current: row.revision, expected: expectedRevision } },
      );
    });
  }

  getSchedule(id: string): Promise<ScheduleRecord | null> {
    return this.conn.read("getSchedule", "schedules", () =>
      this.checks.schedule(id, this.conn.get(this.sql.getSchedule, id), decodeSchedule),
    );
  }

  listSchedules(): Promise<ScheduleRecord[]> {
    return this.conn.read("listSchedules", "schedules", () =>
      this.checks.schedules(this.conn.all(this.sql.listSchedules), decodeSchedule),
    );
  }

  deleteSchedule(id: string): Promise<boolean> {
    return this.conn.write("deleteSchedule", "schedules", () => {
      this.checks.forget(id);
      this.stateChecks.forget(id);
      // The schema's delete trigger removes the schedule's state in the same statement.
      return this.conn.prepare(this.sql.deleteSchedule).run(id).changes === 1;
    });
  }

  getControl(): Promise<ControlRecord> {
    return this.conn.read("getControl", "control", () =>
      this.checks.control(this.conn.get(this.sql.getControl), decodeControl),
    );
  }

  setControl(control: ControlRecord): Promise<void> {
    const values = encodeRow(CONTROL, control, codec);
    return this.conn.write("setControl", "control", () => {
      this.conn.prepare(this.sql.setControl).run(...values);
      this.checks.controlReplaced();
    });
  }
}
