/**
 * Where recipes read prices: a function from a symbol to a quote (last, bid, ask), from the
 * broker or supplied by you. Core's broker contract has no quotes, so "from the broker" means a
 * broker that has `getQuote`/`getPrice` as PaperBroker does, or the last price implied by an open
 * position; anything else needs a supplied feed (a market-data API, your own cache).
 */

import { type Broker, Decimal, decimalString } from "@tradecron/core";

/** A quote; decimals as strings. Any side may be missing. */
export interface Quote {
  last?: string | null;
  bid?: string | null;
  ask?: string | null;
  /** When it was observed (epoch ms), if known. */
  at?: number | null;
}

/** A price source: a quote, a bare last price, or nothing, for a symbol. May be async. */
export type PriceFeed = (
  symbol: string,
) => Quote | string | number | null | undefined | Promise<Quote | string | number | null | undefined>;

/** Which price of a quote a rule reads. `mid` is (bid + ask) / 2 and needs both. */
export type PriceField = "last" | "bid" | "ask" | "mid";

const positive = (v: unknown): Decimal | null => {
  if (v === null || v === undefined || v === "") return null;
  try {
    const d = new Decimal(v as Decimal.Value);
    return d.isFinite() && d.gt(0) ? d : null;
  } catch {
    return null;
  }
};

/** Reads a quote from a feed; a feed that throws or answers garbage yields null (no price). */
export async function readQuote(feed: PriceFeed, symbol: string): Promise<Quote | null> {
  let raw: Awaited<ReturnType<PriceFeed>>;
  try {
    raw = await feed(symbol);
  } catch {
    return null;
  }
  if (raw === null || raw === undefined) return null;
  if (typeof raw === "string" || typeof raw === "number") {
    const last = positive(raw);
    return last ? { last: decimalString(last) } : null;
  }
  const q: Quote = {};
  for (const key of ["last", "bid", "ask"] as const) {
    const v = positive(raw[key]);
    if (v) q[key] = decimalString(v);
  }
  if (typeof raw.at === "number") q.at = raw.at;
  return q.last || q.bid || q.ask ? q : null;
}

/** The `field` price of a quote, or null when the quote lacks it. */
export function priceOf(quote: Quote | null, field: PriceField): Decimal | null {
  if (!quote) return null;
  if (field === "mid") {
    const bid = positive(quote.bid);
    const ask = positive(quote.ask);
    return bid && ask ? bid.plus(ask).div(2) : null;
  }
  return positive(quote[field]);
}

interface QuotingBroker {
  getQuote?(symbol: string): { price: string; at: number } | null;
  getPrice?(symbol: string): string | null;
}

/**
 * A feed over a broker: its `getQuote`/`getPrice` when it has them (PaperBroker), else the price
 * implied by an open position (market value / qty). Null for a symbol it knows nothing about.
 */
export function brokerPriceFeed(broker: Broker | null): PriceFeed {
  return async (symbol: string) => {
    if (!broker) return null;
    const b = broker as unknown as QuotingBroker;
    if (typeof b.getQuote === "function") {
      const q = b.getQuote(symbol);
      if (q) return { last: q.price, at: q.at };
    }
    if (typeof b.getPrice === "function") {
      const p = b.getPrice(symbol);
      if (p) return p;
    }
    const position = (await broker.getPositions()).find((p) => p.symbol === symbol.toUpperCase());
    if (position?.marketValue && !new Decimal(position.qty).isZero()) {
      return decimalString(new Decimal(position.marketValue).div(position.qty).abs());
    }
    return null;
  };
}
