/**
 * The portfolio as a plan sees it, read from the broker at the edge: cash, positions with their
 * prices, and open orders by symbol and side. Prices come from the recipe's price feed, falling
 * back to the price a position's market value implies.
 */

import { type Broker, type BrokerOrder, type BrokerPosition, Decimal } from "@tradecron/core";
import type { PortfolioSnapshot } from "../plan/rebalance-plan.js";
import { type PriceFeed, priceOf, readQuote } from "./price-feed.js";

/** What {@link readPortfolio} returns. */
export interface Portfolio extends PortfolioSnapshot {
  positions: BrokerPosition[];
  openOrders: BrokerOrder[];
}

function impliedPrice(p: BrokerPosition | undefined): Decimal | null {
  if (!p?.marketValue) return null;
  const qty = new Decimal(p.qty);
  return qty.isZero() ? null : new Decimal(p.marketValue).div(qty).abs();
}

/** Reads cash, positions, open orders and the prices of `symbols` (and of every held symbol). */
export async function readPortfolio(
  broker: Broker,
  feed: PriceFeed,
  symbols: readonly string[],
): Promise<Portfolio> {
  const [account, positions, openOrders] = await Promise.all([
    broker.getAccount(),
    broker.getPositions(),
    broker.getOpenOrders(),
  ]);
  const bySymbol = new Map(positions.map((p) => [p.symbol, p]));
  const wanted = [...new Set([...symbols, ...positions.map((p) => p.symbol)])];
  const prices = new Map<string, Decimal | null>();
  for (const symbol of wanted) {
    prices.set(symbol, priceOf(await readQuote(feed, symbol), "last") ?? impliedPrice(bySymbol.get(symbol)));
  }
  const holdings = new Map(
    positions.map((p) => [p.symbol, { qty: new Decimal(p.qty), price: prices.get(p.symbol) ?? null }]),
  );
  return { cash: new Decimal(account.cash), holdings, prices, positions, openOrders };
}
