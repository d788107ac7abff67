/**
 * Outcome writes in SQLite: the fenced `updateExecution` of the instance that holds a fire, a write
 * of the group commit. With a state it runs in a savepoint, so a state conflict rolls the patch
 * back with it.
 */

import {
  EXECUTION_PATCH_KEYS,
  type ExecutionPatch,
  type ExecutionRecord,
  type StateCommit,
} from "@tradecron/core";
import { columnOf, EXECUTIONS, encodeValue } from "../shared/rows.js";
import { codec, decodeExecution, type Row } from "./codec.js";
import type { SqliteConnection } from "./connection.js";
import type { SqliteScheduleStates } from "./state.js";
import { type SqliteNames, updateExecutionSql } from "./statements.js";

/** Fields of an ExecutionPatch that have a column. */
const PATCH_COLUMNS = new Map(
  EXECUTION_PATCH_KEYS.map((field) => [field, columnOf(EXECUTIONS, field)] as const),
);

/** The fenced outcome writes of SqliteStorage. */
export class SqliteOutcomes {
  constructor(
    private readonly conn: SqliteConnection,
    private readonly names: SqliteNames,
    private readonly states: SqliteScheduleStates,
  ) {}

  updateExecution(
    id: string,
    instanceId: string,
    patch: ExecutionPatch,
    state?: StateCommit,
  ): Promise<ExecutionRecord | null> {
    const columns: string[] = [];
    const values: unknown[] = [];
    // Only the fields a holder may change: a stray `scheduleId` in a patch must not move the fire.
    for (const [field, column] of PATCH_COLUMNS) {
      const value = (patch as Record<string, unknown>)[field];
      if (value === undefined || !column) continue;
      columns.push(column.column);
      values.push(encodeValue(column.kind, value, codec));
    }
    if (state === undefined) {
      return this.conn.write("updateExecution", "executions", () => {
        const row = this.updateStatement(columns).get(...values, id, instanceId) as Row | undefined;
        return row ? decodeExecution(row) : null;
      });
    }
    // In a savepoint: a state conflict throws, which rolls the execution patch back with it.
    return this.conn.write(
      "updateExecution",
      "executions",
      () => {
        const row = this.updateStatement(columns).get(...values, id, instanceId) as Row | undefined;
        if (!row) return null;
        const execution = decodeExecution(row);
        this.states.commit(execution, state);
        return execution;
      },
      true,
    );
  }

  /** The fenced update for one set of columns, prepared once per set (patches come in few shapes). */
  private updateStatement(columns: readonly string[]) {
    return this.conn.prepareShaped(columns.join(","), () => updateExecutionSql(this.names, columns));
  }
}
