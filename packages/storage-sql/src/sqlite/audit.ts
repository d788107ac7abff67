/**
 * The audit log in SQLite: append-only, numbered by the database (`seq`, autoincrement), listed
 * newest first.
 */

import { type AuditEntry, type AuditQuery, checkLimit, type Page } from "@tradecron/core";
import { AUDIT, decodeRow, encodeRow } from "../shared/rows.js";
import { toPage } from "../shared/where.js";
import { codec, type Row } from "./codec.js";
import type { SqliteConnection } from "./connection.js";
import { listAuditSql, type SqliteNames, type SqliteStatements } from "./statements.js";

/** The audit entries of SqliteStorage. */
export class SqliteAudit {
  constructor(
    private readonly conn: SqliteConnection,
    private readonly sql: SqliteStatements,
    private readonly names: SqliteNames,
  ) {}

  appendAudit(entry: Omit<AuditEntry, "seq">): Promise<AuditEntry> {
    const values = encodeRow(AUDIT, entry, codec, "seq");
    return this.conn.write("appendAudit", "audit", () =>
      decodeRow<AuditEntry>(AUDIT, this.conn.get(this.sql.appendAudit, ...values) as Row, codec),
    );
  }

  listAudit(query: AuditQuery): Promise<Page<AuditEntry>> {
    return this.conn.read("listAudit", "audit", () => {
      const limit = checkLimit(query.limit);
      const s = listAuditSql(this.names, query, limit);
      return toPage(
        this.conn.all(s.text, ...s.values).map((row) => decodeRow<AuditEntry>(AUDIT, row, codec)),
        limit,
        (e) => e.seq,
        (e) => String(e.seq).padStart(16, "0"),
      );
    });
  }
}
