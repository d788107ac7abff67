/**
 * Schedule rows and the control row of PostgresStorage: the rows people also change by hand, so
 * each is checked when read (`shared/trust.ts`). Single inserts of one turn share one statement.
 */

import {
  ConflictError,
  type ControlRecord,
  firstConflictingId,
  NotFoundError,
  type ScheduleRecord,
  scheduleExistsError,
} from "@tradecron/core";
import type pg from "pg";
import { Batcher } from "../shared/batcher.js";
import { driverCode } from "../shared/errors.js";
import { CONTROL, encodeRow, SCHEDULES, toColumnObject } from "../shared/rows.js";
import type { StateRowChecks } from "../shared/state-rows.js";
import type { RowChecks } from "../shared/trust.js";
import { codec, decodeControl, decodeSchedule } from "./codec.js";
import type { PgConnection } from "./connection.js";
import { isDataError, UNIQUE_VIOLATION } from "./sqlstate.js";
import type { PgNames, PostgresStatements } from "./statements.js";

/** Schedules and the control record on PostgreSQL (the contract: core's `Storage`). */
export class PgSchedules {
  private readonly inserts: Batcher<ScheduleRecord, boolean>;

  constructor(
    private readonly conn: PgConnection,
    private readonly sql: PostgresStatements,
    private readonly names: PgNames,
    private readonly checks: RowChecks,
    private readonly stateChecks: StateRowChecks,
  ) {
    this.inserts = new Batcher((batch) => this.runInserts(batch));
  }

  async insertSchedule(schedule: ScheduleRecord): Promise<void> {
    if (!this.conn.opened) await this.conn.open();
    const inserted = await this.inserts.submit(schedule);
    if (!inserted) {
      throw new ConflictError("SCHEDULE_EXISTS", `schedule '${schedule.id}' exists already`, {
        field: "id",
        details: { table: this.names.display("schedules") },
      });
    }
  }

  /** Inserts a batch of schedules; true for each one inserted, false for an id that was taken. */
  private async runInserts(batch: ScheduleRecord[]): Promise<(boolean | Error)[]> {
    let res: pg.QueryResult<{ id: string }>;
    try {
      res = await this.conn.query<{ id: string }>("insertSchedule", "schedules", this.sql.insertSchedules, [
        JSON.stringify(batch.map((s) => toColumnObject(SCHEDULES, s))),
      ]);
    } catch (error) {
      // One bad record fails the statement: retry one by one so only its caller gets the error.
      if (batch.length > 1 && isDataError((error as Error).cause)) {
        return Promise.all(batch.map(async (s) => (await this.runInserts([s]))[0] as boolean | Error));
      }
      const e = error instanceof Error ? error : new Error(String(error));
      return batch.map(() => e);
    }
    // Within a batch the first of two equal ids wins, as if the calls had run one by one.
    const fresh = new Set(res.rows.map((r) => r.id));
    return batch.map((s) => fresh.delete(s.id));
  }

  /**
   * One statement (all or none). On a unique violation one read of the batch's taken ids names the
   * first conflict; a batch that repeats an id is never sent (that read names the first conflict,
   * taken or repeated, in batch order).
   */
  async insertSchedules(schedules: readonly ScheduleRecord[]): Promise<void> {
    if (schedules.length === 0) return;
    const table = this.names.display("schedules");
    const repeats = firstConflictingId(schedules, () => false) !== null;
    const payload = repeats ? "" : JSON.stringify(schedules.map((s) => toColumnObject(SCHEDULES, s)));
    for (let attempt = 0; ; attempt++) {
      if (!repeats) {
        try {
          await this.conn.query("insertSchedules", "schedules", this.sql.insertSchedulesAllOrNone, [payload]);
          return;
        } catch (error) {
          if (driverCode((error as Error).cause) !== UNIQUE_VIOLATION || attempt >= 3) throw error;
        }
      }
      const res = await this.conn.query<{ id: string }>(
        "insertSchedules",
        "schedules",
        this.sql.takenScheduleIds,
        [schedules.map((s) => s.id)],
      );
      const taken = new Set(res.rows.map((r) => r.id));
      const id = firstConflictingId(schedules, (x) => taken.has(x));
      if (id !== null) throw scheduleExistsError(id, { table });
      // The id that was taken has been deleted since: nothing was inserted, so try again.
    }
  }

  async updateSchedule(schedule: ScheduleRecord, expectedRevision: number): Promise<void> {
    const res = await this.conn.query("updateSchedule", "schedules", this.sql.updateSchedule, [
      ...encodeRow(SCHEDULES, schedule, codec),
      expectedRevision,
    ]);
    if (res.rowCount === 1) return;
    const current = await this.conn.query<{ revision: number }>(
      "updateSchedule",
      "schedules",
      this.sql.scheduleRevision,
      [schedule.id],
    );
    const row = current.rows[0];
    if (!row) {
      throw new NotFoundError("SCHEDULE_NOT_FOUND", `schedule '${schedule.id}' not found`, { field: "id" });
    }
    throw new ConflictError(
      "REVISION_CONFLICT",
      `schedule '${schedule.id}' is at revision ${row.revision}, not ${expectedRevision}`,
      { field: "revision", details: { current: row.revision, expected: expectedRevision } },
    );
  }

  async getSchedule(id: string): Promise<ScheduleRecord | null> {
    const res = await this.conn.query("getSchedule", "schedules", this.sql.getSchedule, [id]);
    return this.checks.schedule(id, res.rows[0], decodeSchedule);
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    const res = await this.conn.query("listSchedules", "schedules", this.sql.listSchedules);
    return this.checks.schedules(res.rows, decodeSchedule);
  }

  async deleteSchedule(id: string): Promise<boolean> {
    const res = await this.conn.query("deleteSchedule", "schedules", this.sql.deleteSchedule, [id]);
    this.checks.forget(id);
    this.stateChecks.forget(id);
    return res.rowCount === 1;
  }

  async getControl(): Promise<ControlRecord> {
    const res = await this.conn.query("getControl", "control", this.sql.getControl);
    return this.checks.control(res.rows[0], decodeControl);
  }

  async setControl(control: ControlRecord): Promise<void> {
    await this.conn.query("setControl", "control", this.sql.setControl, encodeRow(CONTROL, control, codec));
    this.checks.controlReplaced();
  }
}
