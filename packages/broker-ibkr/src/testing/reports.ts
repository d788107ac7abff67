/**
 * The fake TWS's answers to read requests (open orders, completed orders, executions, positions,
 * account summary), as the messages the real TWS sends for them, end marker included. Encoded
 * messages are kept while the order they describe is unchanged: completed orders never change,
 * and a reconcile asks for the same open orders again and again.
 */

import type { ExecutionFilterRequest } from "./client-messages.js";
import type { FakeExchange, FakeOrder } from "./exchange.js";
import * as msg from "./server-messages.js";

/** Builds the answers to read requests from the fake's books. */
export class Reports {
  private readonly completed = new Map<number, Buffer>();
  private readonly open = new Map<number, { key: string; data: Buffer }>();

  constructor(private readonly exchange: FakeExchange) {}

  /** openOrder + orderStatus of every open order (of one client for reqOpenOrders), then openOrderEnd. */
  openOrders(clientId?: number): Buffer[] {
    const out = this.exchange.openOrders(clientId).map((o) => this.openOrder(o));
    out.push(msg.openOrderEnd());
    return out;
  }

  /** completedOrder of every completed order (only API orders when `apiOnly`), then completedOrdersEnd. */
  completedOrders(apiOnly: boolean): Buffer[] {
    const out: Buffer[] = [];
    for (const o of this.exchange.completedOrders(apiOnly)) {
      let encoded = this.completed.get(o.permId);
      if (!encoded) {
        encoded = msg.completedOrder(o);
        this.completed.set(o.permId, encoded);
      }
      out.push(encoded);
    }
    out.push(msg.completedOrdersEnd());
    return out;
  }

  /** execDetails and commissionReport of the day's executions matching the filter, then execDetailsEnd. */
  executions(filter: ExecutionFilterRequest): Buffer[] {
    const out: Buffer[] = [];
    for (const e of this.exchange.executionsMatching(filter)) {
      out.push(msg.execution(filter.reqId, e), msg.commissionReport(e.execId, this.exchange.currency));
    }
    out.push(msg.executionEnd(filter.reqId));
    return out;
  }

  /** position of every holding of every account, then positionEnd. */
  async positions(): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for (const account of this.exchange.accounts) {
      for (const p of await this.exchange.positions(account)) {
        out.push(msg.position(account, p.contract, p.qty, p.avgCost));
      }
    }
    out.push(msg.positionEnd());
    return out;
  }

  /** accountSummary of the requested tags of every account of `group` ("All" or one account), then its end. */
  async accountSummary(reqId: number, group: string, tags: readonly string[]): Promise<Buffer[]> {
    const accounts =
      group === "All" ? this.exchange.accounts : this.exchange.accounts.filter((a) => a === group);
    const out: Buffer[] = [];
    for (const account of accounts) {
      const values = await this.exchange.summary(account);
      for (const tag of tags) {
        const value = values[tag];
        if (value === undefined) continue;
        const currency = tag === "AccountType" ? "" : this.exchange.currency;
        out.push(msg.accountSummary(reqId, account, tag, value, currency));
      }
    }
    out.push(msg.accountSummaryEnd(reqId));
    return out;
  }

  private openOrder(o: FakeOrder): Buffer {
    const key = `${o.status}|${o.filled}|${o.avgFillPrice}|${o.totalQuantity}|${o.lmtPrice}|${o.auxPrice}|${o.modifications}`;
    const cached = this.open.get(o.permId);
    if (cached?.key === key) return cached.data;
    const data = Buffer.concat([msg.openOrder(o), msg.orderStatus(o)]);
    this.open.set(o.permId, { key, data });
    return data;
  }
}
