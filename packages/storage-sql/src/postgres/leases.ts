/**
 * Leases on PostgreSQL: what the holder of a fire does besides writing its outcome (renew, release
 * unstarted, cancel), and the takeover of fires whose lease ran out (`SELECT ... FOR UPDATE SKIP
 * LOCKED`, so concurrent instances split them). Most go in the urgent lane: a lease renewal
 * stuck behind a burst of outcome writes would let the lease run out.
 */

import type { ExecutionRecord } from "@tradecron/core";
import { Lane } from "../shared/lanes.js";
import { decodeExecution } from "./codec.js";
import type { PgConnection } from "./connection.js";
import type { PostgresStatements } from "./statements.js";

/** Lease renewal, release, cancel and takeover of PostgresStorage. */
export class PgLeases {
  constructor(
    private readonly conn: PgConnection,
    private readonly sql: PostgresStatements,
  ) {}

  async renewLeases(instanceId: string, ids: string[], leaseExpiresAt: number): Promise<string[]> {
    if (ids.length === 0) return [];
    const res = await this.conn.query<{ id: string }>(
      "renewLeases",
      "executions",
      this.sql.renewLeases,
      [instanceId, ids, leaseExpiresAt],
      Lane.Urgent,
    );
    const held = new Set(res.rows.map((r) => r.id));
    return ids.filter((id) => held.has(id));
  }

  async cancelExecution(id: string, reason: string, endedAt: number): Promise<ExecutionRecord | null> {
    const res = await this.conn.query(
      "cancelExecution",
      "executions",
      this.sql.cancelExecution,
      [id, reason, endedAt],
      Lane.Urgent,
    );
    const row = res.rows[0];
    return row ? decodeExecution(row) : null;
  }

  async releaseClaim(id: string, instanceId: string): Promise<boolean> {
    const res = await this.conn.query("releaseClaim", "executions", this.sql.releaseClaim, [id, instanceId]);
    return res.rowCount === 1;
  }

  async takeOverExpired(
    instanceId: string,
    now: number,
    leaseExpiresAt: number,
    limit: number,
    jobs?: readonly string[],
  ): Promise<ExecutionRecord[]> {
    if (limit <= 0) return [];
    const res = await this.conn.query(
      "takeOverExpired",
      "executions",
      this.sql.takeOverExpired,
      [instanceId, now, leaseExpiresAt, limit, jobs === undefined ? null : [...jobs]],
      Lane.Urgent,
    );
    return res.rows.map(decodeExecution);
  }
}
