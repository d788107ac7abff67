/**
 * The audit log on PostgreSQL: append-only, numbered by the database (`seq`, an identity column),
 * listed newest first.
 */

import { type AuditEntry, type AuditQuery, checkLimit, type Page } from "@tradecron/core";
import { AUDIT, decodeRow, encodeRow } from "../shared/rows.js";
import { toPage } from "../shared/where.js";
import { codec } from "./codec.js";
import type { PgConnection } from "./connection.js";
import { listAuditSql, type PgNames, type PostgresStatements } from "./statements.js";

/** The audit entries of PostgresStorage. */
export class PgAudit {
  constructor(
    private readonly conn: PgConnection,
    private readonly sql: PostgresStatements,
    private readonly names: PgNames,
  ) {}

  async appendAudit(entry: Omit<AuditEntry, "seq">): Promise<AuditEntry> {
    const res = await this.conn.query(
      "appendAudit",
      "audit",
      this.sql.appendAudit,
      encodeRow(AUDIT, entry, codec, "seq"),
    );
    return decodeRow<AuditEntry>(AUDIT, res.rows[0] as Record<string, unknown>, codec);
  }

  async listAudit(query: AuditQuery): Promise<Page<AuditEntry>> {
    const limit = checkLimit(query.limit);
    const statement = listAuditSql(this.names, query, limit);
    const res = await this.conn.query("listAudit", "audit", statement.text, statement.values);
    return toPage(
      res.rows.map((row) => decodeRow<AuditEntry>(AUDIT, row, codec)),
      limit,
      (e) => e.seq,
      (e) => String(e.seq).padStart(16, "0"),
    );
  }
}
