/**
 * Cluster membership in SQLite: the `instances` table of scheduler processes alive on the file,
 * renewed by heartbeat, so every process on the file sees the others.
 */

import { checkHeartbeat } from "@tradecron/core";
import type { SqliteConnection } from "./connection.js";
import type { SqliteStatements } from "./statements.js";

/** The heartbeat of SqliteStorage. */
export class SqliteMembership {
  constructor(
    private readonly conn: SqliteConnection,
    private readonly sql: SqliteStatements,
  ) {}

  /**
   * One write of the group commit: renew or leave, forget the memberships that ran out, read the
   * live ones.
   */
  heartbeat(instanceId: string, now: number, expiresAt: number): Promise<string[]> {
    try {
      checkHeartbeat(instanceId, now, expiresAt);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.conn.write("heartbeat", "instances", () => {
      if (expiresAt > now) this.conn.prepare(this.sql.heartbeat).run(instanceId, expiresAt);
      else this.conn.prepare(this.sql.leave).run(instanceId);
      this.conn.prepare(this.sql.dropExpiredInstances).run(now);
      return this.conn.all(this.sql.liveInstances, now).map((r) => r.instance_id as string);
    });
  }
}
