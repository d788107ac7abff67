/**
 * PaperBroker's view of the market: the last price of each symbol, set by hand, fed from a stream
 * of ticks, or asked of a quote function. Prices are exact decimals.
 */

import { z } from "zod";
import { Decimal, decimalString, positiveDecimalSchema } from "../orders/decimal.js";
import { instantSchema, parseInput } from "../validation.js";

/** One price observation, as `PaperBroker.feed` and `setPrice` take it. */
export interface PriceTickInput {
  symbol: string;
  /** A positive decimal (string, or number read through its shortest decimal form). */
  price: string | number;
  /** When the price was observed (default: the broker's clock). */
  at?: Date | number | string;
}

/** A validated price observation. */
export interface PriceTick {
  /** Upper-case symbol. */
  symbol: string;
  /** Canonical decimal string. */
  price: string;
  /** Epoch ms, or null when the tick did not say. */
  at: number | null;
}

/** The last known price of a symbol. */
export interface Quote {
  price: string;
  /** Epoch ms of the observation. */
  at: number;
}

/**
 * Asks an outside source for the current price of `symbol`; null or undefined when it has none.
 * May be async (a market-data API).
 */
export type QuoteFunction = (
  symbol: string,
) => string | number | null | undefined | Promise<string | number | null | undefined>;

const symbolSchema = z
  .string()
  .trim()
  .min(1)
  .max(32)
  .transform((s) => s.toUpperCase());

const tickSchema = z.strictObject({
  symbol: symbolSchema,
  price: positiveDecimalSchema,
  at: instantSchema.optional(),
});

/** Validates one tick; throws a ValidationError naming the field (`symbol`, `price`, `at`). */
export function parsePriceTick(input: unknown): PriceTick {
  const tick = parseInput(tickSchema, input, "PaperBroker price");
  return { symbol: tick.symbol, price: tick.price, at: tick.at ?? null };
}

/** Validates what a quote function returned: a positive decimal, or null for "no price". */
export function parseQuote(symbol: string, value: unknown): Decimal | null {
  if (value === null || value === undefined) return null;
  return new Decimal(parseInput(positiveDecimalSchema, value, "PaperBroker quote", symbol));
}

/** The last price of each symbol. */
export class PriceBook {
  private readonly last = new Map<string, { price: Decimal; at: number }>();

  /** Records `price` as the last price of `symbol`. */
  set(symbol: string, price: Decimal, at: number): void {
    this.last.set(symbol, { price, at });
  }

  /** The last price of `symbol`, or null when none is known. */
  price(symbol: string): Decimal | null {
    return this.last.get(symbol)?.price ?? null;
  }

  /** The last quote of `symbol` as strings, or null. */
  quote(symbol: string): Quote | null {
    const q = this.last.get(symbol);
    return q ? { price: decimalString(q.price), at: q.at } : null;
  }
}
