/**
 * Claiming fires in SQLite, the front of the fire path. The unique constraint on (schedule_id,
 * scheduled_at) decides every claim, across processes on the file as on PostgreSQL; a claim is a
 * write of the group commit, so the holder's row is read back in the same transaction.
 */

import { type ClaimResult, ConflictError, type FireClaim, type FireRef } from "@tradecron/core";
import { driverCode } from "../shared/errors.js";
import { EXECUTIONS, EXTRA_COLUMN, encodeRow } from "../shared/rows.js";
import { codec, decodeExecution, type Row } from "./codec.js";
import type { SqliteConnection } from "./connection.js";
import type { SqliteScheduleStates } from "./state.js";
import type { SqliteNames, SqliteStatements } from "./statements.js";

/** Column names of the executions table in `encodeRow` order (extra last). */
const EXECUTIONS_COLUMNS = [...EXECUTIONS.columns.map((c) => c.column), EXTRA_COLUMN];

/** A row object from column names and the values `encodeRow` produced for them. */
function rowOf(columns: readonly string[], values: readonly unknown[]): Row {
  const row: Row = {};
  columns.forEach((column, i) => {
    row[column] = values[i];
  });
  return row;
}

/** Claims of SqliteStorage: `claimFire`, `claimFires` and the step-in probe `fireHolders`. */
export class SqliteClaims {
  constructor(
    private readonly conn: SqliteConnection,
    private readonly sql: SqliteStatements,
    private readonly names: SqliteNames,
    private readonly states: SqliteScheduleStates,
  ) {}

  claimFire(claim: FireClaim): Promise<ClaimResult> {
    const values = encodeRow(EXECUTIONS, claim.execution, codec);
    return this.conn.write("claimFire", "executions", () => this.claimRow(claim, values));
  }

  /**
   * One write of the group commit, in a savepoint, so the batch shares the group's transaction and
   * fsync and a failing claim (an execution id that is taken) rolls the whole batch back. A second
   * claim of a fire in the batch conflicts with the first's row, inserted earlier in the same
   * transaction, and reads it back.
   */
  claimFires(claims: readonly FireClaim[]): Promise<ClaimResult[]> {
    if (claims.length === 0) return Promise.resolve([]);
    const rows = claims.map((claim) => encodeRow(EXECUTIONS, claim.execution, codec));
    return this.conn.write(
      "claimFires",
      "executions",
      () => claims.map((claim, i) => this.claimRow(claim, rows[i] as unknown[])),
      true,
    );
  }

  /** One claim inside a write: insert unless the fire is taken, else read the holder's row. */
  private claimRow({ execution, withState, withOverlap }: FireClaim, values: unknown[]): ClaimResult {
    let changes: number;
    try {
      changes = this.conn.prepare(this.sql.claimFire).run(...values).changes;
    } catch (error) {
      if (driverCode(error)?.startsWith("SQLITE_CONSTRAINT")) {
        throw new ConflictError("CONFLICT", `execution '${execution.id}' exists already`, {
          field: "id",
          cause: error,
          details: { table: this.names.display("executions") },
        });
      }
      throw error;
    }
    if (changes === 1) {
      const claimed = decodeExecution(rowOf(EXECUTIONS_COLUMNS, values));
      const result: ClaimResult = { claimed: true, execution: claimed };
      if (withState === true) result.state = this.states.forClaim(execution.scheduleId);
      // Same transaction: what is active besides this claim, as it was decided.
      if (withOverlap === true)
        result.othersActive =
          this.conn.get(this.sql.othersActive, execution.scheduleId, execution.id) !== undefined;
      return result;
    }
    // Same transaction: the holder cannot release the fire between our insert and this read.
    const existing = this.conn.get(
      this.sql.findExecution,
      execution.scheduleId,
      execution.scheduledAt,
    ) as Row;
    return { claimed: false, existing: decodeExecution(existing) };
  }

  /** One read for the batch, an index lookup per fire. */
  fireHolders(fires: readonly FireRef[]): Promise<(string | null)[]> {
    return this.conn.read("fireHolders", "executions", () => {
      const lookup = this.conn.prepare(this.sql.fireHolder).pluck();
      return fires.map((f) => (lookup.get(f.scheduleId, f.scheduledAt) as string | undefined) ?? null);
    });
  }
}
