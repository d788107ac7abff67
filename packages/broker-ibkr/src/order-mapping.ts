/**
 * Pure translations between tradecron's order intents and IB's Contract/Order, and from IB's
 * order statuses back to the broker-neutral ones.
 */

import { type Contract, type Order, OrderAction, OrderType, SecType, type TimeInForce } from "@stoqey/ib";
import {
  type BrokerOrder,
  type BrokerOrderStatus,
  BrokerRejectedError,
  Decimal,
  decimalString,
  type OrderIntent,
} from "@tradecron/core";
import type { ContractOverride } from "./options.js";

/** What the order mapping needs from the options. */
export interface ContractDefaults {
  currency: string;
  contracts: Record<string, ContractOverride>;
}

/** IB writes share classes with a space: `BRK.B` and `BRK/B` are `BRK B` at IB. */
export function ibSymbolOf(symbol: string): string {
  return symbol.replace(/[./]/g, " ");
}

/** The ticker of an IB symbol (`BRK B` -> `BRK.B`). */
export function tickerOf(ibSymbol: string): string {
  return ibSymbol.trim().replace(/ /g, ".");
}

/** The IB contract of a stock ticker: SMART-routed, in the default currency, unless overridden. */
export function contractFor(symbol: string, defaults: ContractDefaults): Contract {
  const o = defaults.contracts[symbol] ?? {};
  return {
    ...(o.conId === undefined ? {} : { conId: o.conId }),
    symbol: o.ibSymbol ?? ibSymbolOf(symbol),
    secType: SecType.STK,
    exchange: o.exchange ?? "SMART",
    ...(o.primaryExchange === undefined ? {} : { primaryExch: o.primaryExchange }),
    currency: o.currency ?? defaults.currency,
  };
}

const TIF: Record<Exclude<OrderIntent["timeInForce"], "cls">, TimeInForce> = {
  day: "DAY",
  gtc: "GTC",
  opg: "OPG",
  ioc: "IOC",
  fok: "FOK",
};

function unsupported(clientOrderId: string, field: string, message: string): never {
  throw new BrokerRejectedError(`IbkrBroker: order ${clientOrderId} rejected: ${message}`, {
    field,
    details: { clientOrderId },
  });
}

/**
 * The IB order of an intent. `orderRef` carries the deterministic client order id: it is how we
 * find the order again after a reconnect, a TWS restart or a restart of our own process.
 *
 * @throws BrokerRejectedError (final) for what IbkrBroker does not place: notional (cash quantity)
 *   orders, brackets, and close/open auctions for stop orders.
 */
export function ibOrderFor(clientOrderId: string, intent: OrderIntent, account: string): Order {
  if (intent.qty === undefined) {
    unsupported(
      clientOrderId,
      "intent.notional",
      "notional (cash quantity) orders are not supported; give qty",
    );
  }
  if (intent.bracket) {
    unsupported(clientOrderId, "intent.bracket", "bracket orders are not supported by IbkrBroker yet");
  }
  const base: Order = {
    action: intent.side === "buy" ? OrderAction.BUY : OrderAction.SELL,
    totalQuantity: Number(intent.qty),
    orderType: OrderType.MKT,
    orderRef: clientOrderId,
    account,
    transmit: true,
    outsideRth: intent.extendedHours,
  };
  const cls = intent.timeInForce === "cls";
  const tif: TimeInForce = cls ? "DAY" : TIF[intent.timeInForce as keyof typeof TIF];
  const price = (v: string | undefined) => Number(v);
  switch (intent.type) {
    case "market":
      return { ...base, orderType: cls ? OrderType.MOC : OrderType.MKT, tif };
    case "limit":
      return {
        ...base,
        orderType: cls ? OrderType.LOC : OrderType.LMT,
        lmtPrice: price(intent.limitPrice),
        tif,
      };
    case "stop":
    case "stop_limit":
    case "trailing_stop":
      if (cls || intent.timeInForce === "opg") {
        unsupported(
          clientOrderId,
          "intent.timeInForce",
          `${intent.type} orders cannot be ${intent.timeInForce} auction orders`,
        );
      }
  }
  switch (intent.type) {
    case "stop":
      return { ...base, orderType: OrderType.STP, auxPrice: price(intent.stopPrice), tif };
    case "stop_limit":
      return {
        ...base,
        orderType: OrderType.STP_LMT,
        auxPrice: price(intent.stopPrice),
        lmtPrice: price(intent.limitPrice),
        tif,
      };
    default:
      // trailing_stop: IB's TRAIL takes the trailing amount in auxPrice, or a percentage.
      return intent.trailPercent !== undefined
        ? { ...base, orderType: OrderType.TRAIL, trailingPercent: price(intent.trailPercent), tif }
        : { ...base, orderType: OrderType.TRAIL, auxPrice: price(intent.trailPrice), tif };
  }
}

/** A number from IB as a decimal string; null for unset (empty, 0 where 0 means unset, MAX_VALUE). */
export function ibDecimal(value: number | undefined | null, zeroIsUnset = false): string | null {
  if (value === undefined || value === null || !Number.isFinite(value) || value === Number.MAX_VALUE)
    return null;
  if (zeroIsUnset && value === 0) return null;
  return decimalString(new Decimal(value));
}

/** Order fields as IB reports them, enough to describe the order broker-neutrally. */
export interface IbOrderFields {
  action: string;
  orderType: string;
  tif: string;
  totalQuantity: number | undefined;
  lmtPrice: number | undefined;
  auxPrice: number | undefined;
  trailStopPrice: number | undefined;
  trailingPercent: number | undefined;
  outsideRth: boolean;
}

/** The broker-neutral type, time in force and prices of an IB order. */
export function describeIbOrder(
  f: IbOrderFields,
): Pick<
  BrokerOrder,
  | "side"
  | "type"
  | "timeInForce"
  | "qty"
  | "limitPrice"
  | "stopPrice"
  | "trailPercent"
  | "trailPrice"
  | "extendedHours"
> {
  const orderType = f.orderType.toUpperCase();
  const tif = f.tif.toUpperCase();
  const side: BrokerOrder["side"] = f.action.toUpperCase() === "BUY" ? "buy" : "sell";
  const lmt = ibDecimal(f.lmtPrice);
  const aux = ibDecimal(f.auxPrice);
  const common = {
    side,
    qty: ibDecimal(f.totalQuantity),
    extendedHours: f.outsideRth,
    trailPercent: null as string | null,
    trailPrice: null as string | null,
  };
  const timeInForce: BrokerOrder["timeInForce"] =
    orderType === "MOC" || orderType === "LOC"
      ? "cls"
      : (({ DAY: "day", GTC: "gtc", OPG: "opg", IOC: "ioc", FOK: "fok" } as const)[tif as "DAY"] ?? "gtc");
  switch (orderType) {
    case "MKT":
    case "MOC":
      return { ...common, type: "market", timeInForce, limitPrice: null, stopPrice: null };
    case "STP":
      return { ...common, type: "stop", timeInForce, limitPrice: null, stopPrice: aux };
    case "STP LMT":
      return { ...common, type: "stop_limit", timeInForce, limitPrice: lmt, stopPrice: aux };
    case "TRAIL": {
      const pct = ibDecimal(f.trailingPercent, true);
      return {
        ...common,
        type: "trailing_stop",
        timeInForce,
        limitPrice: null,
        stopPrice: ibDecimal(f.trailStopPrice, true),
        trailPercent: pct,
        trailPrice: pct === null ? aux : null,
      };
    }
    default:
      // LMT, LOC, and for orders placed elsewhere the closest neutral type.
      return lmt === null
        ? { ...common, type: "market", timeInForce, limitPrice: null, stopPrice: aux }
        : { ...common, type: "limit", timeInForce, limitPrice: lmt, stopPrice: null };
  }
}

/**
 * IB's order status (and completed status text) as a broker-neutral status. A partly filled
 * working order is `partially_filled`, and one whose executions add up to its size is `filled`
 * (IB sends the executions before the Filled status); `Inactive` and a completed status
 * mentioning a rejection are `rejected`.
 */
export function statusOf(
  ibStatus: string,
  filled: Decimal,
  completedStatus = "",
  totalQuantity: number | undefined = undefined,
): BrokerOrderStatus {
  if (/reject/i.test(completedStatus)) return "rejected";
  const complete = totalQuantity !== undefined && totalQuantity > 0 && filled.gte(totalQuantity);
  switch (ibStatus) {
    case "Filled":
      return "filled";
    case "Cancelled":
    case "ApiCancelled":
      return "canceled";
    case "PendingCancel":
      return "pending_cancel";
    case "Inactive":
      return "rejected";
    case "Submitted":
    case "PreSubmitted":
      if (complete) return "filled";
      if (filled.gt(0)) return "partially_filled";
      return ibStatus === "Submitted" ? "new" : "accepted";
    default:
      // PendingSubmit, ApiPending, Unknown
      return "pending_new";
  }
}

/** The event name of an order update moving to `status`. */
export function updateEventOf(status: BrokerOrderStatus): string {
  switch (status) {
    case "filled":
      return "fill";
    case "partially_filled":
      return "partial_fill";
    default:
      return status;
  }
}
