/**
 * Schedule state on PostgreSQL (schema version 3): one `schedule_state` row per schedule, read
 * here and checked (`shared/state-rows.ts`). It is written only together with a run's outcome, in
 * that outcome's statement (`updateExecutionWithState`, see outcomes.ts), and read for a claim in
 * the claim's statement (see claims.ts).
 */

import type { ScheduleStateRecord } from "@tradecron/core";
import type { StateRowChecks } from "../shared/state-rows.js";
import type { PgConnection } from "./connection.js";
import type { PostgresStatements } from "./statements.js";

/** Reads and checks the state rows of PostgresStorage. */
export class PgScheduleStates {
  constructor(
    private readonly conn: PgConnection,
    private readonly sql: PostgresStatements,
    private readonly stateChecks: StateRowChecks,
  ) {}

  /** A row failing its checks throws `STORAGE_CORRUPT`. */
  async getScheduleState(scheduleId: string): Promise<ScheduleStateRecord | null> {
    const res = await this.conn.query("getScheduleState", "schedule_state", this.sql.getScheduleState, [
      scheduleId,
    ]);
    return this.stateChecks.check(scheduleId, res.rows[0]);
  }

  /** A won claim's state (its `schedule_state` row as jsonb, or none): undefined for one failing its checks. */
  forClaim(
    scheduleId: string,
    row: Record<string, unknown> | undefined,
  ): ScheduleStateRecord | null | undefined {
    return this.stateChecks.checkForClaim(scheduleId, row);
  }
}
