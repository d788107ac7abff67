/**
 * Client-to-server requests the fake TWS understands, decoded at server version 193 as
 * @stoqey/ib 1.6.10's encoder writes them (`src/core/io/encoder.ts`).
 */

import type { WireContract } from "./server-messages.js";
import { FieldReader } from "./wire.js";

/** Outgoing (client-to-server) message ids. */
export const OUT = {
  PLACE_ORDER: 3,
  CANCEL_ORDER: 4,
  REQ_OPEN_ORDERS: 5,
  REQ_EXECUTIONS: 7,
  REQ_IDS: 8,
  REQ_ALL_OPEN_ORDERS: 16,
  REQ_MANAGED_ACCTS: 17,
  REQ_CURRENT_TIME: 49,
  REQ_GLOBAL_CANCEL: 58,
  REQ_POSITIONS: 61,
  REQ_ACCOUNT_SUMMARY: 62,
  CANCEL_ACCOUNT_SUMMARY: 63,
  CANCEL_POSITIONS: 64,
  START_API: 71,
  REQ_COMPLETED_ORDERS: 99,
} as const;

/** Names of the requests, for the fake's statistics. */
export const REQUEST_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(OUT).map(([name, id]) => [id, name]),
);

/** A placeOrder as the fake reads it (the fields a stock order needs; the rest are skipped). */
export interface PlaceOrderRequest extends Omit<WireContract, "localSymbol" | "tradingClass"> {
  orderId: number;
  action: string;
  totalQuantity: string | null;
  orderType: string;
  lmtPrice: string | null;
  auxPrice: string | null;
  tif: string;
  account: string;
  orderRef: string;
  transmit: boolean;
  parentId: number;
  outsideRth: boolean;
  trailStopPrice: string | null;
  trailingPercent: string | null;
}

/** Decodes PLACE_ORDER at sv >= ORDER_CONTAINER (no version field), up to trailingPercent. */
export function parsePlaceOrder(fields: readonly string[]): PlaceOrderRequest {
  const r = new FieldReader(fields);
  r.skip(); // message id
  const orderId = r.int();
  const conId = r.int();
  const symbol = r.str();
  const secType = r.str();
  r.skip(3); // lastTradeDateOrContractMonth, strike, right
  r.skip(); // multiplier
  const exchange = r.str();
  const primaryExch = r.str();
  const currency = r.str();
  r.skip(2); // localSymbol, tradingClass
  r.skip(2); // secIdType, secId
  const action = r.str();
  const totalQuantity = r.decimalOrNull();
  const orderType = r.str();
  const lmtPrice = r.decimalOrNull();
  const auxPrice = r.decimalOrNull();
  const tif = r.str();
  r.skip(); // ocaGroup
  const account = r.str();
  r.skip(2); // openClose, origin
  const orderRef = r.str();
  const transmit = r.bool();
  const parentId = r.int();
  r.skip(4); // blockOrder, sweepToFill, displaySize, triggerMethod
  const outsideRth = r.bool();
  r.skip(); // hidden
  if (secType.toUpperCase() === "BAG") {
    // Combo legs (8 fields each), order combo leg prices, smart combo routing tag/values.
    r.skip(r.int() * 8);
    r.skip(r.int());
    r.skip(r.int() * 2);
  }
  r.skip(); // deprecated sharesAllocation
  r.skip(3); // discretionaryAmt, goodAfterTime, goodTillDate
  r.skip(3); // faGroup, faMethod, faPercentage
  r.skip(); // modelCode
  r.skip(3); // shortSaleSlot, designatedLocation, exemptCode
  r.skip(); // ocaType
  r.skip(14); // rule80A, settlingFirm, allOrNone, minQty, percentOffset, eTradeOnly, firmQuoteOnly,
  // nbboPriceCap, auctionStrategy, startingPrice, stockRefPrice, delta, stockRangeLower, stockRangeUpper
  r.skip(); // overridePercentageConstraints
  r.skip(2); // volatility, volatilityType
  const deltaNeutralOrderType = r.str();
  r.skip(); // deltaNeutralAuxPrice
  if (deltaNeutralOrderType !== "") r.skip(8);
  r.skip(2); // continuousUpdate, referencePriceType
  const trailStopPrice = r.decimalOrNull();
  const trailingPercent = r.decimalOrNull();
  return {
    orderId,
    conId,
    symbol,
    secType,
    exchange,
    primaryExch,
    currency,
    action,
    totalQuantity,
    orderType,
    lmtPrice,
    auxPrice,
    tif,
    account,
    orderRef,
    transmit,
    parentId,
    outsideRth,
    trailStopPrice,
    trailingPercent,
  };
}

/** CANCEL_ORDER at sv >= CME_TAGGING_FIELDS: [4, orderId, manualOrderCancelTime, extOperator, manualOrderIndicator]. */
export function parseCancelOrder(fields: readonly string[]): { orderId: number } {
  const r = new FieldReader(fields);
  r.skip();
  return { orderId: r.int() };
}

/** The filter of REQ_EXECUTIONS [7, 3, reqId, clientId, acctCode, time, symbol, secType, exchange, side]. */
export interface ExecutionFilterRequest {
  reqId: number;
  clientId: number | null;
  account: string;
  time: string;
  symbol: string;
  secType: string;
  exchange: string;
  side: string;
}

export function parseReqExecutions(fields: readonly string[]): ExecutionFilterRequest {
  const r = new FieldReader(fields);
  r.skip(2); // id, version
  const reqId = r.int();
  const clientIdText = r.str();
  return {
    reqId,
    clientId: clientIdText === "" ? null : Number.parseInt(clientIdText, 10),
    account: r.str(),
    time: r.str(),
    symbol: r.str(),
    secType: r.str(),
    exchange: r.str(),
    side: r.str(),
  };
}

/** REQ_ACCOUNT_SUMMARY [62, 1, reqId, group, tags]. */
export function parseReqAccountSummary(fields: readonly string[]): {
  reqId: number;
  group: string;
  tags: string[];
} {
  const r = new FieldReader(fields);
  r.skip(2);
  const reqId = r.int();
  const group = r.str();
  const tags = r
    .str()
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  return { reqId, group, tags };
}

/** The request id of a [id, version, reqId] message (CANCEL_ACCOUNT_SUMMARY). */
export function parseReqIdAfterVersion(fields: readonly string[]): number {
  const r = new FieldReader(fields);
  r.skip(2);
  return r.int();
}

/** START_API [71, 2, clientId, optionalCapabilities]. */
export function parseStartApi(fields: readonly string[]): { clientId: number } {
  const r = new FieldReader(fields);
  r.skip(2);
  return { clientId: r.int() };
}
