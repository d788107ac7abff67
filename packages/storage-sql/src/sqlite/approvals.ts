/**
 * Approvals in SQLite: the queue of proposed orders waiting for a person. A decision is a
 * compare-and-set on the status inside a write of the group commit, so two actors deciding at once
 * cannot both win.
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
import {
  APPROVALS,
  columnOf,
  EXTRA_COLUMN,
  encodeExtra,
  encodePatch,
  encodeRow,
  encodeValue,
} from "../shared/rows.js";
import { toPage } from "../shared/where.js";
import { codec } from "./codec.js";
import type { SqliteConnection } from "./connection.js";
import {
  listApprovalsSql,
  type SqliteNames,
  type SqliteStatements,
  transitionApprovalGroupSql,
  transitionApprovalSql,
} from "./statements.js";

/** The approval records of SqliteStorage. */
export class SqliteApprovals {
  constructor(
    private readonly conn: SqliteConnection,
    private readonly sql: SqliteStatements,
    private readonly names: SqliteNames,
  ) {}

  insertApprovals(approvals: ApprovalRecord[]): Promise<void> {
    if (approvals.length === 0) return Promise.resolve();
    const rows = approvals.map((a) => encodeRow(APPROVALS, a, codec));
    return this.conn.write(
      "insertApprovals",
      "approvals",
      () => {
        const insert = this.conn.prepare(this.sql.insertApproval);
        for (const [i, values] of rows.entries()) {
          try {
            insert.run(...values);
          } catch (error) {
            if (driverCode(error)?.startsWith("SQLITE_CONSTRAINT")) {
              throw new ConflictError("CONFLICT", `approval '${approvals[i]?.id}' exists already`, {
                field: "id",
                cause: error,
                details: { table: this.names.display("approvals") },
              });
            }
            throw error;
          }
        }
      },
      true,
    );
  }

  getApproval(id: string): Promise<ApprovalRecord | null> {
    return this.conn.read("getApproval", "approvals", () => {
      const row = this.conn.get(this.sql.getApproval, id);
      return row ? decodeApproval(row, codec, "sqlite") : null;
    });
  }

  listApprovals(query: ApprovalQuery): Promise<Page<ApprovalRecord>> {
    return this.conn.read("listApprovals", "approvals", () => {
      const limit = checkLimit(query.limit);
      const s = listApprovalsSql(this.names, query, limit);
      return toPage(
        this.conn.all(s.text, ...s.values).map((row) => decodeApproval(row, codec, "sqlite")),
        limit,
        (a) => a.createdAt,
        (a) => a.id,
      );
    });
  }

  countApprovals(status: ApprovalStatus): Promise<number> {
    return this.conn.read("countApprovals", "approvals", () => {
      const row = this.conn.get(this.sql.countApprovals, status) as { n: number };
      return row.n;
    });
  }

  /**
   * Fields without a column of their own go to the `extra` column, merged with the stored ones:
   * that read and the update then run in one savepoint.
   */
  transitionApproval(
    id: string,
    from: ApprovalStatus,
    patch: Partial<Omit<ApprovalRecord, "id">>,
  ): Promise<ApprovalRecord | null> {
    const columns: string[] = [];
    const values: unknown[] = [];
    const unknownFields: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(patch)) {
      if (value === undefined || field === "id") continue;
      const column = columnOf(APPROVALS, field);
      if (column) {
        columns.push(column.column);
        values.push(encodeValue(column.kind, value, codec));
      } else unknownFields[field] = value;
    }
    const hasExtra = Object.keys(unknownFields).length > 0;
    return this.conn.write(
      "transitionApproval",
      "approvals",
      () => {
        if (hasExtra) {
          const current = this.conn.get(this.sql.getApproval, id);
          if (!current) return null;
          const merged = { ...decodeApproval(current, codec, "sqlite"), ...unknownFields };
          columns.push(EXTRA_COLUMN);
          values.push(encodeExtra(APPROVALS, merged, codec));
        }
        const text = transitionApprovalSql(this.names, columns.length ? columns : ["status"]);
        const row = this.conn.get(text, ...(columns.length ? values : [from]), id, from);
        return row ? decodeApproval(row, codec, "sqlite") : null;
      },
      hasExtra,
    );
  }

  transitionApprovalGroup(
    groupId: string,
    from: ApprovalStatus,
    patch: Partial<Omit<ApprovalRecord, "id" | "groupId">>,
  ): Promise<ApprovalRecord[] | null> {
    const { columns, values } = encodePatch(APPROVALS, patch, codec, ["id", "groupId"]);
    if (columns.length === 0) {
      columns.push("status");
      values.push(from);
    }
    const text = transitionApprovalGroupSql(this.names, columns);
    return this.conn.write("transitionApprovalGroup", "approvals", () => {
      const rows = this.conn.all(text, ...values, groupId, groupId, from);
      if (rows.length === 0) return null;
      return rows
        .map((row) => decodeApproval(row, codec, "sqlite"))
        .sort((a, b) => a.intentIndex - b.intentIndex);
    });
  }

  listExpiredApprovals(now: number, limit: number): Promise<ApprovalRecord[]> {
    return this.conn.read("listExpiredApprovals", "approvals", () =>
      this.conn
        .all(this.sql.listExpiredApprovals, now, limit)
        .map((row) => decodeApproval(row, codec, "sqlite")),
    );
  }
}
