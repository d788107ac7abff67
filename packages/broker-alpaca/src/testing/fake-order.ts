/**
 * The fake's order record, its validation against Alpaca's rules for `POST /v2/orders`, and the
 * pure decision of whether a price executes an order. Refusals carry Alpaca's HTTP status,
 * numeric code and wording.
 */

import { Decimal } from "@tradecron/core";

/** A refusal as Alpaca answers it. */
export interface AlpacaRefusal {
  status: number;
  code: number;
  message: string;
}

/** An order inside the fake. */
export interface FakeOrder {
  id: string;
  clientOrderId: string;
  symbol: string;
  side: "buy" | "sell";
  type: "market" | "limit" | "stop" | "stop_limit" | "trailing_stop";
  timeInForce: "day" | "gtc" | "opg" | "cls" | "ioc" | "fok";
  /** Null for notional orders until they fill. */
  qty: Decimal | null;
  notional: Decimal | null;
  limitPrice: Decimal | null;
  stopPrice: Decimal | null;
  trailPercent: Decimal | null;
  trailPrice: Decimal | null;
  /** High (sell) or low (buy) water mark of a trailing stop. */
  hwm: Decimal | null;
  extendedHours: boolean;
  status: string;
  filledQty: Decimal;
  filledAvgPrice: Decimal | null;
  orderClass: "" | "bracket";
  parentId: string | null;
  legIds: string[];
  /** A stop that has been triggered (stop_limit rests as a limit afterwards). */
  triggered: boolean;
  createdAt: string;
  submittedAt: string;
  updatedAt: string;
  filledAt: string | null;
  canceledAt: string | null;
  expiredAt: string | null;
  failedAt: string | null;
}

/** Statuses in which an order can still execute or be cancelled. */
export const OPEN_STATUSES = new Set([
  "new",
  "accepted",
  "pending_new",
  "partially_filled",
  "held",
  "pending_cancel",
  "done_for_day",
]);

const TYPES = new Set(["market", "limit", "stop", "stop_limit", "trailing_stop"]);
const TIFS = new Set(["day", "gtc", "opg", "cls", "ioc", "fok"]);
const DECIMAL = /^\d+(\.\d+)?$/;

const refuse = (message: string, status = 422, code = 42210000): AlpacaRefusal => ({ status, code, message });

/** A validated `POST /v2/orders` body. */
export type OrderInput = Pick<
  FakeOrder,
  | "symbol"
  | "side"
  | "type"
  | "timeInForce"
  | "qty"
  | "notional"
  | "limitPrice"
  | "stopPrice"
  | "trailPercent"
  | "trailPrice"
  | "extendedHours"
> & {
  clientOrderId: string | null;
  bracket: { takeProfit: Decimal; stopLoss: Decimal; stopLimit: Decimal | null } | null;
};

function decimalField(body: Record<string, unknown>, key: string): Decimal | null | AlpacaRefusal {
  const v = body[key];
  if (v === undefined || v === null) return null;
  const text = typeof v === "number" ? String(v) : v;
  if (typeof text !== "string" || !DECIMAL.test(text)) return refuse(`invalid ${key}`, 422, 40010000);
  const d = new Decimal(text);
  return d.gt(0) ? d : refuse(`${key} must be > 0`);
}

function isRefusal(v: unknown): v is AlpacaRefusal {
  return typeof v === "object" && v !== null && "status" in v && "code" in v;
}

/** Checks a `POST /v2/orders` body the way Alpaca does; a refusal or the parsed input. */
export function validateOrderBody(raw: unknown): OrderInput | AlpacaRefusal {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    return refuse("request body format is invalid", 400, 40010000);
  const body = raw as Record<string, unknown>;
  const symbol = typeof body.symbol === "string" ? body.symbol.trim().toUpperCase() : "";
  if (!symbol) return refuse("symbol is required");
  if (body.side !== "buy" && body.side !== "sell") return refuse("side is required (buy or sell)");
  const type = body.type ?? "market";
  if (typeof type !== "string" || !TYPES.has(type)) return refuse(`invalid order type ${String(type)}`);
  const tif = body.time_in_force;
  if (typeof tif !== "string" || !TIFS.has(tif)) return refuse("invalid time_in_force");
  const fields: Record<string, Decimal | null> = {};
  for (const key of ["qty", "notional", "limit_price", "stop_price", "trail_percent", "trail_price"]) {
    const d = decimalField(body, key);
    if (isRefusal(d)) return d;
    fields[key] = d;
  }
  const { qty, notional, limit_price: limitPrice, stop_price: stopPrice } = fields;
  const trailPercent = fields.trail_percent ?? null;
  const trailPrice = fields.trail_price ?? null;
  if ((qty === null) === (notional === null)) return refuse("qty or notional is required, not both");
  if (notional !== null && (type !== "market" || tif !== "day"))
    return refuse("notional orders must be day market orders");
  const needsLimit = type === "limit" || type === "stop_limit";
  const needsStop = type === "stop" || type === "stop_limit";
  if (needsLimit && !limitPrice) return refuse("limit_price is required");
  if (!needsLimit && limitPrice) return refuse(`limit_price is not allowed for ${type} orders`);
  if (needsStop && !stopPrice) return refuse("stop_price is required");
  if (!needsStop && stopPrice) return refuse(`stop_price is not allowed for ${type} orders`);
  if (type === "trailing_stop" && (trailPercent === null) === (trailPrice === null))
    return refuse("trail_price or trail_percent is required, not both");
  const extendedHours = body.extended_hours === true;
  if (extendedHours && (type !== "limit" || (tif !== "day" && tif !== "gtc")))
    return refuse("extended hours order must be DAY or GTC limit orders");
  const clientOrderId = body.client_order_id;
  if (clientOrderId !== undefined && (typeof clientOrderId !== "string" || clientOrderId.length > 128))
    return refuse("client_order_id must be no more than 128 characters");
  let bracket: OrderInput["bracket"] = null;
  if (body.order_class === "bracket") {
    const tp = (body.take_profit ?? {}) as Record<string, unknown>;
    const sl = (body.stop_loss ?? {}) as Record<string, unknown>;
    const takeProfit = decimalField(tp, "limit_price");
    const stopLoss = decimalField(sl, "stop_price");
    const stopLimit = decimalField(sl, "limit_price");
    for (const d of [takeProfit, stopLoss, stopLimit]) if (isRefusal(d)) return d;
    if (!takeProfit || !stopLoss)
      return refuse("bracket orders require take_profit.limit_price and stop_loss.stop_price");
    const tpd = takeProfit as Decimal;
    const sld = stopLoss as Decimal;
    if (body.side === "buy" ? !tpd.gt(sld) : !tpd.lt(sld))
      return refuse("take_profit.limit_price must be beyond stop_loss.stop_price");
    bracket = { takeProfit: tpd, stopLoss: sld, stopLimit: stopLimit as Decimal | null };
  } else if (body.order_class !== undefined && body.order_class !== "simple" && body.order_class !== "") {
    return refuse(`order_class ${String(body.order_class)} is not supported by the fake`);
  }
  return {
    symbol,
    side: body.side,
    type: type as FakeOrder["type"],
    timeInForce: tif as FakeOrder["timeInForce"],
    qty: qty ?? null,
    notional: notional ?? null,
    limitPrice: limitPrice ?? null,
    stopPrice: stopPrice ?? null,
    trailPercent,
    trailPrice,
    extendedHours,
    clientOrderId: typeof clientOrderId === "string" ? clientOrderId : null,
    bracket,
  };
}

/** Whether `price` executes `order` now, and the trailing stop's new water mark and stop. */
export function crosses(
  order: FakeOrder,
  price: Decimal,
): { execute: boolean; hwm: Decimal | null; stopPrice: Decimal | null; triggered: boolean } {
  const buy = order.side === "buy";
  let { hwm, stopPrice, triggered } = order;
  switch (order.type) {
    case "market":
      return { execute: true, hwm, stopPrice, triggered };
    case "limit": {
      const limit = order.limitPrice as Decimal;
      return { execute: buy ? price.lte(limit) : price.gte(limit), hwm, stopPrice, triggered };
    }
    case "stop":
    case "stop_limit": {
      const stop = order.stopPrice as Decimal;
      triggered = triggered || (buy ? price.gte(stop) : price.lte(stop));
      if (!triggered) return { execute: false, hwm, stopPrice, triggered };
      if (order.type === "stop") return { execute: true, hwm, stopPrice, triggered };
      const limit = order.limitPrice as Decimal;
      return { execute: buy ? price.lte(limit) : price.gte(limit), hwm, stopPrice, triggered };
    }
    case "trailing_stop": {
      hwm = hwm === null ? price : buy ? Decimal.min(hwm, price) : Decimal.max(hwm, price);
      const trail = order.trailPrice ?? hwm.times(order.trailPercent ?? 0).div(100);
      stopPrice = buy ? hwm.plus(trail) : hwm.minus(trail);
      return { execute: buy ? price.gte(stopPrice) : price.lte(stopPrice), hwm, stopPrice, triggered };
    }
  }
}
