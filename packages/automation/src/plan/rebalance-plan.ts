/**
 * Drift rebalancing, a pure function of (rule, portfolio snapshot): whether the portfolio has
 * drifted out of its bands, and the plan that brings it back, as data (orders, and the orders left
 * out with the reason). The rule combines what the anchors do separately:
 *
 * - bands per holding, absolute (percentage points) and relative (a share of the target), the
 *   tighter of the two applying, so the 5/25 rule is `{ absolute: 0.05, relative: 0.25 }`; and
 *   optionally a portfolio drift threshold, half the sum of absolute deviations (Betterment's);
 * - a cash buffer (a fraction of the portfolio, an amount, or both: the larger is kept);
 * - cash flows first (M1, Betterment): cash above the buffer goes to the underweight holdings, the
 *   relatively most underweight first, a shortfall below it is raised from the overweight ones,
 *   the most overweight first, and sells happen only if the portfolio is still out of its bands
 *   after that;
 * - a minimum trade (LEAN's minimum order margin, Alpaca's $1): smaller orders are skipped;
 * - sells before buys, and buys cut to the cash the sells and the buffer leave.
 *
 * Weights are measured against the investable value (everything minus the buffer), so targets
 * that sum to 1 describe the invested part exactly. Symbols outside the targets are ignored.
 */

import { Decimal, decimalString } from "@tradecron/core";
import type { PlannedOrder, SkippedOrder } from "../runtime/summary.js";

/** A validated rebalancing rule, as the planner needs it. */
export interface RebalanceRule {
  targets: readonly { symbol: string; weight: string }[];
  /** Per-holding bands; a holding is out when |weight - target| exceeds the tighter one. */
  bands: { absolute: string | null; relative: string | null };
  /** Portfolio drift (sum |deviation| / 2, cash included) at or above which the portfolio is out. */
  portfolioDrift: string | null;
  /** `drift`: rebalance only when out of the bands; `always`: every check (calendar rebalancing). */
  when: "drift" | "always";
  /** Orders worth less than this are skipped as `below_minimum`. */
  minTrade: string;
  /** Cash kept back: the larger of `fraction` x total value and `amount`. */
  cashBuffer: { fraction: string; amount: string };
  /** `first`: use cash flows before selling; `ignore`: always a full rebalance when due. */
  cashFlows: "first" | "ignore";
  /** Decimals of order quantities (0: whole shares). */
  quantityDecimals: number;
}

/** A holding: quantity held and current price. */
export interface Holding {
  qty: Decimal;
  price: Decimal | null;
}

/** The portfolio a plan starts from. */
export interface PortfolioSnapshot {
  cash: Decimal;
  /** By symbol; target symbols not held may be absent (with their price in `prices`). */
  holdings: ReadonlyMap<string, Holding>;
  /** Prices of target symbols (used when a symbol is not held). */
  prices: ReadonlyMap<string, Decimal | null>;
}

/** One target's drift. Decimals as strings; weights as fractions. */
export interface DriftRow {
  symbol: string;
  target: string;
  weight: string;
  /** weight - target. */
  deviation: string;
  /** deviation / target; null for a zero target. */
  relative: string | null;
  /** The band that applies (the tighter one); null without per-holding bands. */
  band: string | null;
  outOfBand: boolean;
  value: string;
  qty: string;
  price: string | null;
}

/** Why a plan is what it is. */
export type RebalanceReason =
  | "drift"
  | "portfolio_drift"
  | "cash_flow"
  | "calendar"
  | "within_bands"
  | "no_price"
  | "empty";

/** The plan. */
export interface RebalancePlan {
  /** True when the plan trades (its orders may still be empty if every one is below the minimum). */
  due: boolean;
  reason: RebalanceReason;
  /** Cash plus the value of the target holdings. */
  total: string;
  buffer: string;
  investable: string;
  cash: string;
  portfolioDrift: string;
  drift: DriftRow[];
  /** Sells first, then buys, each by symbol. */
  orders: PlannedOrder[];
  skipped: SkippedOrder[];
  /** Symbols without a price (when `reason` is `no_price`). */
  missingPrices: string[];
}

const ZERO = new Decimal(0);
const sum = (xs: readonly Decimal[]) => xs.reduce((a, b) => a.plus(b), ZERO);
const s = (d: Decimal) => decimalString(d);

interface Row {
  symbol: string;
  target: Decimal;
  qty: Decimal;
  price: Decimal;
  value: Decimal;
}

function driftOf(
  rule: RebalanceRule,
  rows: readonly Row[],
  values: readonly Decimal[],
  investable: Decimal,
  cashExcess: Decimal,
) {
  const absBand = rule.bands.absolute === null ? null : new Decimal(rule.bands.absolute);
  const relBand = rule.bands.relative === null ? null : new Decimal(rule.bands.relative);
  let outOfBand = false;
  const table: DriftRow[] = rows.map((r, i) => {
    const value = values[i] as Decimal;
    const weight = investable.isZero() ? ZERO : value.div(investable);
    const deviation = weight.minus(r.target);
    const bands = [absBand, relBand === null ? null : relBand.times(r.target)].filter(
      (b): b is Decimal => b !== null,
    );
    const band = bands.length === 0 ? null : Decimal.min(...bands);
    const out = band !== null && deviation.abs().gt(band);
    if (out) outOfBand = true;
    return {
      symbol: r.symbol,
      target: s(r.target),
      weight: s(weight.toSignificantDigits(12)),
      deviation: s(deviation.toSignificantDigits(12)),
      relative: r.target.isZero() ? null : s(deviation.div(r.target).toSignificantDigits(12)),
      band: band === null ? null : s(band),
      outOfBand: out,
      value: s(value),
      qty: s(r.qty),
      price: s(r.price),
    };
  });
  const cashWeight = investable.isZero() ? ZERO : cashExcess.div(investable);
  const portfolio = sum(
    rows.map((r, i) =>
      investable.isZero() ? ZERO : (values[i] as Decimal).div(investable).minus(r.target).abs(),
    ),
  )
    .plus(cashWeight.abs())
    .div(2);
  const portfolioOut = rule.portfolioDrift !== null && portfolio.gte(rule.portfolioDrift);
  return { table, outOfBand, portfolio, portfolioOut };
}

/**
 * Fills `gaps` (all >= 0) with `amount`, the relatively largest gap first (gap / target value: M1's
 * "most underweight first"), each up to its gap. A small cash flow then buys one holding rather
 * than a sliver of each, which a minimum trade or a whole share would throw away.
 */
function fillLargestFirst(amount: Decimal, gaps: readonly Decimal[], targets: readonly Decimal[]): Decimal[] {
  const out = gaps.map(() => ZERO);
  const order = gaps
    .map((gap, i) => ({
      i,
      gap,
      rel: (targets[i] as Decimal).isZero() ? gap : gap.div(targets[i] as Decimal),
    }))
    .filter((g) => g.gap.gt(0))
    .sort((a, b) => b.rel.comparedTo(a.rel) || a.i - b.i);
  let left = amount;
  for (const { i, gap } of order) {
    if (left.lte(0)) break;
    out[i] = Decimal.min(gap, left);
    left = left.minus(out[i] as Decimal);
  }
  return out;
}

/** Plans a rebalance of `snapshot` under `rule`. */
export function planRebalance(rule: RebalanceRule, snapshot: PortfolioSnapshot): RebalancePlan {
  const missing: string[] = [];
  const rows: Row[] = [];
  for (const t of rule.targets) {
    const held = snapshot.holdings.get(t.symbol);
    const price = held?.price ?? snapshot.prices.get(t.symbol) ?? null;
    const qty = held?.qty ?? ZERO;
    if (!price) {
      missing.push(t.symbol);
      continue;
    }
    rows.push({ symbol: t.symbol, target: new Decimal(t.weight), qty, price, value: qty.times(price) });
  }
  const cash = snapshot.cash;
  const invested = sum(rows.map((r) => r.value));
  const total = invested.plus(cash);
  const buffer = Decimal.max(total.times(rule.cashBuffer.fraction), new Decimal(rule.cashBuffer.amount));
  const investable = Decimal.max(ZERO, total.minus(buffer));
  // `orders` and `skipped` are filled in below; a plan that is not due returns them empty.
  const base = {
    total: s(total),
    buffer: s(buffer),
    investable: s(investable),
    cash: s(cash),
    orders: [] as PlannedOrder[],
    skipped: [] as SkippedOrder[],
    missingPrices: missing,
  };
  if (missing.length > 0) {
    return { ...base, due: false, reason: "no_price", portfolioDrift: "0", drift: [] };
  }
  const excess = cash.minus(buffer);
  const now = driftOf(
    rule,
    rows,
    rows.map((r) => r.value),
    investable,
    excess,
  );
  const result = (due: boolean, reason: RebalanceReason): RebalancePlan => ({
    ...base,
    due,
    reason,
    portfolioDrift: s(now.portfolio.toSignificantDigits(12)),
    drift: now.table,
  });
  if (investable.isZero()) return result(false, "empty");

  const targetValues = rows.map((r) => r.target.times(investable));
  const fullDeltas = rows.map((r, i) => (targetValues[i] as Decimal).minus(r.value));
  const cashFlowDeltas = (): Decimal[] => {
    if (excess.gt(0)) {
      return fillLargestFirst(
        excess,
        fullDeltas.map((d) => Decimal.max(ZERO, d)),
        targetValues,
      );
    }
    return fillLargestFirst(
      excess.neg(),
      fullDeltas.map((d) => Decimal.max(ZERO, d.neg())),
      targetValues,
    ).map((d) => d.neg());
  };
  const cashFlowMatters = rule.cashFlows === "first" && excess.abs().gte(rule.minTrade);

  let deltas: Decimal[];
  let reason: RebalanceReason;
  const driftDue = now.outOfBand || now.portfolioOut;
  if (rule.when === "always") {
    deltas = fullDeltas;
    reason = "calendar";
  } else if (driftDue) {
    reason = now.outOfBand ? "drift" : "portfolio_drift";
    deltas = fullDeltas;
    if (cashFlowMatters) {
      const flows = cashFlowDeltas();
      const after = driftOf(
        rule,
        rows,
        rows.map((r, i) => r.value.plus(flows[i] as Decimal)),
        investable,
        ZERO,
      );
      if (!after.outOfBand && !after.portfolioOut) {
        deltas = flows;
        reason = "cash_flow";
      }
    }
  } else if (cashFlowMatters) {
    deltas = cashFlowDeltas();
    reason = "cash_flow";
  } else {
    return result(false, "within_bands");
  }

  const plan = result(true, reason);
  const why = reason === "cash_flow" ? "cash_flow" : reason === "calendar" ? "calendar" : "drift";
  const minTrade = new Decimal(rule.minTrade);
  const sells: PlannedOrder[] = [];
  const buys: { row: Row; delta: Decimal }[] = [];
  rows.forEach((row, i) => {
    const delta = deltas[i] as Decimal;
    if (delta.isZero()) return;
    if (delta.lt(0)) {
      const sellAll = row.target.isZero();
      const qty = sellAll
        ? row.qty
        : Decimal.min(
            row.qty,
            delta.neg().div(row.price).toDecimalPlaces(rule.quantityDecimals, Decimal.ROUND_DOWN),
          );
      const value = qty.times(row.price);
      if (qty.isZero() || value.lt(minTrade)) {
        plan.skipped.push({
          symbol: row.symbol,
          side: "sell",
          qty: s(qty),
          value: s(delta.neg()),
          reason: "below_minimum",
          detail: `${s(delta.neg().toDecimalPlaces(2))} to sell is below the minimum trade of ${rule.minTrade} (or under one share)`,
        });
        return;
      }
      sells.push({
        symbol: row.symbol,
        side: "sell",
        qty: s(qty),
        value: s(value),
        price: s(row.price),
        why,
      });
    } else {
      buys.push({ row, delta });
    }
  });
  const proceeds = sum(sells.map((o) => new Decimal(o.value)));
  const available = Decimal.max(ZERO, cash.plus(proceeds).minus(buffer));
  const wanted = sum(buys.map((b) => b.delta));
  const scale = wanted.gt(available) ? (wanted.isZero() ? ZERO : available.div(wanted)) : new Decimal(1);
  const planned: PlannedOrder[] = [];
  for (const { row, delta } of buys) {
    const amount = delta.times(scale);
    const qty = amount.div(row.price).toDecimalPlaces(rule.quantityDecimals, Decimal.ROUND_DOWN);
    const value = qty.times(row.price);
    if (qty.isZero() || value.lt(minTrade)) {
      const short = scale.lt(1) && delta.gte(minTrade);
      plan.skipped.push({
        symbol: row.symbol,
        side: "buy",
        qty: s(qty),
        value: s(delta),
        reason: short ? "insufficient_cash" : "below_minimum",
        detail: short
          ? `${s(available.toDecimalPlaces(2))} of cash is left after the buffer`
          : `${s(delta.toDecimalPlaces(2))} to buy is below the minimum trade of ${rule.minTrade} (or under one share)`,
      });
      continue;
    }
    planned.push({ symbol: row.symbol, side: "buy", qty: s(qty), value: s(value), price: s(row.price), why });
  }
  if (reason === "cash_flow" && !driftDue && sells.length === 0 && planned.length === 0) {
    // Cash too small to buy anything that clears the minimum: nothing is due, nothing to report.
    return { ...result(false, "within_bands"), orders: [], skipped: [] };
  }
  const bySymbol = (a: PlannedOrder, b: PlannedOrder) =>
    a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0;
  plan.orders = [...sells.sort(bySymbol), ...planned.sort(bySymbol)];
  return plan;
}
