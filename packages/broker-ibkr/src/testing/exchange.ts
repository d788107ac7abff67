/**
 * The fake TWS's books: IB-level orders (order id per client, permId, orderRef, IB statuses),
 * the day's executions, and one PaperBroker per account as the matching engine (cash, positions,
 * limit/stop/trailing triggers, buying power). Everything here is synchronous with respect to the
 * wire: the server sends what {@link FakeExchange} announces through its listener.
 */

import {
  type BrokerOrder,
  BrokerRejectedError,
  type Clock,
  Decimal,
  decimalString,
  PaperBroker,
  parseOrderIntent,
} from "@tradecron/core";
import type { PlaceOrderRequest } from "./client-messages.js";
import type { WireContract, WireExecution, WireOrder } from "./server-messages.js";

/** An order the fake knows, with where it lives in the matching engine. */
export interface FakeOrder extends WireOrder {
  /** The client order id of its engine order (null before it reached the engine). */
  engineId: string | null;
  /** The engine's own id of that order, for cancels. */
  engineOrderId: string | null;
  /** Entered by hand in TWS rather than through the API. */
  manual: boolean;
  /** Final orders are reported by reqCompletedOrders only. */
  final: boolean;
  /** The time in force as placed (DAY orders expire at the nightly restart). */
  placedAt: number;
  /** How many times a placeOrder modified this order. */
  modifications: number;
  /** The trading day (count of nightly restarts) on which it completed. */
  completedDay: number;
}

/** Something the server must tell the order's owner about. */
export type ExchangeEvent =
  | { kind: "order"; order: FakeOrder }
  | { kind: "execution"; order: FakeOrder; execution: WireExecution };

/** The outcome of a placeOrder: accepted, or an IB error code for the order id. */
export type PlaceResult = { ok: true; order: FakeOrder } | { ok: false; code: number; message: string };

/** A symbol the fake can trade, with the contract id and primary exchange it reports. */
export interface FakeSymbol {
  conId: number;
  primaryExch: string;
}

/** Stocks the fake knows without being told (their real IB contract ids). */
export const DEFAULT_SYMBOLS: Record<string, FakeSymbol> = {
  AAPL: { conId: 265598, primaryExch: "NASDAQ" },
  MSFT: { conId: 272093, primaryExch: "NASDAQ" },
  TSLA: { conId: 76792991, primaryExch: "NASDAQ" },
  NVDA: { conId: 4815747, primaryExch: "NASDAQ" },
  AMZN: { conId: 3691937, primaryExch: "NASDAQ" },
  GOOGL: { conId: 208813719, primaryExch: "NASDAQ" },
  META: { conId: 107113386, primaryExch: "NASDAQ" },
  QQQ: { conId: 320227571, primaryExch: "NASDAQ" },
  SPY: { conId: 756733, primaryExch: "ARCA" },
  IBM: { conId: 8314, primaryExch: "NYSE" },
  KO: { conId: 8894, primaryExch: "NYSE" },
  "BRK B": { conId: 72063691, primaryExch: "NYSE" },
  VWRL: { conId: 128831206, primaryExch: "LSEETF" },
};

const ACTION_SIDE = { BUY: "buy", SELL: "sell" } as const;

/** IB's time text for executions and completed orders. */
export function ibTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)} ${iso.slice(11, 19)} UTC`;
}

/** The engine order type and prices of an IB order; null for what the fake does not trade. */
function engineIntent(
  req: Pick<
    PlaceOrderRequest,
    "action" | "totalQuantity" | "orderType" | "lmtPrice" | "auxPrice" | "tif" | "trailingPercent" | "symbol"
  >,
): Record<string, unknown> | string {
  const side = ACTION_SIDE[req.action.toUpperCase() as keyof typeof ACTION_SIDE];
  if (!side) return `unknown action ${req.action}`;
  if (!req.totalQuantity || !(Number(req.totalQuantity) > 0)) return "order size must be positive";
  const tif = { DAY: "day", GTC: "gtc", IOC: "ioc", FOK: "fok", OPG: "opg" }[req.tif.toUpperCase() || "DAY"];
  if (!tif) return `time in force ${req.tif} is not supported`;
  const base = { symbol: req.symbol.replace(/ /g, "."), side, qty: req.totalQuantity, timeInForce: tif };
  switch (req.orderType.toUpperCase()) {
    case "MKT":
      return { ...base, type: "market" };
    case "MOC":
      return { ...base, type: "market", timeInForce: "cls" };
    case "LMT":
      if (!req.lmtPrice) return "a limit order needs a limit price";
      return { ...base, type: "limit", limitPrice: req.lmtPrice };
    case "LOC":
      if (!req.lmtPrice) return "a limit-on-close order needs a limit price";
      return { ...base, type: "limit", limitPrice: req.lmtPrice, timeInForce: "cls" };
    case "STP":
      if (!req.auxPrice) return "a stop order needs a stop price (auxPrice)";
      return { ...base, type: "stop", stopPrice: req.auxPrice };
    case "STP LMT":
      if (!req.auxPrice || !req.lmtPrice) return "a stop limit order needs lmtPrice and auxPrice";
      return { ...base, type: "stop_limit", stopPrice: req.auxPrice, limitPrice: req.lmtPrice };
    case "TRAIL":
      if (req.trailingPercent) return { ...base, type: "trailing_stop", trailPercent: req.trailingPercent };
      if (req.auxPrice) return { ...base, type: "trailing_stop", trailPrice: req.auxPrice };
      return "a trailing stop needs auxPrice (amount) or trailingPercent";
    default:
      return `order type ${req.orderType} is not supported by the fake`;
  }
}

/** Options of {@link FakeExchange}. */
export interface FakeExchangeOptions {
  clock: Clock;
  accounts: readonly string[];
  initialCash: string;
  currency: string;
  symbols: Record<string, FakeSymbol>;
  /** Trading days completed orders are reported for (1 = today only; undefined = forever). */
  completedOrderDays: number | undefined;
}

/** IB-level orders, executions and accounts of the fake TWS. */
export class FakeExchange {
  readonly accounts: readonly string[];
  private readonly engines = new Map<string, PaperBroker>();
  private readonly orders = new Map<number, FakeOrder>();
  private readonly byEngineId = new Map<string, FakeOrder>();
  /** The newest order of each (client id, order id), and the open ones: indexes over `orders`. */
  private readonly byClientOrder = new Map<string, FakeOrder>();
  private readonly open = new Set<FakeOrder>();
  private readonly symbols: Map<string, FakeSymbol>;
  private executions: { execution: WireExecution; order: FakeOrder }[] = [];
  private listener: (event: ExchangeEvent) => void = () => {};
  private nextPermId = 1_000_000_001;
  private nextExecSeq = 1;
  private nextConId = 900_000_001;
  private nextManualId = -1;
  private day = 0;
  /** Reasons for the next placeOrders to be rejected with code 201. */
  private readonly forcedRejections: string[] = [];

  constructor(private readonly options: FakeExchangeOptions) {
    this.accounts = options.accounts;
    this.symbols = new Map(Object.entries(options.symbols));
    for (const account of options.accounts) {
      const engine = new PaperBroker({
        name: `fake-${account}`,
        initialCash: options.initialCash,
        currency: options.currency,
        clock: options.clock,
        connected: true,
        accountId: account,
      });
      engine.onOrderUpdate((u) => this.onEngineUpdate(u.event, u.order));
      this.engines.set(account, engine);
    }
  }

  /** Receives every order change and execution (the server routes them to the owner). */
  onEvent(listener: (event: ExchangeEvent) => void): void {
    this.listener = listener;
  }

  /** The IB symbol of a ticker (`BRK.B` -> `BRK B`). */
  static ibSymbol(symbol: string): string {
    return symbol.trim().toUpperCase().replace(/[./]/g, " ");
  }

  contractOf(symbol: string): WireContract | null {
    const known = this.symbols.get(symbol);
    if (!known) return null;
    return {
      conId: known.conId,
      symbol,
      secType: "STK",
      exchange: "SMART",
      primaryExch: known.primaryExch,
      currency: this.options.currency,
      localSymbol: symbol,
      tradingClass: symbol.split(" ")[0] ?? symbol,
    };
  }

  /** Makes `symbol` tradable (setting a price does it too). */
  addSymbol(symbol: string, primaryExch = "NASDAQ"): void {
    const ib = FakeExchange.ibSymbol(symbol);
    if (!this.symbols.has(ib)) this.symbols.set(ib, { conId: this.nextConId++, primaryExch });
  }

  setPrice(symbol: string, price: string): void {
    this.addSymbol(symbol);
    const ticker = FakeExchange.ibSymbol(symbol).replace(/ /g, ".");
    for (const engine of this.engines.values()) engine.setPrice(ticker, price);
  }

  rejectNext(reason: string, count: number): void {
    for (let i = 0; i < count; i++) this.forcedRejections.push(reason);
  }

  // ---- orders --------------------------------------------------------------------------------

  /** Every order the fake knows, oldest first (copies). */
  list(): FakeOrder[] {
    return [...this.orders.values()].map((o) => ({ ...o, contract: { ...o.contract } }));
  }

  openOrders(clientId?: number): FakeOrder[] {
    return [...this.open].filter((o) => clientId === undefined || o.clientId === clientId);
  }

  completedOrders(apiOnly: boolean): FakeOrder[] {
    const days = this.options.completedOrderDays;
    return [...this.orders.values()].filter(
      (o) => o.final && (!apiOnly || !o.manual) && (days === undefined || this.day - o.completedDay < days),
    );
  }

  /** The client's order with this id, the newest if several. */
  findByClient(clientId: number, orderId: number): FakeOrder | null {
    return this.byClientOrder.get(`${clientId}:${orderId}`) ?? null;
  }

  /** Places (or, for an open order of the same client and id, modifies) an order. */
  async place(clientId: number, req: PlaceOrderRequest): Promise<PlaceResult> {
    const account = req.account || (this.accounts[0] as string);
    const engine = this.engines.get(account);
    if (!engine)
      return { ok: false, code: 201, message: `Order rejected - reason:Invalid account ${account}` };
    const existing = this.findByClient(clientId, req.orderId);
    if (existing?.final) {
      return { ok: false, code: 103, message: "Duplicate order id" };
    }
    if (!req.transmit) {
      return {
        ok: false,
        code: 201,
        message: "Order rejected - reason:the fake only takes transmitted orders",
      };
    }
    if (req.secType.toUpperCase() !== "STK" || (req.currency && req.currency !== this.options.currency)) {
      return { ok: false, code: 200, message: "No security definition has been found for the request" };
    }
    const contract = this.contractOf(req.symbol.toUpperCase());
    if (!contract) {
      return { ok: false, code: 200, message: "No security definition has been found for the request" };
    }
    const intent = engineIntent({ ...req, symbol: contract.symbol });
    if (typeof intent === "string")
      return { ok: false, code: 201, message: `Order rejected - reason:${intent}` };
    if (existing) return this.modify(existing, req, intent);
    const order: FakeOrder = {
      orderId: req.orderId,
      clientId,
      permId: this.nextPermId++,
      parentId: req.parentId,
      account,
      contract,
      action: req.action.toUpperCase(),
      totalQuantity: req.totalQuantity ?? "0",
      orderType: req.orderType.toUpperCase(),
      lmtPrice: req.lmtPrice,
      auxPrice: req.auxPrice,
      tif: req.tif.toUpperCase() || "DAY",
      orderRef: req.orderRef,
      outsideRth: req.outsideRth,
      trailStopPrice: req.trailStopPrice,
      trailingPercent: req.trailingPercent,
      status: "PendingSubmit",
      filled: "0",
      remaining: req.totalQuantity ?? "0",
      avgFillPrice: "0",
      lastFillPrice: "0",
      whyHeld: "",
      completedTime: "",
      completedStatus: "",
      engineId: null,
      engineOrderId: null,
      manual: false,
      final: false,
      placedAt: this.options.clock.now(),
      modifications: 0,
      completedDay: 0,
    };
    this.orders.set(order.permId, order);
    this.byClientOrder.set(`${clientId}:${order.orderId}`, order);
    this.open.add(order);
    const forced = this.forcedRejections.shift();
    if (forced !== undefined) return this.reject(order, forced);
    try {
      await this.submitToEngine(engine, order, intent);
    } catch (error) {
      if (error instanceof BrokerRejectedError)
        return this.reject(order, error.message.replace(/^.*rejected: /, ""));
      throw error;
    }
    return { ok: true, order };
  }

  /** An order entered by hand in TWS (client 0, negative order id), to test what a global cancel does. */
  async placeManual(input: {
    symbol: string;
    side: "buy" | "sell";
    qty: string;
    limitPrice: string;
    account?: string;
  }): Promise<FakeOrder> {
    const result = await this.place(0, {
      orderId: this.nextManualId--,
      conId: 0,
      symbol: FakeExchange.ibSymbol(input.symbol),
      secType: "STK",
      exchange: "SMART",
      primaryExch: "",
      currency: this.options.currency,
      action: input.side.toUpperCase(),
      totalQuantity: input.qty,
      orderType: "LMT",
      lmtPrice: input.limitPrice,
      auxPrice: null,
      tif: "GTC",
      account: input.account ?? "",
      orderRef: "",
      transmit: true,
      parentId: 0,
      outsideRth: false,
      trailStopPrice: null,
      trailingPercent: null,
    });
    if (!result.ok) throw new Error(`fake TWS: the manual order was refused: ${result.message}`);
    result.order.manual = true;
    return result.order;
  }

  private async submitToEngine(engine: PaperBroker, order: FakeOrder, intent: Record<string, unknown>) {
    const engineId = `perm-${order.permId}-${order.modifications}`;
    order.engineId = engineId;
    this.byEngineId.set(engineId, order);
    const placed = await engine.submitOrder({ clientOrderId: engineId, intent: parseOrderIntent(intent) });
    order.engineOrderId = placed.id;
  }

  private reject(order: FakeOrder, reason: string): PlaceResult {
    order.status = "Cancelled";
    this.finish(order, this.options.clock.now(), `Rejected: ${reason}`);
    return { ok: false, code: 201, message: `Order rejected - reason:${reason}` };
  }

  private async modify(
    order: FakeOrder,
    req: PlaceOrderRequest,
    intent: Record<string, unknown>,
  ): Promise<PlaceResult> {
    const engine = this.engines.get(order.account) as PaperBroker;
    if (order.engineId) this.byEngineId.delete(order.engineId);
    if (order.engineOrderId) await engine.cancelOrder(order.engineOrderId);
    order.modifications++;
    order.totalQuantity = req.totalQuantity ?? order.totalQuantity;
    order.remaining = decimalString(new Decimal(order.totalQuantity).minus(order.filled));
    order.lmtPrice = req.lmtPrice;
    order.auxPrice = req.auxPrice;
    order.trailingPercent = req.trailingPercent;
    order.orderType = req.orderType.toUpperCase();
    try {
      await this.submitToEngine(engine, order, { ...intent, qty: order.remaining });
    } catch (error) {
      if (error instanceof BrokerRejectedError) return this.reject(order, error.message);
      throw error;
    }
    return { ok: true, order };
  }

  /** Cancels an open order; false if it is not open. */
  async cancel(order: FakeOrder): Promise<boolean> {
    if (order.final) return false;
    if (order.status !== "PendingCancel") {
      order.status = "PendingCancel";
      this.listener({ kind: "order", order });
    }
    if (order.engineOrderId) await this.engines.get(order.account)?.cancelOrder(order.engineOrderId);
    return true;
  }

  /** Cancels every open order of every client and of TWS itself; returns how many. */
  async cancelAll(): Promise<number> {
    let n = 0;
    for (const order of this.openOrders()) if (await this.cancel(order)) n++;
    return n;
  }

  /**
   * The nightly reset: DAY orders expire, and the day's executions are forgotten (reqExecutions
   * reports the current day only). Completed orders are kept.
   */
  async newDay(): Promise<void> {
    this.day++;
    this.executions = [];
    for (const order of this.openOrders()) {
      if (order.tif === "DAY" && order.engineOrderId) {
        order.completedStatus = "Cancelled by System (day order expired)";
        await this.engines.get(order.account)?.cancelOrder(order.engineOrderId);
      }
    }
  }

  private onEngineUpdate(event: string, engineOrder: BrokerOrder): void {
    const order = this.byEngineId.get(engineOrder.clientOrderId);
    if (!order) return;
    const now = this.options.clock.now();
    order.engineOrderId = engineOrder.id;
    if (event === "new") {
      order.status = "Submitted";
    } else if (event === "fill") {
      const qty = new Decimal(engineOrder.filledQty);
      const price = new Decimal(engineOrder.filledAvgPrice ?? 0);
      const before = new Decimal(order.filled);
      const total = before.plus(qty);
      const value = new Decimal(order.avgFillPrice).times(before).plus(price.times(qty));
      order.filled = decimalString(total);
      order.remaining = decimalString(new Decimal(order.totalQuantity).minus(total));
      order.avgFillPrice = decimalString(value.div(total));
      order.lastFillPrice = decimalString(price);
      order.status = "Filled";
      this.finish(order, now, `Filled Size: ${order.filled}`);
      const execution: WireExecution = {
        execId: `0000e0d5.${(this.nextExecSeq++).toString(16).padStart(8, "0")}.01.01`,
        orderId: order.orderId,
        clientId: order.clientId,
        permId: order.permId,
        account: order.account,
        contract: order.contract,
        time: ibTime(now),
        side: order.action === "BUY" ? "BOT" : "SLD",
        shares: decimalString(qty),
        price: decimalString(price),
        cumQty: order.filled,
        avgPrice: order.avgFillPrice,
        orderRef: order.orderRef,
      };
      this.executions.push({ execution, order });
      this.listener({ kind: "execution", order, execution });
    } else if (event === "canceled" || event === "expired") {
      order.status = "Cancelled";
      this.finish(order, now, order.completedStatus || "Cancelled by Trader");
    } else if (event === "rejected") {
      order.status = "Inactive";
      this.finish(order, now, "Rejected: insufficient funds at execution");
    }
    this.listener({ kind: "order", order });
  }

  private finish(order: FakeOrder, now: number, completedStatus: string): void {
    this.open.delete(order);
    order.final = true;
    order.completedDay = this.day;
    order.completedTime = ibTime(now);
    order.completedStatus = completedStatus;
  }

  // ---- reports ---------------------------------------------------------------------------------

  /** The day's executions matching an IB ExecutionFilter. */
  executionsMatching(filter: {
    clientId: number | null;
    account: string;
    symbol: string;
    secType: string;
    side: string;
  }): WireExecution[] {
    const side = filter.side.toUpperCase();
    return this.executions
      .filter(({ execution: e }) => {
        if (filter.clientId !== null && filter.clientId !== 0 && e.clientId !== filter.clientId) return false;
        if (filter.account && e.account !== filter.account) return false;
        if (filter.symbol && e.contract.symbol !== filter.symbol.toUpperCase()) return false;
        if (filter.secType && e.contract.secType !== filter.secType.toUpperCase()) return false;
        if (side === "BUY" && e.side !== "BOT") return false;
        if (side === "SELL" && e.side !== "SLD") return false;
        return true;
      })
      .map((x) => x.execution);
  }

  /** Account summary values by tag, as IB names them. */
  async summary(account: string): Promise<Record<string, string>> {
    const engine = this.engines.get(account);
    if (!engine) return {};
    const a = await engine.getAccount();
    return {
      AccountType: "INDIVIDUAL",
      NetLiquidation: a.equity,
      TotalCashValue: a.cash,
      SettledCash: a.cash,
      BuyingPower: a.buyingPower,
      AvailableFunds: a.buyingPower,
      EquityWithLoanValue: a.equity,
      GrossPositionValue: decimalString(new Decimal(a.equity).minus(a.cash).abs()),
    };
  }

  async positions(account: string): Promise<{ contract: WireContract; qty: string; avgCost: string }[]> {
    const engine = this.engines.get(account);
    if (!engine) return [];
    const out: { contract: WireContract; qty: string; avgCost: string }[] = [];
    for (const p of await engine.getPositions()) {
      const contract = this.contractOf(FakeExchange.ibSymbol(p.symbol));
      if (contract) out.push({ contract, qty: p.qty, avgCost: p.avgEntryPrice });
    }
    return out;
  }

  get currency(): string {
    return this.options.currency;
  }
}
