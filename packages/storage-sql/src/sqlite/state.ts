/**
 * Schedule state in SQLite (schema version 3): one `schedule_state` row per schedule, checked when
 * read (`shared/state-rows.ts`). It is written only inside a run's outcome write, in the same
 * savepoint (outcomes.ts), and read for a claim in the claim's transaction (claims.ts).
 */

import type { ExecutionRecord, ScheduleStateRecord, StateCommit } from "@tradecron/core";
import { type StateRowChecks, stateConflict } from "../shared/state-rows.js";
import type { SqliteConnection } from "./connection.js";
import type { SqliteStatements } from "./statements.js";

/** Reads, checks and commits the state rows of SqliteStorage. */
export class SqliteScheduleStates {
  constructor(
    private readonly conn: SqliteConnection,
    private readonly sql: SqliteStatements,
    private readonly stateChecks: StateRowChecks,
  ) {}

  /** A row failing its checks throws `STORAGE_CORRUPT`. */
  getScheduleState(scheduleId: string): Promise<ScheduleStateRecord | null> {
    return this.conn.read("getScheduleState", "schedule_state", () =>
      this.stateChecks.check(scheduleId, this.conn.get(this.sql.getScheduleState, scheduleId)),
    );
  }

  /** The committed state a won claim hands back (same transaction): undefined for a row failing its checks. */
  forClaim(scheduleId: string): ScheduleStateRecord | null | undefined {
    return this.stateChecks.checkForClaim(scheduleId, this.conn.get(this.sql.getScheduleState, scheduleId));
  }

  /** Writes the state of `execution`'s schedule (inside the execution's write), or throws a conflict. */
  commit(execution: ExecutionRecord, state: StateCommit): void {
    const scheduleId = execution.scheduleId;
    if (!this.conn.get(this.sql.scheduleExists, scheduleId)) return;
    const value = JSON.stringify(state.value);
    const changes =
      state.expectedRevision === 0
        ? this.conn.prepare(this.sql.insertScheduleState).run(scheduleId, value, execution.id, state.at)
            .changes
        : this.conn
            .prepare(this.sql.updateScheduleState)
            .run(value, execution.id, state.at, scheduleId, state.expectedRevision).changes;
    if (changes !== 1) throw stateConflict(scheduleId, state.expectedRevision);
  }
}
