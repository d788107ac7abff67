/**
 * Orders in SQLite, keyed by their deterministic client order id (an upsert: the broker's updates
 * of one order overwrite its row).
 */

import { checkLimit, type OrderQuery, type OrderRecord, type Page } from "@tradecron/core";
import { decodeRow, encodeRow, ORDERS } from "../shared/rows.js";
import { toPage } from "../shared/where.js";
import { codec } from "./codec.js";
import type { SqliteConnection } from "./connection.js";
import { listOrdersSql, type SqliteNames, type SqliteStatements } from "./statements.js";

/** The order records of SqliteStorage. */
export class SqliteOrders {
  constructor(
    private readonly conn: SqliteConnection,
    private readonly sql: SqliteStatements,
    private readonly names: SqliteNames,
  ) {}

  upsertOrder(order: OrderRecord): Promise<void> {
    const values = encodeRow(ORDERS, order, codec);
    return this.conn.write("upsertOrder", "orders", () => {
      this.conn.prepare(this.sql.upsertOrder).run(...values);
    });
  }

  getOrder(clientOrderId: string): Promise<OrderRecord | null> {
    return this.conn.read("getOrder", "orders", () => {
      const row = this.conn.get(this.sql.getOrder, clientOrderId);
      return row ? decodeRow<OrderRecord>(ORDERS, row, codec) : null;
    });
  }

  listOrders(query: OrderQuery): Promise<Page<OrderRecord>> {
    return this.conn.read("listOrders", "orders", () => {
      const limit = checkLimit(query.limit);
      const s = listOrdersSql(this.names, query, limit);
      return toPage(
        this.conn.all(s.text, ...s.values).map((row) => decodeRow<OrderRecord>(ORDERS, row, codec)),
        limit,
        (o) => o.submittedAt,
        (o) => o.clientOrderId,
      );
    });
  }
}
