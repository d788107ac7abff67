/**
 * Auto-invest planning, a pure function of (rule, amount already invested, prices): which buys
 * one execution makes. Amounts are exact decimals throughout. With a total cap, the last purchase
 * is cut to what is left and no plan ever exceeds it: notional legs are cut to the cent (and the
 * cents a split leaves over go to the legs with the largest remainders, so the legs add up to the
 * budget exactly); share legs are cut down to whole (or fractional) shares at the planning price.
 */

import { Decimal, decimalString } from "@tradecron/core";
import type { PlannedOrder, SkippedOrder } from "../runtime/summary.js";

/** One leg of a rule: a symbol with a weight (amount mode) or a quantity (quantity mode). */
export interface AutoInvestLeg {
  symbol: string;
  /** Share of the amount, a decimal; the legs' weights sum to 1 (amount mode). */
  weight?: string;
  /** Shares to buy each time (quantity mode). */
  quantity?: string;
}

/** A validated rule, as the planner needs it. */
export interface AutoInvestRule {
  legs: readonly AutoInvestLeg[];
  /** Invest an `amount` split by weight, or buy fixed quantities. */
  mode: "amount" | "quantity";
  /** The amount per execution (amount mode). */
  amount: string | null;
  /**
   * Amount mode: buy by notional (fractional shares, where the broker allows) rather than whole
   * shares at the current price. Quantity mode: a purchase cut for the cap may buy fractional shares.
   */
  fractional: boolean;
  /** Total the rule may ever invest, or null. */
  cap: string | null;
  /** Smallest order worth placing (notional); smaller legs are skipped as `below_minimum`. */
  minOrder: string;
  /** Decimals of share quantities when they are computed (0 for whole shares). */
  quantityDecimals: number;
}

/** What one execution buys. */
export interface AutoInvestPlan {
  /** `cap_reached` when nothing is left under the cap; null otherwise. */
  blocked: "cap_reached" | null;
  /** The amount this execution may spend (amount mode; cut by the cap). */
  budget: string | null;
  /** True when the cap cut this purchase short. */
  partial: boolean;
  orders: PlannedOrder[];
  skipped: SkippedOrder[];
  /** Planned value of the orders. */
  total: string;
  /** What the cap leaves after this plan, or null without a cap. */
  capRemaining: string | null;
}

const CENT = 2;

/** Splits `budget` by `weights` into cents that add up to `budget` rounded down to the cent. */
export function splitCents(budget: Decimal, weights: readonly Decimal[]): Decimal[] {
  const total = budget.toDecimalPlaces(CENT, Decimal.ROUND_DOWN);
  const exact = weights.map((w) => budget.times(w));
  const parts = exact.map((x) => x.toDecimalPlaces(CENT, Decimal.ROUND_DOWN));
  let left = total.minus(parts.reduce((a, b) => a.plus(b), new Decimal(0)));
  const cent = new Decimal("0.01");
  // Largest remainder first; ties to the earlier leg, so the split is deterministic.
  const order = exact
    .map((x, i) => ({ i, rest: x.minus(parts[i] as Decimal) }))
    .sort((a, b) => b.rest.comparedTo(a.rest) || a.i - b.i);
  for (const { i } of order) {
    if (left.lt(cent)) break;
    if ((weights[i] as Decimal).isZero()) continue;
    parts[i] = (parts[i] as Decimal).plus(cent);
    left = left.minus(cent);
  }
  return parts;
}

/** Plans one execution of `rule`, given what it has invested so far and the current prices. */
export function planAutoInvest(
  rule: AutoInvestRule,
  invested: Decimal.Value,
  prices: ReadonlyMap<string, Decimal | null>,
): AutoInvestPlan {
  const spent = new Decimal(invested);
  const minOrder = new Decimal(rule.minOrder);
  const remaining = rule.cap === null ? null : Decimal.max(0, new Decimal(rule.cap).minus(spent));
  const orders: PlannedOrder[] = [];
  const skipped: SkippedOrder[] = [];
  const done = (budget: Decimal | null, partial: boolean): AutoInvestPlan => {
    const total = orders.reduce((a, o) => a.plus(o.value), new Decimal(0));
    return {
      blocked: null,
      budget: budget === null ? null : decimalString(budget),
      partial,
      orders,
      skipped,
      total: decimalString(total),
      capRemaining: remaining === null ? null : decimalString(remaining.minus(total)),
    };
  };
  if (remaining?.lt(minOrder)) {
    return {
      blocked: "cap_reached",
      budget: "0",
      partial: false,
      orders,
      skipped,
      total: "0",
      capRemaining: decimalString(remaining),
    };
  }
  if (rule.mode === "amount") {
    const amount = new Decimal(rule.amount ?? 0);
    const budget = remaining === null ? amount : Decimal.min(amount, remaining);
    const partial = budget.lt(amount);
    const weights = rule.legs.map((l) => new Decimal(l.weight ?? 0));
    const shares = splitCents(budget, weights);
    rule.legs.forEach((leg, i) => {
      const share = shares[i] as Decimal;
      const price = prices.get(leg.symbol) ?? null;
      if (rule.fractional) {
        if (share.lt(minOrder)) {
          skipped.push({
            symbol: leg.symbol,
            side: "buy",
            value: decimalString(share),
            reason: "below_minimum",
            detail: `${decimalString(share)} is below the minimum order of ${rule.minOrder}`,
          });
          return;
        }
        orders.push({
          symbol: leg.symbol,
          side: "buy",
          notional: decimalString(share),
          value: decimalString(share),
          ...(price ? { price: decimalString(price) } : {}),
          why: "auto_invest",
        });
        return;
      }
      if (!price) {
        skipped.push({
          symbol: leg.symbol,
          side: "buy",
          value: decimalString(share),
          reason: "no_price",
          detail: "whole-share purchases need a price",
        });
        return;
      }
      const qty = share.div(price).toDecimalPlaces(rule.quantityDecimals, Decimal.ROUND_DOWN);
      const value = qty.times(price);
      if (qty.isZero() || value.lt(minOrder)) {
        skipped.push({
          symbol: leg.symbol,
          side: "buy",
          value: decimalString(share),
          reason: "below_minimum",
          detail: `${decimalString(share)} buys no ${leg.symbol} at ${decimalString(price)}`,
        });
        return;
      }
      orders.push({
        symbol: leg.symbol,
        side: "buy",
        qty: decimalString(qty),
        value: decimalString(value),
        price: decimalString(price),
        why: "auto_invest",
      });
    });
    return done(budget, partial);
  }

  // Quantity mode: fixed quantities, cut proportionally when the cap cannot pay for all of them.
  const legs = rule.legs.map((leg) => ({
    leg,
    qty: new Decimal(leg.quantity ?? 0),
    price: prices.get(leg.symbol) ?? null,
  }));
  if (remaining !== null) {
    const unpriced = legs.filter((l) => !l.price);
    for (const l of unpriced) {
      skipped.push({
        symbol: l.leg.symbol,
        side: "buy",
        qty: decimalString(l.qty),
        reason: "no_price",
        detail: "a capped rule values every purchase before it buys",
      });
    }
  }
  const priced = remaining === null ? legs : legs.filter((l) => l.price);
  const cost = priced.reduce((a, l) => a.plus(l.price ? l.qty.times(l.price) : 0), new Decimal(0));
  const partial = remaining !== null && cost.gt(remaining);
  const scale = partial && remaining ? remaining.div(cost) : new Decimal(1);
  const decimals = rule.fractional ? rule.quantityDecimals || 6 : 0;
  for (const l of priced) {
    const qty = partial ? l.qty.times(scale).toDecimalPlaces(decimals, Decimal.ROUND_DOWN) : l.qty;
    const value = l.price ? qty.times(l.price) : null;
    if (qty.isZero() || value?.lt(minOrder)) {
      skipped.push({
        symbol: l.leg.symbol,
        side: "buy",
        qty: decimalString(qty),
        reason: partial ? "cap_reached" : "below_minimum",
        detail: partial
          ? "the cap leaves too little for this leg"
          : `below the minimum order of ${rule.minOrder}`,
      });
      continue;
    }
    orders.push({
      symbol: l.leg.symbol,
      side: "buy",
      qty: decimalString(qty),
      value: value === null ? "0" : decimalString(value),
      ...(l.price ? { price: decimalString(l.price) } : {}),
      why: "auto_invest",
    });
  }
  if (orders.length === 0 && partial) {
    return {
      blocked: "cap_reached",
      budget: null,
      partial: false,
      orders,
      skipped,
      total: "0",
      capRemaining: decimalString(remaining as Decimal),
    };
  }
  return done(null, partial);
}
