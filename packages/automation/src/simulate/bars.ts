/**
 * Price history for `simulate`: bars you supply, turned into the ticks the paper broker and the
 * recipes see, and looked up "as of" an instant.
 *
 * - A daily bar `{ symbol, date, open, close, high?, low? }` is a session of the calendar: its open
 *   is the price from the session's open, its close from the session's close, and high and low
 *   (when given) are visited in between, low first on a day that closed up and high first on a
 *   day that closed down (the conservative path backtesters use). So a fire 30 minutes after the
 *   open buys at the open, and a fire at the close at the close.
 * - A timed bar `{ symbol, at, price }` (or `close`) is one observation at an instant, with an
 *   optional `bid` and `ask`.
 *
 * A price observed at an instant is in force for every fire at that instant.
 */

import { Decimal, decimalString, type MarketCalendar } from "@tradecron/core";
import { z } from "zod";
import type { Quote } from "../prices/price-feed.js";
import {
  addIssue,
  dateInput,
  instantInput,
  parseConfig,
  positiveDecimal,
  symbolInput,
} from "../validation.js";

/** A bar as `simulate` accepts it. Decimals as strings or numbers. */
export type BarInput =
  | {
      symbol: string;
      /** A session date 'YYYY-MM-DD' of the simulation's calendar. */
      date: string;
      open: string | number;
      close: string | number;
      high?: string | number;
      low?: string | number;
    }
  | {
      symbol: string;
      at: Date | number | string;
      /** The last price (or give `close`). */
      price?: string | number;
      close?: string | number;
      bid?: string | number;
      ask?: string | number;
    };

/** One observation. */
export interface Tick {
  symbol: string;
  at: number;
  last: string;
  bid?: string;
  ask?: string;
}

const dailyBar = z
  .strictObject({
    symbol: symbolInput,
    date: dateInput,
    open: positiveDecimal,
    close: positiveDecimal,
    high: positiveDecimal.optional(),
    low: positiveDecimal.optional(),
  })
  .superRefine((b, ctx) => {
    const hi = Decimal.max(b.open, b.close);
    const lo = Decimal.min(b.open, b.close);
    if (b.high !== undefined && new Decimal(b.high).lt(hi))
      addIssue(ctx, ["high"], "is below the open or the close");
    if (b.low !== undefined && new Decimal(b.low).gt(lo))
      addIssue(ctx, ["low"], "is above the open or the close");
  });

const timedBar = z
  .strictObject({
    symbol: symbolInput,
    at: instantInput,
    price: positiveDecimal.optional(),
    close: positiveDecimal.optional(),
    bid: positiveDecimal.optional(),
    ask: positiveDecimal.optional(),
  })
  .superRefine((b, ctx) => {
    if ((b.price === undefined) === (b.close === undefined))
      addIssue(ctx, ["price"], "give `price` (or `close`), once");
    if (b.bid !== undefined && b.ask !== undefined && new Decimal(b.bid).gt(b.ask))
      addIssue(ctx, ["bid"], "is above the ask");
  });

/** Validates bars and turns them into ticks, in time order; throws a RecipeConfigError naming `bars.<i>.<field>`. */
export function barsToTicks(bars: unknown, calendar: MarketCalendar): Tick[] {
  const list = parseConfig(z.array(z.unknown()).max(5_000_000), bars, "simulate", "bars");
  const ticks: Tick[] = [];
  list.forEach((raw, i) => {
    const daily = raw !== null && typeof raw === "object" && "date" in raw;
    if (!daily) {
      const b = parseConfig(timedBar, raw, "simulate", `bars.${i}`);
      ticks.push({
        symbol: b.symbol,
        at: b.at,
        last: (b.price ?? b.close) as string,
        ...(b.bid !== undefined ? { bid: b.bid } : {}),
        ...(b.ask !== undefined ? { ask: b.ask } : {}),
      });
      return;
    }
    const b = parseConfig(dailyBar, raw, "simulate", `bars.${i}`);
    const session =
      b.date >= calendar.firstDate && b.date <= calendar.lastDate ? calendar.session(b.date) : null;
    if (!session) {
      parseConfig(
        z.never({ error: `${b.date} is not a session of ${calendar.code}` }),
        undefined,
        "simulate",
        `bars.${i}.date`,
      );
      return;
    }
    const open = session.open.getTime();
    const close = session.close.getTime();
    const third = Math.floor((close - open) / 3);
    ticks.push({ symbol: b.symbol, at: open, last: b.open });
    const up = new Decimal(b.close).gte(b.open);
    const middle = up ? [b.low, b.high] : [b.high, b.low];
    middle.forEach((p, k) => {
      if (p !== undefined) ticks.push({ symbol: b.symbol, at: open + third * (k + 1), last: p });
    });
    ticks.push({ symbol: b.symbol, at: close, last: b.close });
  });
  return ticks.sort((a, b) => a.at - b.at || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
}

/** Ticks by symbol, answered "as of" an instant. */
export class PriceSeries {
  private readonly bySymbol = new Map<string, Tick[]>();

  constructor(ticks: readonly Tick[]) {
    for (const t of ticks) {
      const list = this.bySymbol.get(t.symbol) ?? [];
      list.push(t);
      this.bySymbol.set(t.symbol, list);
    }
    for (const list of this.bySymbol.values()) list.sort((a, b) => a.at - b.at);
  }

  /** The symbols with any tick. */
  get symbols(): string[] {
    return [...this.bySymbol.keys()].sort();
  }

  /** The latest tick of `symbol` at or before `at`, or null. */
  tickAt(symbol: string, at: number): Tick | null {
    const list = this.bySymbol.get(symbol.trim().toUpperCase());
    if (!list || list.length === 0 || (list[0] as Tick).at > at) return null;
    let lo = 0;
    let hi = list.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((list[mid] as Tick).at <= at) lo = mid;
      else hi = mid - 1;
    }
    return list[lo] as Tick;
  }

  /** The quote of `symbol` as of `at` (last, and bid/ask when the tick had them). */
  quoteAt(symbol: string, at: number): Quote | null {
    const t = this.tickAt(symbol, at);
    if (!t) return null;
    return { last: t.last, at: t.at, ...(t.bid ? { bid: t.bid } : {}), ...(t.ask ? { ask: t.ask } : {}) };
  }

  /** The last price of `symbol` as of `at`, as a canonical decimal string. */
  lastAt(symbol: string, at: number): string | null {
    const t = this.tickAt(symbol, at);
    return t ? decimalString(t.last) : null;
  }
}
