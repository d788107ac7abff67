/**
 * PaperBroker's ledger: cash and signed positions with their average entry price, in exact
 * decimals. Executions move cash by exactly quantity x price (buying 3 at 0.1 costs 0.3).
 */

import { Decimal, decimalString } from "../orders/decimal.js";
import type { BrokerPosition } from "./broker.js";

interface Holding {
  /** Signed: negative for shorts. */
  qty: Decimal;
  avgEntryPrice: Decimal;
}

/** Cash and positions of a simulated account. */
export class PaperAccount {
  private cashBalance: Decimal;
  private readonly holdings = new Map<string, Holding>();

  constructor(initialCash: Decimal.Value) {
    this.cashBalance = new Decimal(initialCash);
  }

  /** Cash on hand (short-sale proceeds included). */
  get cash(): Decimal {
    return this.cashBalance;
  }

  /** Signed quantity held in `symbol` (0 when flat). */
  qty(symbol: string): Decimal {
    return this.holdings.get(symbol)?.qty ?? new Decimal(0);
  }

  /** Symbols with a position, sorted. */
  symbols(): string[] {
    return [...this.holdings.keys()].sort();
  }

  /**
   * Books an execution: cash moves by qty x price; the position grows (average entry blends),
   * shrinks (average entry unchanged), closes (removed), or flips (the new side enters at `price`).
   */
  execute(symbol: string, side: "buy" | "sell", qty: Decimal, price: Decimal): void {
    const value = qty.times(price);
    this.cashBalance = side === "buy" ? this.cashBalance.minus(value) : this.cashBalance.plus(value);
    const signed = side === "buy" ? qty : qty.neg();
    const held = this.holdings.get(symbol);
    if (!held || held.qty.isZero()) {
      this.holdings.set(symbol, { qty: signed, avgEntryPrice: price });
      return;
    }
    const next = held.qty.plus(signed);
    if (next.isZero()) {
      this.holdings.delete(symbol);
    } else if (held.qty.isPositive() === signed.isPositive()) {
      const size = held.qty.abs();
      const avg = size.times(held.avgEntryPrice).plus(value).div(size.plus(qty));
      this.holdings.set(symbol, { qty: next, avgEntryPrice: avg });
    } else if (next.isPositive() === held.qty.isPositive()) {
      this.holdings.set(symbol, { qty: next, avgEntryPrice: held.avgEntryPrice });
    } else {
      this.holdings.set(symbol, { qty: next, avgEntryPrice: price });
    }
  }

  /** Market value of every position at `mark` (the last price, or the entry price when none is known). */
  marketValue(mark: (symbol: string) => Decimal | null): { long: Decimal; short: Decimal } {
    let long = new Decimal(0);
    let short = new Decimal(0);
    for (const [symbol, h] of this.holdings) {
      const value = h.qty.times(mark(symbol) ?? h.avgEntryPrice);
      if (value.isNegative()) short = short.plus(value.neg());
      else long = long.plus(value);
    }
    return { long, short };
  }

  /** The positions as the broker contract reports them, sorted by symbol. */
  positions(price: (symbol: string) => Decimal | null): BrokerPosition[] {
    return this.symbols().map((symbol) => {
      const h = this.holdings.get(symbol) as Holding;
      const p = price(symbol);
      return {
        symbol,
        qty: decimalString(h.qty),
        side: h.qty.isNegative() ? "short" : "long",
        avgEntryPrice: decimalString(h.avgEntryPrice),
        marketValue: p === null ? null : decimalString(h.qty.times(p)),
      };
    });
  }
}
