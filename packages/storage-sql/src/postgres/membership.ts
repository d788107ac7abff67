/**
 * Cluster membership on PostgreSQL: the `instances` table (schema version 5) of scheduler
 * instances alive on this schema, renewed by heartbeat; the scheduler picks a fire's preferred
 * claimer among the live ones.
 */

import { checkHeartbeat } from "@tradecron/core";
import { Lane } from "../shared/lanes.js";
import type { PgConnection } from "./connection.js";
import type { PostgresStatements } from "./statements.js";

/** The heartbeat of PostgresStorage. */
export class PgMembership {
  constructor(
    private readonly conn: PgConnection,
    private readonly sql: PostgresStatements,
  ) {}

  /** One statement (see `heartbeat` in statements.ts), in the urgent lane with the lease renewals. */
  async heartbeat(instanceId: string, now: number, expiresAt: number): Promise<string[]> {
    checkHeartbeat(instanceId, now, expiresAt);
    const res = await this.conn.query<{ instance_id: string }>(
      "heartbeat",
      "instances",
      this.sql.heartbeat,
      [instanceId, now, expiresAt],
      Lane.Urgent,
    );
    return res.rows.map((r) => r.instance_id);
  }
}
