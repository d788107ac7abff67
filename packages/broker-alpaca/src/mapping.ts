/**
 * Pure translations between core's broker-neutral types and Alpaca's wire format: an intent to
 * a `POST /v2/orders` body, and Alpaca's orders, account, positions and clock to core's types.
 * Amounts stay decimal strings (normalised with core's `decimalString`).
 */

import {
  type BrokerAccount,
  type BrokerClock,
  type BrokerOrder,
  type BrokerOrderStatus,
  type BrokerPosition,
  decimalString,
  type OrderIntent,
} from "@tradecron/core";
import type { AlpacaAccount, AlpacaOrder, AlpacaPosition } from "./wire.js";

/** The JSON body of `POST /v2/orders` for an intent. */
export function orderBody(intent: OrderIntent, clientOrderId: string): Record<string, unknown> {
  const body: Record<string, unknown> = {
    symbol: intent.symbol,
    side: intent.side,
    type: intent.type,
    time_in_force: intent.timeInForce,
    client_order_id: clientOrderId,
  };
  if (intent.qty !== undefined) body.qty = intent.qty;
  if (intent.notional !== undefined) body.notional = intent.notional;
  if (intent.limitPrice !== undefined) body.limit_price = intent.limitPrice;
  if (intent.stopPrice !== undefined) body.stop_price = intent.stopPrice;
  if (intent.trailPercent !== undefined) body.trail_percent = intent.trailPercent;
  if (intent.trailPrice !== undefined) body.trail_price = intent.trailPrice;
  if (intent.extendedHours) body.extended_hours = true;
  if (intent.bracket) {
    body.order_class = "bracket";
    body.take_profit = { limit_price: intent.bracket.takeProfit.limitPrice };
    body.stop_loss = {
      stop_price: intent.bracket.stopLoss.stopPrice,
      ...(intent.bracket.stopLoss.limitPrice === undefined
        ? {}
        : { limit_price: intent.bracket.stopLoss.limitPrice }),
    };
  }
  return body;
}

const ORDER_TYPES = new Set(["market", "limit", "stop", "stop_limit", "trailing_stop"]);
const TIME_IN_FORCE = new Set(["day", "gtc", "opg", "cls", "ioc", "fok"]);

/**
 * Alpaca's status in core's vocabulary. Alpaca's rarer states are folded into the nearest one
 * core knows: `held` (a bracket leg waiting for its entry), `accepted_for_bidding`, `stopped` and
 * `suspended` are still working (`accepted`, or `partially_filled` once something filled);
 * `pending_replace` stays open; `calculated` is done for the day unless it filled completely.
 */
export function orderStatus(status: string, filledQty: string, qty: string | null): BrokerOrderStatus {
  const partly = filledQty !== "0";
  switch (status) {
    case "new":
    case "partially_filled":
    case "filled":
    case "done_for_day":
    case "canceled":
    case "expired":
    case "replaced":
    case "pending_cancel":
    case "accepted":
    case "pending_new":
    case "rejected":
      return status;
    case "calculated":
      return qty !== null && filledQty === qty ? "filled" : "done_for_day";
    case "pending_replace":
      return partly ? "partially_filled" : "new";
    default:
      // held, accepted_for_bidding, stopped, suspended, and any state Alpaca adds later
      return partly ? "partially_filled" : "accepted";
  }
}

const dec = (v: string | null | undefined): string | null =>
  v === null || v === undefined || v === "" ? null : decimalString(v);

/** Epoch ms of an RFC 3339 time (Alpaca sends up to nanoseconds; ms precision is kept). */
export function epochMs(text: string | null | undefined, fallback: number): number {
  if (!text) return fallback;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : fallback;
}

/**
 * A nanosecond sort key of an RFC 3339 time, finer than `Date.parse` (events of one order can
 * be microseconds apart). 0n when unreadable.
 */
export function instantKey(text: string | null | undefined): bigint {
  if (!text) return 0n;
  const match = /^(.*?T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(.*)$/.exec(text);
  if (!match) return 0n;
  const seconds = Date.parse(`${match[1]}${match[3] || "Z"}`);
  if (!Number.isFinite(seconds)) return 0n;
  const fraction = (match[2] ?? "").padEnd(9, "0").slice(0, 9);
  return BigInt(seconds) * 1_000_000n + BigInt(fraction);
}

/** True when core can represent the order (Alpaca also has multi-leg options and other shapes). */
export function isMappable(order: AlpacaOrder): boolean {
  const type = order.type ?? order.order_type ?? "";
  return (
    (order.side === "buy" || order.side === "sell") &&
    order.symbol.length > 0 &&
    ORDER_TYPES.has(type) &&
    TIME_IN_FORCE.has(order.time_in_force)
  );
}

/**
 * Alpaca's order as core's {@link BrokerOrder} (frozen, legs included). `clientOrderId` maps a
 * wire id back to the caller's.
 */
export function brokerOrder(order: AlpacaOrder, clientOrderId: (wire: string) => string): BrokerOrder {
  const filledQty = dec(order.filled_qty) ?? "0";
  const qty = dec(order.qty);
  const submittedAt = epochMs(order.submitted_at ?? order.created_at, 0);
  const legs = (order.legs ?? []).filter(isMappable).map((leg) => brokerOrder(leg, clientOrderId));
  return Object.freeze({
    id: order.id,
    clientOrderId: clientOrderId(order.client_order_id),
    symbol: order.symbol,
    side: order.side as BrokerOrder["side"],
    type: (order.type ?? order.order_type) as BrokerOrder["type"],
    timeInForce: order.time_in_force as BrokerOrder["timeInForce"],
    qty,
    notional: dec(order.notional),
    limitPrice: dec(order.limit_price),
    stopPrice: dec(order.stop_price),
    trailPercent: dec(order.trail_percent),
    trailPrice: dec(order.trail_price),
    extendedHours: order.extended_hours === true,
    status: orderStatus(order.status, filledQty, qty),
    filledQty,
    filledAvgPrice: dec(order.filled_avg_price),
    submittedAt,
    updatedAt: epochMs(order.updated_at, submittedAt),
    legs: Object.freeze(legs) as BrokerOrder[],
  });
}

/** Alpaca's account as core's {@link BrokerAccount}. */
export function brokerAccount(account: AlpacaAccount): BrokerAccount {
  return {
    id: account.id,
    currency: account.currency || "USD",
    cash: dec(account.cash) ?? "0",
    buyingPower: dec(account.buying_power) ?? "0",
    equity: dec(account.equity) ?? "0",
    status: account.status,
  };
}

/** Alpaca's position as core's {@link BrokerPosition}: shorts get a negative quantity. */
export function brokerPosition(position: AlpacaPosition): BrokerPosition {
  const qty = decimalString(position.qty);
  const signed = position.side === "short" && !qty.startsWith("-") && qty !== "0" ? `-${qty}` : qty;
  return {
    symbol: position.symbol,
    qty: signed,
    side: position.side,
    avgEntryPrice: decimalString(position.avg_entry_price),
    marketValue: dec(position.market_value),
  };
}

/** Alpaca's market clock as core's {@link BrokerClock}. */
export function brokerClock(clock: {
  timestamp: string;
  is_open: boolean;
  next_open: string;
  next_close: string;
}): BrokerClock {
  return {
    timestamp: epochMs(clock.timestamp, Number.NaN),
    isOpen: clock.is_open,
    nextOpen: epochMs(clock.next_open, Number.NaN),
    nextClose: epochMs(clock.next_close, Number.NaN),
  };
}

/** The trade_updates event name that reports an order's current status (for reconciled updates). */
export function eventForStatus(status: BrokerOrderStatus): string {
  switch (status) {
    case "filled":
      return "fill";
    case "partially_filled":
      return "partial_fill";
    default:
      return status;
  }
}
