/**
 * Approvals on PostgreSQL: the queue of proposed orders waiting for a person. A decision is a
 * compare-and-set on the status (`transitionApproval`, or one statement for a whole group), so two
 * actors deciding at once cannot both win.
 */

import {
  type ApprovalQuery,
  type ApprovalRecord,
  type ApprovalStatus,
  ConflictError,
  checkLimit,
  type Page,
} from "@tradecron/core";
import { decodeApproval } from "../shared/approval-rows.js";
import { driverCode } from "../shared/errors.js";
import { APPROVALS, encodePatch, toColumnObject } from "../shared/rows.js";
import { toPage } from "../shared/where.js";
import { codec } from "./codec.js";
import type { PgConnection } from "./connection.js";
import { UNIQUE_VIOLATION } from "./sqlstate.js";
import {
  listApprovalsSql,
  type PgNames,
  type PostgresStatements,
  transitionApprovalGroupSql,
  transitionApprovalSql,
} from "./statements.js";

/** The approval records of PostgresStorage. */
export class PgApprovals {
  constructor(
    private readonly conn: PgConnection,
    private readonly sql: PostgresStatements,
    private readonly names: PgNames,
  ) {}

  async insertApprovals(approvals: ApprovalRecord[]): Promise<void> {
    if (approvals.length === 0) return;
    try {
      await this.conn.query("insertApprovals", "approvals", this.sql.insertApprovals, [
        JSON.stringify(approvals.map((a) => toColumnObject(APPROVALS, a))),
      ]);
    } catch (error) {
      if (driverCode((error as Error).cause) === UNIQUE_VIOLATION) {
        throw new ConflictError("CONFLICT", "an approval with one of these ids exists already", {
          field: "id",
          cause: error,
          details: { table: this.names.display("approvals") },
        });
      }
      throw error;
    }
  }

  async getApproval(id: string): Promise<ApprovalRecord | null> {
    const res = await this.conn.query("getApproval", "approvals", this.sql.getApproval, [id]);
    const row = res.rows[0];
    return row ? decodeApproval(row, codec, "postgres") : null;
  }

  async listApprovals(query: ApprovalQuery): Promise<Page<ApprovalRecord>> {
    const limit = checkLimit(query.limit);
    const statement = listApprovalsSql(this.names, query, limit);
    const res = await this.conn.query("listApprovals", "approvals", statement.text, statement.values);
    return toPage(
      res.rows.map((row) => decodeApproval(row, codec, "postgres")),
      limit,
      (a) => a.createdAt,
      (a) => a.id,
    );
  }

  async countApprovals(status: ApprovalStatus): Promise<number> {
    const res = await this.conn.query<{ n: number }>("countApprovals", "approvals", this.sql.countApprovals, [
      status,
    ]);
    return Number(res.rows[0]?.n ?? 0);
  }

  async transitionApproval(
    id: string,
    from: ApprovalStatus,
    patch: Partial<Omit<ApprovalRecord, "id">>,
  ): Promise<ApprovalRecord | null> {
    const { columns: set, values } = encodePatch(APPROVALS, patch, codec, ["id"]);
    // An empty patch still compares: `status = status` changes nothing.
    const text = transitionApprovalSql(this.names, set.length ? set : ["status"]);
    const res = await this.conn.query("transitionApproval", "approvals", text, [
      id,
      from,
      ...(set.length ? values : [from]),
    ]);
    const row = res.rows[0];
    return row ? decodeApproval(row, codec, "postgres") : null;
  }

  async transitionApprovalGroup(
    groupId: string,
    from: ApprovalStatus,
    patch: Partial<Omit<ApprovalRecord, "id" | "groupId">>,
  ): Promise<ApprovalRecord[] | null> {
    const { columns: set, values } = encodePatch(APPROVALS, patch, codec, ["id", "groupId"]);
    const text = transitionApprovalGroupSql(this.names, set.length ? set : ["status"]);
    const res = await this.conn.query("transitionApprovalGroup", "approvals", text, [
      groupId,
      from,
      ...(set.length ? values : [from]),
    ]);
    if (res.rows.length === 0) return null;
    return res.rows
      .map((row) => decodeApproval(row, codec, "postgres"))
      .sort((a, b) => a.intentIndex - b.intentIndex);
  }

  async listExpiredApprovals(now: number, limit: number): Promise<ApprovalRecord[]> {
    const res = await this.conn.query("listExpiredApprovals", "approvals", this.sql.listExpiredApprovals, [
      now,
      limit,
    ]);
    return res.rows.map((row) => decodeApproval(row, codec, "postgres"));
  }
}
