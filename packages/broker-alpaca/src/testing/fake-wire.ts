/**
 * The fake's records rendered as Alpaca renders them (snake_case, decimal strings, RFC 3339
 * times with nanoseconds), shaped to pass Alpaca's OpenAPI schemas, and the time stamps: strictly
 * increasing, so every change of an order has a later `updated_at`, as on Alpaca.
 */

import { createHash } from "node:crypto";
import { type Clock, type Decimal, decimalString, zoneOffset } from "@tradecron/core";
import type { FakeOrder } from "./fake-order.js";

const s = (d: Decimal | null): string | null => (d === null ? null : decimalString(d));

/** A stable UUID-shaped id derived from a name (asset ids per symbol). */
export function nameUuid(name: string): string {
  const h = createHash("sha1").update(name).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Strictly increasing RFC 3339 UTC stamps with nanoseconds, from the fake's clock. */
export class Stamps {
  private lastMs = 0;
  private sub = 0;

  constructor(private readonly clock: Clock) {}

  next(): string {
    const now = this.clock.now();
    if (now > this.lastMs) {
      this.lastMs = now;
      this.sub = 0;
    } else this.sub = Math.min(this.sub + 1, 999_999);
    const iso = new Date(this.lastMs).toISOString(); // ...T12:34:56.789Z
    return `${iso.slice(0, 23)}${String(this.sub).padStart(6, "0")}Z`;
  }
}

/** An RFC 3339 time with the New York offset, as `/v2/clock` answers. */
export function newYorkTime(instant: number): string {
  const offset = zoneOffset("America/New_York", instant);
  const local = new Date(instant + offset).toISOString().slice(0, 19);
  const minutes = Math.round(offset / 60_000);
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

/** An order as `GET /v2/orders/{id}` returns it; `legs` nested when given. */
export function orderJson(order: FakeOrder, legs: FakeOrder[] | null): Record<string, unknown> {
  return {
    id: order.id,
    client_order_id: order.clientOrderId,
    created_at: order.createdAt,
    updated_at: order.updatedAt,
    submitted_at: order.submittedAt,
    filled_at: order.filledAt,
    expired_at: order.expiredAt,
    canceled_at: order.canceledAt,
    failed_at: order.failedAt,
    replaced_at: null,
    replaced_by: null,
    replaces: null,
    asset_id: nameUuid(order.symbol),
    symbol: order.symbol,
    asset_class: "us_equity",
    notional: s(order.notional),
    qty: order.notional !== null && order.filledQty.isZero() ? null : s(order.qty),
    filled_qty: decimalString(order.filledQty),
    filled_avg_price: s(order.filledAvgPrice),
    order_class: order.orderClass,
    order_type: order.type,
    type: order.type,
    side: order.side,
    time_in_force: order.timeInForce,
    limit_price: s(order.limitPrice),
    stop_price: s(order.stopPrice),
    status: order.status,
    extended_hours: order.extendedHours,
    legs: legs === null ? null : legs.map((leg) => orderJson(leg, null)),
    trail_percent: s(order.trailPercent),
    trail_price: s(order.trailPrice),
    hwm: s(order.hwm),
    source: null,
    subtag: null,
  };
}

/** The account as `GET /v2/account` returns it. */
export function accountJson(a: {
  id: string;
  createdAt: string;
  cash: Decimal;
  buyingPower: Decimal;
  longValue: Decimal;
  status: string;
}): Record<string, unknown> {
  const equity = a.cash.plus(a.longValue);
  return {
    id: a.id,
    account_number: `PA${a.id.replace(/-/g, "").slice(0, 10).toUpperCase()}`,
    status: a.status,
    crypto_status: "ACTIVE",
    currency: "USD",
    buying_power: decimalString(a.buyingPower),
    regt_buying_power: decimalString(a.buyingPower),
    non_marginable_buying_power: decimalString(a.buyingPower),
    options_buying_power: decimalString(a.buyingPower),
    cash: decimalString(a.cash),
    accrued_fees: "0",
    portfolio_value: decimalString(equity),
    equity: decimalString(equity),
    last_equity: decimalString(equity),
    long_market_value: decimalString(a.longValue),
    short_market_value: "0",
    initial_margin: "0",
    maintenance_margin: "0",
    last_maintenance_margin: "0",
    sma: "0",
    multiplier: "1",
    shorting_enabled: false,
    pattern_day_trader: false,
    trading_blocked: false,
    transfers_blocked: false,
    account_blocked: false,
    trade_suspended_by_user: false,
    daytrade_count: 0,
    created_at: a.createdAt,
    balance_asof: a.createdAt.slice(0, 10),
    options_trading_level: 0,
    options_approved_level: 0,
    intraday_adjustments: "0",
    pending_reg_taf_fees: "0",
  };
}

/** A position as `GET /v2/positions` returns it. */
export function positionJson(p: {
  symbol: string;
  qty: Decimal;
  costBasis: Decimal;
  price: Decimal;
}): Record<string, unknown> {
  const marketValue = p.qty.times(p.price);
  const pl = marketValue.minus(p.costBasis);
  const plpc = p.costBasis.isZero() ? "0" : decimalString(pl.div(p.costBasis).toDecimalPlaces(6));
  return {
    asset_id: nameUuid(p.symbol),
    symbol: p.symbol,
    exchange: "NASDAQ",
    asset_class: "us_equity",
    asset_marginable: true,
    qty: decimalString(p.qty),
    qty_available: decimalString(p.qty),
    side: "long",
    avg_entry_price: decimalString(p.costBasis.div(p.qty).toDecimalPlaces(9)),
    market_value: decimalString(marketValue),
    cost_basis: decimalString(p.costBasis),
    unrealized_pl: decimalString(pl),
    unrealized_plpc: plpc,
    unrealized_intraday_pl: decimalString(pl),
    unrealized_intraday_plpc: plpc,
    current_price: decimalString(p.price),
    lastday_price: decimalString(p.price),
    change_today: "0",
  };
}
