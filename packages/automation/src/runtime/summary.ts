/**
 * What every recipe run reports: the outcome, the reason when nothing was done, the plan (orders
 * and skipped orders with their reasons) and what became of each order. It is the run's result in
 * the execution history, and what `simulate` reads back.
 */

import type { JsonValue } from "@tradecron/core";

/** The recipes. */
export type RecipeKind = "autoInvest" | "rebalance" | "priceTrigger" | "strategyLoop";

/**
 * What a run did: `executed` (orders submitted), `proposed` (orders wait for approval),
 * `skipped` (nothing to do, `reason` says why), `deferred` (a retried fire found its earlier
 * attempt's orders and a changed plan; the next fire finishes the work).
 */
export type RunOutcome = "executed" | "proposed" | "skipped" | "deferred";

/** An order a plan asks for. Decimals are strings. */
export interface PlannedOrder {
  symbol: string;
  side: "buy" | "sell";
  qty?: string;
  notional?: string;
  /** Its value at the planning price (qty x price, or the notional). */
  value: string;
  /** The price the plan used, when it used one. */
  price?: string;
  /** Why the plan asks for it (`drift`, `cash_flow`, `auto_invest`, `signal`, `exit`, `trigger`). */
  why: string;
}

/** An order a plan considered and left out, with the reason. */
export interface SkippedOrder {
  symbol: string;
  side: "buy" | "sell";
  qty?: string;
  value?: string;
  /** `below_minimum`, `no_price`, `insufficient_cash`, `below_min_confidence`, `max_concurrent_trades`, ... */
  reason: string;
  detail?: string;
}

/** What happened to one planned order when it was submitted or proposed. */
export interface OrderOutcome {
  symbol: string;
  side: "buy" | "sell";
  clientOrderId: string;
  /** `submitted`, `rejected` (by the risk guard or the broker), `queued`/`pending` for approval. */
  status: string;
  /** The broker's order status when submitted (`filled`, `new`, ...). */
  orderStatus?: string;
  filledQty?: string;
  avgFillPrice?: string | null;
  approvalId?: string;
  rule?: string;
  reason?: string;
}

/** The result of one recipe run. */
export interface RunSummary {
  recipe: RecipeKind;
  /** The recipe's id. */
  id: string;
  outcome: RunOutcome;
  /** Why nothing (or not everything) was done; null when executed as planned. */
  reason: string | null;
  /** The cadence period executed or considered ('2026-03', a week's Monday, a session date). */
  period?: string | null;
  planned: PlannedOrder[];
  skipped: SkippedOrder[];
  orders: OrderOutcome[];
  /** Recipe-specific facts (drift per symbol, the price seen, the cap left, ...). */
  details?: { [key: string]: JsonValue };
}

/** A summary with nothing planned. */
export function skippedRun(
  recipe: RecipeKind,
  id: string,
  reason: string,
  details?: { [key: string]: JsonValue },
): RunSummary {
  return {
    recipe,
    id,
    outcome: "skipped",
    reason,
    planned: [],
    skipped: [],
    orders: [],
    ...(details ? { details } : {}),
  };
}

/** The summary of a retried fire that found its earlier attempt's orders at odds with the new plan. */
export function deferredRun(
  recipe: RecipeKind,
  id: string,
  placement: { reason: string | null; outcomes: OrderOutcome[] },
  plan: {
    planned: PlannedOrder[];
    skipped: SkippedOrder[];
    period?: string | null;
    details?: { [key: string]: JsonValue };
  },
): RunSummary {
  return {
    recipe,
    id,
    outcome: "deferred",
    reason: placement.reason,
    ...(plan.period !== undefined ? { period: plan.period } : {}),
    planned: plan.planned,
    skipped: plan.skipped,
    orders: placement.outcomes,
    ...(plan.details ? { details: plan.details } : {}),
  };
}
