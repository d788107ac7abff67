/**
 * When a resting order executes, as pure functions of the order and the current price: PaperBroker
 * asks on every price update. Executions happen at the current price (a gap through a limit fills
 * at the better price, a gap through a stop at the worse one), as a simple paper model.
 */

import { Decimal } from "../orders/decimal.js";

/** The trigger-relevant state of one open order. */
export interface TriggerState {
  side: "buy" | "sell";
  type: "market" | "limit" | "stop" | "stop_limit" | "trailing_stop";
  limitPrice: Decimal | null;
  stopPrice: Decimal | null;
  trailPercent: Decimal | null;
  trailPrice: Decimal | null;
  /** A stop_limit whose stop was hit rests as a limit order. */
  triggered: boolean;
  /** Trailing stops: the best price seen since submission (highest for sells, lowest for buys). */
  watermark: Decimal | null;
}

/** The outcome of one evaluation: whether to execute now, and the order's updated trigger state. */
export interface TriggerResult {
  execute: boolean;
  triggered: boolean;
  watermark: Decimal | null;
  /** The stop price after the evaluation (trailing stops move it). */
  stopPrice: Decimal | null;
}

/** True if a limit order on `side` at `limit` may execute at `price`. */
export function limitReached(side: "buy" | "sell", limit: Decimal, price: Decimal): boolean {
  return side === "buy" ? price.lte(limit) : price.gte(limit);
}

/** True if a stop on `side` at `stop` is hit at `price` (buy stops above, sell stops below). */
export function stopReached(side: "buy" | "sell", stop: Decimal, price: Decimal): boolean {
  return side === "buy" ? price.gte(stop) : price.lte(stop);
}

/** The stop of a trailing order: `trail` (absolute or percent) away from the watermark. */
export function trailingStop(
  side: "buy" | "sell",
  watermark: Decimal,
  trailPrice: Decimal | null,
  trailPercent: Decimal | null,
): Decimal {
  const distance = trailPrice ?? watermark.times(trailPercent ?? 0).div(100);
  return side === "sell" ? watermark.minus(distance) : watermark.plus(distance);
}

/** Evaluates `order` at `price`. */
export function evaluateTrigger(order: TriggerState, price: Decimal): TriggerResult {
  const keep = { triggered: order.triggered, watermark: order.watermark, stopPrice: order.stopPrice };
  switch (order.type) {
    case "market":
      return { ...keep, execute: true };
    case "limit":
      return {
        ...keep,
        execute: order.limitPrice !== null && limitReached(order.side, order.limitPrice, price),
      };
    case "stop":
      return {
        ...keep,
        execute: order.stopPrice !== null && stopReached(order.side, order.stopPrice, price),
      };
    case "stop_limit": {
      const triggered =
        order.triggered || (order.stopPrice !== null && stopReached(order.side, order.stopPrice, price));
      const execute =
        triggered && order.limitPrice !== null && limitReached(order.side, order.limitPrice, price);
      return { ...keep, triggered, execute };
    }
    case "trailing_stop": {
      const previous = order.watermark ?? price;
      const watermark = order.side === "sell" ? Decimal.max(previous, price) : Decimal.min(previous, price);
      const stopPrice = trailingStop(order.side, watermark, order.trailPrice, order.trailPercent);
      return {
        triggered: order.triggered,
        watermark,
        stopPrice,
        execute: stopReached(order.side, stopPrice, price),
      };
    }
  }
}
