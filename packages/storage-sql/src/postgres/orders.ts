/**
 * Orders on PostgreSQL, keyed by their deterministic client order id (an upsert: the broker's
 * updates of one order overwrite its row).
 */

import { checkLimit, type OrderQuery, type OrderRecord, type Page } from "@tradecron/core";
import { decodeRow, encodeRow, ORDERS } from "../shared/rows.js";
import { toPage } from "../shared/where.js";
import { codec } from "./codec.js";
import type { PgConnection } from "./connection.js";
import { listOrdersSql, type PgNames, type PostgresStatements } from "./statements.js";

/** The order records of PostgresStorage. */
export class PgOrders {
  constructor(
    private readonly conn: PgConnection,
    private readonly sql: PostgresStatements,
    private readonly names: PgNames,
  ) {}

  async upsertOrder(order: OrderRecord): Promise<void> {
    await this.conn.query("upsertOrder", "orders", this.sql.upsertOrder, encodeRow(ORDERS, order, codec));
  }

  async getOrder(clientOrderId: string): Promise<OrderRecord | null> {
    const res = await this.conn.query("getOrder", "orders", this.sql.getOrder, [clientOrderId]);
    const row = res.rows[0];
    return row ? decodeRow<OrderRecord>(ORDERS, row, codec) : null;
  }

  async listOrders(query: OrderQuery): Promise<Page<OrderRecord>> {
    const limit = checkLimit(query.limit);
    const statement = listOrdersSql(this.names, query, limit);
    const res = await this.conn.query("listOrders", "orders", statement.text, statement.values);
    return toPage(
      res.rows.map((row) => decodeRow<OrderRecord>(ORDERS, row, codec)),
      limit,
      (o) => o.submittedAt,
      (o) => o.clientOrderId,
    );
  }
}
