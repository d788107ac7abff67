/**
 * Server-to-client messages of the fake TWS, laid out for server version {@link SERVER_VERSION}
 * exactly as @stoqey/ib 1.6.10's decoder reads them (`src/core/io/decoder.ts`: the
 * `decodeMsg_*` functions and `OrderDecoder`). The real client is strict: an extra field gives
 * error 505 ("unprocessed data left on queue") and a missing one drops the message, so every
 * layout here is checked by the client in the package's tests.
 */

import { encodeMessage, type Field } from "./wire.js";

/**
 * The server version the fake answers with: the highest @stoqey/ib 1.6.x accepts
 * (MAX_SUPPORTED_SERVER_VERSION = CME_TAGGING_FIELDS_IN_OPEN_ORDER), which is what a current TWS
 * or IB Gateway negotiates with it.
 */
export const SERVER_VERSION = 193;

/** Incoming (server-to-client) message ids. */
export const IN = {
  ORDER_STATUS: 3,
  ERR_MSG: 4,
  OPEN_ORDER: 5,
  NEXT_VALID_ID: 9,
  EXECUTION_DATA: 11,
  MANAGED_ACCTS: 15,
  CURRENT_TIME: 49,
  OPEN_ORDER_END: 53,
  EXECUTION_DATA_END: 55,
  COMMISSION_REPORT: 59,
  POSITION: 61,
  POSITION_END: 62,
  ACCOUNT_SUMMARY: 63,
  ACCOUNT_SUMMARY_END: 64,
  COMPLETED_ORDER: 101,
  COMPLETED_ORDERS_END: 102,
} as const;

/** A stock contract as the fake reports it. */
export interface WireContract {
  conId: number;
  symbol: string;
  secType: string;
  exchange: string;
  primaryExch: string;
  currency: string;
  localSymbol: string;
  tradingClass: string;
}

/** An order as the fake reports it in openOrder, completedOrder and orderStatus. */
export interface WireOrder {
  orderId: number;
  clientId: number;
  permId: number;
  parentId: number;
  account: string;
  contract: WireContract;
  action: string;
  totalQuantity: string;
  orderType: string;
  lmtPrice: string | null;
  auxPrice: string | null;
  tif: string;
  orderRef: string;
  outsideRth: boolean;
  trailStopPrice: string | null;
  trailingPercent: string | null;
  /** IB's order status (Submitted, Filled, Cancelled, ...). */
  status: string;
  filled: string;
  remaining: string;
  avgFillPrice: string;
  lastFillPrice: string;
  whyHeld: string;
  /** Completed orders only: when and how the order ended ("Filled Size: 2", "Cancelled by Trader"). */
  completedTime: string;
  completedStatus: string;
}

/** An execution (fill) as the fake reports it. */
export interface WireExecution {
  execId: string;
  orderId: number;
  clientId: number;
  permId: number;
  account: string;
  contract: WireContract;
  /** IB's `yyyyMMdd HH:mm:ss zone` text. */
  time: string;
  side: "BOT" | "SLD";
  shares: string;
  price: string;
  cumQty: string;
  avgPrice: string;
  orderRef: string;
}

const EMPTY = "";

/** TWS's wording of the connectivity notices it sends on request id -1. */
export const CONNECTIVITY_NOTICES = {
  1100: "Connectivity between IB and Trader Workstation has been lost.",
  1101: "Connectivity between IB and Trader Workstation has been restored - data lost.",
  1102: "Connectivity between IB and Trader Workstation has been restored - data maintained.",
  2110: "Connectivity between Trader Workstation and server is broken. It will be restored automatically.",
} as const;

/** Farm notices TWS sends after every connect (reqId -1, so they arrive as `info`). */
export const FARM_NOTICES: [number, string][] = [
  [2104, "Market data farm connection is OK:usfarm"],
  [2106, "HMDS data farm connection is OK:ushmds"],
  [2158, "Sec-def data farm connection is OK:secdefnj"],
];

export function serverHello(connectionTime: string): Buffer {
  return encodeMessage([SERVER_VERSION, connectionTime]);
}

export function nextValidId(orderId: number): Buffer {
  return encodeMessage([IN.NEXT_VALID_ID, 1, orderId]);
}

export function managedAccounts(accounts: readonly string[]): Buffer {
  return encodeMessage([IN.MANAGED_ACCTS, 1, accounts.join(",")]);
}

/** ERR_MSG; reqId -1 makes the client emit `info` instead of `error`. */
export function errorMessage(reqId: number, code: number, message: string, advancedReject = ""): Buffer {
  return encodeMessage([IN.ERR_MSG, 2, reqId, code, message, advancedReject]);
}

export function currentTime(epochSeconds: number): Buffer {
  return encodeMessage([IN.CURRENT_TIME, 1, epochSeconds]);
}

/** ORDER_STATUS at sv >= MARKET_CAP_PRICE: no version field. */
export function orderStatus(o: WireOrder): Buffer {
  return encodeMessage([
    IN.ORDER_STATUS,
    o.orderId,
    o.status,
    o.filled,
    o.remaining,
    o.avgFillPrice,
    o.permId,
    o.parentId,
    o.lastFillPrice,
    o.clientId,
    o.whyHeld,
    EMPTY, // mktCapPrice
  ]);
}

/** A contract as openOrder, completedOrder, execDetails and position carry it (readContractFields). */
function contractFields(c: WireContract): Field[] {
  return [
    c.conId,
    c.symbol,
    c.secType,
    EMPTY, // lastTradeDateOrContractMonth
    0, // strike
    EMPTY, // right
    EMPTY, // multiplier
    c.exchange,
    c.currency,
    c.localSymbol,
    c.tradingClass,
  ];
}

/** The order fields openOrder and completedOrder share, from action through origin. */
function mainOrderFields(o: WireOrder): Field[] {
  return [
    o.action,
    o.totalQuantity,
    o.orderType,
    o.lmtPrice,
    o.auxPrice,
    o.tif,
    EMPTY, // ocaGroup
    o.account,
    EMPTY, // openClose
    0, // origin: customer
    o.orderRef,
  ];
}

/*
 * Groups of fields openOrder and completedOrder share, each named after the OrderDecoder reads
 * it answers. Unset numbers are empty (read as undefined), flags 0.
 */

/** readFAParams (no faProfile at sv >= FA_PROFILE_DESUPPORT), readModelCode, readGoodTillDate, readRule80A, readPercentOffset, readSettlingFirm. */
const FA_TO_SETTLING_FIRM: Field[] = [EMPTY, EMPTY, EMPTY, EMPTY, EMPTY, EMPTY, EMPTY, EMPTY];
/** readShortSaleParams: shortSaleSlot, designatedLocation, exemptCode. */
const SHORT_SALE: Field[] = [0, EMPTY, -1];
/** readBoxOrderParams (startingPrice, stockRefPrice, delta), readPegToStkOrVolOrderParams (range), readDisplaySize. */
const BOX_PEG_DISPLAY: Field[] = [EMPTY, EMPTY, EMPTY, EMPTY, EMPTY, EMPTY];
/** readVolOrderParams with no delta-neutral order type: volatility, type, DN type and aux, continuousUpdate, referencePriceType. */
const VOLATILITY: Field[] = [EMPTY, 0, EMPTY, EMPTY, 0, 0];
/** readComboLegs (description, no legs, no leg prices), readSmartComboRoutingParams (none). */
const NO_COMBO: Field[] = [EMPTY, 0, 0, 0];
/** readScaleOrderParams with no price increment (so nothing more follows). */
const NO_SCALE: Field[] = [EMPTY, EMPTY, EMPTY];
/** readPegBestPegMidOrderAttributes, readCustomerAccount, readProfessionalCustomer. */
const PEG_MID_TO_PROFESSIONAL: Field[] = [EMPTY, EMPTY, EMPTY, EMPTY, EMPTY, EMPTY, 0];

/** readTrailParams: trailStopPrice, trailingPercent. */
const trail = (o: WireOrder): Field[] => [o.trailStopPrice, o.trailingPercent];

/** OPEN_ORDER at sv >= ORDER_CONTAINER (no version field): OrderDecoder's reads, in order. */
export function openOrder(o: WireOrder): Buffer {
  return encodeMessage([
    IN.OPEN_ORDER,
    o.orderId,
    ...contractFields(o.contract),
    ...mainOrderFields(o),
    o.clientId,
    o.permId,
    o.outsideRth,
    0, // hidden
    0, // discretionaryAmt
    EMPTY, // goodAfterTime
    EMPTY, // deprecated sharesAllocation
    ...FA_TO_SETTLING_FIRM,
    ...SHORT_SALE,
    0, // auctionStrategy
    ...BOX_PEG_DISPLAY,
    0, // blockOrder
    0, // sweepToFill
    0, // allOrNone
    EMPTY, // minQty
    0, // ocaType
    0, // eTradeOnly
    0, // firmQuoteOnly
    EMPTY, // nbboPriceCap
    o.parentId,
    0, // triggerMethod
    ...VOLATILITY,
    ...trail(o),
    EMPTY, // basisPoints
    EMPTY, // basisPointsType
    ...NO_COMBO,
    ...NO_SCALE,
    EMPTY, // hedgeType (empty: no hedgeParam)
    0, // optOutSmartRouting
    EMPTY, // clearingAccount
    EMPTY, // clearingIntent
    0, // notHeld
    0, // deltaNeutralContract present
    EMPTY, // algoStrategy (empty: no algo params)
    0, // solicited
    0, // whatIf
    o.status,
    ...Array<Field>(14).fill(EMPTY), // 9 margin figures (before, change, after), 3 commissions, their currency, warning
    0, // randomizeSize
    0, // randomizePrice
    0, // conditions count (peg-bench fields only for PEG BENCH orders)
    EMPTY, // adjustedOrderType
    EMPTY, // triggerPrice
    o.trailStopPrice, // trailStopPrice again (readStopPriceAndLmtPriceOffset overwrites the first)
    EMPTY, // lmtPriceOffset
    EMPTY, // adjustedStopPrice
    EMPTY, // adjustedStopLimitPrice
    EMPTY, // adjustedTrailingAmount
    0, // adjustableTrailingUnit
    EMPTY, // softDollarTier name
    EMPTY, // softDollarTier value
    EMPTY, // softDollarTier displayName
    EMPTY, // cashQty
    0, // dontUseAutoPriceForHedge
    0, // isOmsContainer
    0, // discretionaryUpToLimitPrice
    0, // usePriceMgmtAlgo
    EMPTY, // duration
    EMPTY, // postToAts
    0, // autoCancelParent
    ...PEG_MID_TO_PROFESSIONAL,
    EMPTY, // bondAccruedInterest
    0, // includeOvernight
    EMPTY, // extOperator
    EMPTY, // manualOrderIndicator
  ]);
}

/** COMPLETED_ORDER: no order id, no client id; OrderDecoder at version MAX_VALUE. */
export function completedOrder(o: WireOrder): Buffer {
  return encodeMessage([
    IN.COMPLETED_ORDER,
    ...contractFields(o.contract),
    ...mainOrderFields(o),
    o.permId,
    o.outsideRth,
    0, // hidden
    0, // discretionaryAmt
    EMPTY, // goodAfterTime
    ...FA_TO_SETTLING_FIRM,
    ...SHORT_SALE,
    ...BOX_PEG_DISPLAY,
    0, // sweepToFill
    0, // allOrNone
    EMPTY, // minQty
    0, // ocaType
    0, // triggerMethod
    ...VOLATILITY,
    ...trail(o),
    ...NO_COMBO,
    ...NO_SCALE,
    EMPTY, // hedgeType
    EMPTY, // clearingAccount
    EMPTY, // clearingIntent
    0, // notHeld
    0, // deltaNeutralContract present
    EMPTY, // algoStrategy
    0, // solicited
    o.status,
    0, // randomizeSize
    0, // randomizePrice
    0, // conditions count
    o.trailStopPrice,
    EMPTY, // lmtPriceOffset
    EMPTY, // cashQty
    0, // dontUseAutoPriceForHedge
    0, // isOmsContainer
    EMPTY, // autoCancelDate
    o.filled, // filledQuantity
    0, // refFuturesConId
    0, // autoCancelParent
    EMPTY, // shareholder
    0, // imbalanceOnly
    0, // routeMarketableToBbo
    0, // parentPermId
    o.completedTime,
    o.completedStatus,
    ...PEG_MID_TO_PROFESSIONAL,
  ]);
}

export function openOrderEnd(): Buffer {
  return encodeMessage([IN.OPEN_ORDER_END, 1]);
}

export function completedOrdersEnd(): Buffer {
  return encodeMessage([IN.COMPLETED_ORDERS_END]);
}

/** EXECUTION_DATA at sv >= LAST_LIQUIDITY: no version field. reqId -1 for a live fill. */
export function execution(reqId: number, e: WireExecution): Buffer {
  return encodeMessage([
    IN.EXECUTION_DATA,
    reqId,
    e.orderId,
    ...contractFields(e.contract),
    e.execId,
    e.time,
    e.account,
    e.contract.primaryExch || "NASDAQ", // the exchange the fill happened on
    e.side,
    e.shares,
    e.price,
    e.permId,
    e.clientId,
    0, // liquidation
    e.cumQty,
    e.avgPrice,
    e.orderRef,
    EMPTY, // evRule
    EMPTY, // evMultiplier
    EMPTY, // modelCode
    1, // lastLiquidity: added
    0, // pendingPriceRevision
  ]);
}

export function executionEnd(reqId: number): Buffer {
  return encodeMessage([IN.EXECUTION_DATA_END, 1, reqId]);
}

/** COMMISSION_REPORT after each execution (the fake charges nothing). */
export function commissionReport(execId: string, currency: string): Buffer {
  return encodeMessage([IN.COMMISSION_REPORT, 1, execId, 0, currency, EMPTY, EMPTY, EMPTY]);
}

export function position(account: string, c: WireContract, pos: string, avgCost: string): Buffer {
  return encodeMessage([IN.POSITION, 3, account, ...contractFields(c), pos, avgCost]);
}

export function positionEnd(): Buffer {
  return encodeMessage([IN.POSITION_END, 1]);
}

export function accountSummary(
  reqId: number,
  account: string,
  tag: string,
  value: string,
  currency: string,
): Buffer {
  return encodeMessage([IN.ACCOUNT_SUMMARY, 1, reqId, account, tag, value, currency]);
}

export function accountSummaryEnd(reqId: number): Buffer {
  return encodeMessage([IN.ACCOUNT_SUMMARY_END, 1, reqId]);
}
