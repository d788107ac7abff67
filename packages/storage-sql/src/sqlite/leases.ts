/**
 * Leases in SQLite: what the holder of a fire does besides writing its outcome (renew, release
 * unstarted, cancel), and the takeover of fires whose lease ran out. Each is a write of the group
 * commit (BEGIN IMMEDIATE: two processes never both take one fire over).
 */

import type { ExecutionRecord } from "@tradecron/core";
import { decodeExecution } from "./codec.js";
import type { SqliteConnection } from "./connection.js";
import type { SqliteStatements } from "./statements.js";

/** Lease renewal, release, cancel and takeover of SqliteStorage. */
export class SqliteLeases {
  constructor(
    private readonly conn: SqliteConnection,
    private readonly sql: SqliteStatements,
  ) {}

  renewLeases(instanceId: string, ids: string[], leaseExpiresAt: number): Promise<string[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.conn.write("renewLeases", "executions", () => {
      const held = new Set(
        this.conn
          .all(this.sql.renewLeases, leaseExpiresAt, instanceId, JSON.stringify(ids))
          .map((r) => r.id as string),
      );
      return ids.filter((id) => held.has(id));
    });
  }

  cancelExecution(id: string, reason: string, endedAt: number): Promise<ExecutionRecord | null> {
    return this.conn.write("cancelExecution", "executions", () => {
      const row = this.conn.get(this.sql.cancelExecution, reason, endedAt, id);
      return row ? decodeExecution(row) : null;
    });
  }

  releaseClaim(id: string, instanceId: string): Promise<boolean> {
    return this.conn.write(
      "releaseClaim",
      "executions",
      () => this.conn.prepare(this.sql.releaseClaim).run(id, instanceId).changes === 1,
    );
  }

  takeOverExpired(
    instanceId: string,
    now: number,
    leaseExpiresAt: number,
    limit: number,
    jobs?: readonly string[],
  ): Promise<ExecutionRecord[]> {
    if (limit <= 0) return Promise.resolve([]);
    return this.conn.write("takeOverExpired", "executions", () =>
      this.conn
        .all(this.sql.takeOverExpired, {
          instance: instanceId,
          lease: leaseExpiresAt,
          now,
          jobs: jobs === undefined ? null : JSON.stringify(jobs),
          limit,
        })
        .map(decodeExecution),
    );
  }
}
