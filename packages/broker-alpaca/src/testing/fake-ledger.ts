/**
 * The fake account's real state: cash, positions, orders and their executions, in exact
 * decimals. It enforces what Alpaca enforces (a client order id is unique forever, even after a
 * cancel; buying power; no selling what is not held; no cancel of a final order) and emits a
 * trade_updates event for every change, with a fresh `execution_id` each.
 *
 * Execution model: an order is accepted as `new`; it executes on the next turn of the event loop
 * when the price crosses it (market orders at the current price), or later when `setPrice` moves
 * the price across it. Executions are whole unless `execute(id, { qty })` fills part of one.
 * Bracket legs are held until the entry fills; one leg filling cancels the other.
 */

import { randomUUID } from "node:crypto";
import { type Clock, Decimal, decimalString } from "@tradecron/core";
import { type AlpacaRefusal, crosses, type FakeOrder, OPEN_STATUSES, type OrderInput } from "./fake-order.js";
import { Stamps } from "./fake-wire.js";

/** One trade_updates event as the fake emits it. */
export interface FakeTradeEvent {
  event: string;
  executionId: string;
  timestamp: string;
  order: FakeOrder;
  price?: Decimal;
  qty?: Decimal;
  positionQty?: Decimal;
}

interface Position {
  qty: Decimal;
  costBasis: Decimal;
}

/** The symbols the fake treats as tradable before any price is set. */
export const DEFAULT_ASSETS = ["AAPL", "MSFT", "TSLA", "AMZN", "GOOGL", "NVDA", "META", "SPY", "QQQ", "IWM"];

/** Options of the ledger. */
export interface LedgerOptions {
  clock: Clock;
  initialCash: Decimal;
  assets: readonly string[];
  onEvent: (event: FakeTradeEvent) => void;
}

/** State of one fake Alpaca account. */
export class FakeLedger {
  readonly accountId = randomUUID();
  readonly createdAt: string;
  cash: Decimal;
  status = "ACTIVE";
  private readonly stamps: Stamps;
  private readonly orders = new Map<string, FakeOrder>();
  private readonly byClientId = new Map<string, string>();
  private readonly positions = new Map<string, Position>();
  private readonly prices = new Map<string, Decimal>();
  private readonly assets: Set<string>;

  constructor(private readonly options: LedgerOptions) {
    this.stamps = new Stamps(options.clock);
    this.createdAt = this.stamps.next();
    this.cash = options.initialCash;
    this.assets = new Set(options.assets);
  }

  // ---- reading ----------------------------------------------------------------------------

  order(id: string): FakeOrder | undefined {
    return this.orders.get(id);
  }

  orderByClientId(clientOrderId: string): FakeOrder | undefined {
    const id = this.byClientId.get(clientOrderId);
    return id === undefined ? undefined : this.orders.get(id);
  }

  /** Every order, in submission order. */
  allOrders(): FakeOrder[] {
    return [...this.orders.values()];
  }

  legsOf(order: FakeOrder): FakeOrder[] {
    return order.legIds.map((id) => this.orders.get(id)).filter((o): o is FakeOrder => o !== undefined);
  }

  price(symbol: string): Decimal | null {
    return this.prices.get(symbol) ?? null;
  }

  positionList(): { symbol: string; qty: Decimal; costBasis: Decimal; price: Decimal }[] {
    return [...this.positions]
      .filter(([, p]) => !p.qty.isZero())
      .map(([symbol, p]) => ({ symbol, ...p, price: this.prices.get(symbol) ?? p.costBasis.div(p.qty) }));
  }

  longValue(): Decimal {
    return this.positionList().reduce((sum, p) => sum.plus(p.qty.times(p.price)), new Decimal(0));
  }

  /** Cash minus what open buy orders may cost. */
  buyingPower(): Decimal {
    let reserved = new Decimal(0);
    for (const o of this.orders.values()) {
      if (o.side !== "buy" || o.parentId !== null || !OPEN_STATUSES.has(o.status)) continue;
      reserved = reserved.plus(this.estimate(o));
    }
    return Decimal.max(0, this.cash.minus(reserved));
  }

  // ---- changing -----------------------------------------------------------------------------

  /** Sets a price (making the symbol tradable) and executes the open orders it crosses. */
  setPrice(symbol: string, price: Decimal): void {
    this.assets.add(symbol);
    this.prices.set(symbol, price);
    for (const order of [...this.orders.values()]) {
      if (order.symbol === symbol && this.isWorking(order)) this.evaluate(order);
    }
  }

  /** Places an order, or refuses it as Alpaca would. */
  submit(input: OrderInput): FakeOrder | AlpacaRefusal {
    if (this.status !== "ACTIVE") return { status: 403, code: 40310000, message: "account is not active" };
    const clientOrderId = input.clientOrderId ?? randomUUID();
    if (this.byClientId.has(clientOrderId))
      return { status: 422, code: 40010001, message: "client_order_id must be unique" };
    if (!this.assets.has(input.symbol))
      return { status: 422, code: 40010001, message: `asset "${input.symbol}" not found` };
    const price = this.prices.get(input.symbol) ?? null;
    const held = this.positions.get(input.symbol)?.qty ?? new Decimal(0);
    if (input.side === "buy") {
      const each = input.limitPrice ?? input.stopPrice ?? price ?? new Decimal(0);
      const cost = input.notional ?? (input.qty as Decimal).times(each);
      if (cost.gt(this.buyingPower())) {
        return { status: 403, code: 40310000, message: "insufficient buying power" };
      }
    } else {
      const reserved = this.reservedToSell(input.symbol);
      const available = Decimal.max(0, held.minus(reserved));
      const wanted = input.qty ?? (price ? (input.notional as Decimal).div(price) : new Decimal(Infinity));
      if (wanted.gt(available)) {
        return {
          status: 403,
          code: 40310000,
          message: `insufficient qty available for order (requested: ${decimalString(wanted)}, available: ${decimalString(available)})`,
        };
      }
    }
    const stamp = this.stamps.next();
    const order: FakeOrder = {
      id: randomUUID(),
      clientOrderId,
      symbol: input.symbol,
      side: input.side,
      type: input.type,
      timeInForce: input.timeInForce,
      qty: input.qty,
      notional: input.notional,
      limitPrice: input.limitPrice,
      stopPrice: input.stopPrice,
      trailPercent: input.trailPercent,
      trailPrice: input.trailPrice,
      hwm: null,
      extendedHours: input.extendedHours,
      status: "new",
      filledQty: new Decimal(0),
      filledAvgPrice: null,
      orderClass: input.bracket ? "bracket" : "",
      parentId: null,
      legIds: [],
      triggered: false,
      createdAt: stamp,
      submittedAt: stamp,
      updatedAt: stamp,
      filledAt: null,
      canceledAt: null,
      expiredAt: null,
      failedAt: null,
    };
    this.record(order);
    if (input.bracket) this.addLegs(order, input.bracket);
    this.emit("new", order);
    // Like Alpaca, the answer to the POST comes before the first execution.
    setImmediate(() => {
      if (this.isWorking(order)) this.evaluate(order);
      if (OPEN_STATUSES.has(order.status) && (order.timeInForce === "ioc" || order.timeInForce === "fok")) {
        this.finish(order, "canceled", "canceled");
      }
    });
    return order;
  }

  /** Cancels an open order: `canceled`, `unknown`, or `final` (422 on Alpaca). */
  cancel(id: string): "canceled" | "unknown" | "final" {
    const order = this.orders.get(id);
    if (!order) return "unknown";
    if (!OPEN_STATUSES.has(order.status)) return "final";
    this.finish(order, "canceled", "canceled");
    for (const leg of this.legsOf(order))
      if (OPEN_STATUSES.has(leg.status)) this.finish(leg, "canceled", "canceled");
    if (order.parentId !== null) this.cancelSiblings(order);
    return "canceled";
  }

  /** Cancels every open order (parents take their legs along); the ids cancelled. */
  cancelAll(): string[] {
    const ids: string[] = [];
    for (const order of [...this.orders.values()]) {
      if (order.parentId === null && OPEN_STATUSES.has(order.status)) {
        this.cancel(order.id);
        ids.push(order.id);
      }
    }
    return ids;
  }

  /** Executes (part of) an order at `price` (default the current price), as the market would. */
  execute(id: string, fill: { qty?: Decimal; price?: Decimal } = {}): boolean {
    const order = this.orders.get(id);
    if (!order || !this.isWorking(order)) return false;
    const price = fill.price ?? this.prices.get(order.symbol);
    if (!price) return false;
    return this.fill(order, price, fill.qty);
  }

  /** Expires every open `day` order (the session closed). */
  expireDayOrders(): number {
    let n = 0;
    for (const order of [...this.orders.values()]) {
      if (order.timeInForce === "day" && OPEN_STATUSES.has(order.status)) {
        this.finish(order, "expired", "expired");
        n++;
      }
    }
    return n;
  }

  // ---- internals ----------------------------------------------------------------------------

  private record(order: FakeOrder): void {
    this.orders.set(order.id, order);
    this.byClientId.set(order.clientOrderId, order.id);
  }

  private addLegs(parent: FakeOrder, bracket: NonNullable<OrderInput["bracket"]>): void {
    const side: FakeOrder["side"] = parent.side === "buy" ? "sell" : "buy";
    const base = {
      ...parent,
      side,
      parentId: parent.id,
      legIds: [],
      orderClass: "bracket" as const,
      status: "held",
    };
    const takeProfit: FakeOrder = {
      ...base,
      id: randomUUID(),
      clientOrderId: randomUUID(),
      type: "limit",
      timeInForce: parent.timeInForce,
      limitPrice: bracket.takeProfit,
      stopPrice: null,
    };
    const stopLoss: FakeOrder = {
      ...base,
      id: randomUUID(),
      clientOrderId: randomUUID(),
      type: bracket.stopLimit ? "stop_limit" : "stop",
      limitPrice: bracket.stopLimit,
      stopPrice: bracket.stopLoss,
    };
    parent.legIds = [takeProfit.id, stopLoss.id];
    this.record(takeProfit);
    this.record(stopLoss);
  }

  private isWorking(order: FakeOrder): boolean {
    return OPEN_STATUSES.has(order.status) && order.status !== "held" && order.status !== "pending_cancel";
  }

  private estimate(order: FakeOrder): Decimal {
    if (order.notional !== null) return order.notional;
    const each = order.limitPrice ?? order.stopPrice ?? this.prices.get(order.symbol) ?? new Decimal(0);
    return (order.qty as Decimal).minus(order.filledQty).times(each);
  }

  private reservedToSell(symbol: string): Decimal {
    let total = new Decimal(0);
    for (const o of this.orders.values()) {
      if (o.symbol === symbol && o.side === "sell" && o.parentId === null && OPEN_STATUSES.has(o.status)) {
        total = total.plus((o.qty ?? new Decimal(0)).minus(o.filledQty));
      }
    }
    return total;
  }

  private evaluate(order: FakeOrder): void {
    const price = this.prices.get(order.symbol);
    if (!price) return;
    const result = crosses(order, price);
    order.triggered = result.triggered;
    if (order.type === "trailing_stop") {
      order.hwm = result.hwm;
      order.stopPrice = result.stopPrice;
    }
    if (result.execute) this.fill(order, price);
  }

  /** Books an execution of `qty` (default all that remains) at `price`. */
  private fill(order: FakeOrder, price: Decimal, part?: Decimal): boolean {
    const total = order.qty ?? (order.notional as Decimal).div(price).toDecimalPlaces(9, Decimal.ROUND_DOWN);
    if (order.qty === null) order.qty = total;
    const remaining = total.minus(order.filledQty);
    const qty = part ? Decimal.min(part, remaining) : remaining;
    if (qty.lte(0)) return false;
    const position = this.positions.get(order.symbol) ?? { qty: new Decimal(0), costBasis: new Decimal(0) };
    if (order.side === "buy") {
      if (qty.times(price).gt(this.cash)) {
        this.finish(order, "rejected", "rejected");
        return false;
      }
      this.cash = this.cash.minus(qty.times(price));
      position.costBasis = position.costBasis.plus(qty.times(price));
      position.qty = position.qty.plus(qty);
    } else {
      if (qty.gt(position.qty)) {
        this.finish(order, "rejected", "rejected");
        return false;
      }
      const each = position.qty.isZero() ? new Decimal(0) : position.costBasis.div(position.qty);
      this.cash = this.cash.plus(qty.times(price));
      position.costBasis = position.costBasis.minus(each.times(qty));
      position.qty = position.qty.minus(qty);
    }
    this.positions.set(order.symbol, position);
    const before = order.filledQty;
    order.filledQty = before.plus(qty);
    order.filledAvgPrice = (order.filledAvgPrice ?? new Decimal(0))
      .times(before)
      .plus(price.times(qty))
      .div(order.filledQty);
    const done = order.filledQty.gte(total);
    const stamp = this.stamps.next();
    order.updatedAt = stamp;
    if (done) {
      order.status = "filled";
      order.filledAt = stamp;
    } else order.status = "partially_filled";
    this.emit(done ? "fill" : "partial_fill", order, { price, qty, positionQty: position.qty });
    if (done) {
      for (const leg of this.legsOf(order)) this.activate(leg);
      if (order.parentId !== null) this.cancelSiblings(order);
    }
    return true;
  }

  private activate(leg: FakeOrder): void {
    if (leg.status !== "held") return;
    leg.status = "new";
    leg.updatedAt = this.stamps.next();
    this.emit("new", leg);
    this.evaluate(leg);
  }

  private cancelSiblings(leg: FakeOrder): void {
    const parent = leg.parentId === null ? undefined : this.orders.get(leg.parentId);
    for (const sibling of parent ? this.legsOf(parent) : []) {
      if (sibling.id !== leg.id && OPEN_STATUSES.has(sibling.status))
        this.finish(sibling, "canceled", "canceled");
    }
  }

  private finish(order: FakeOrder, status: "canceled" | "expired" | "rejected", event: string): void {
    const stamp = this.stamps.next();
    order.status = status;
    order.updatedAt = stamp;
    if (status === "canceled") order.canceledAt = stamp;
    if (status === "expired") order.expiredAt = stamp;
    if (status === "rejected") order.failedAt = stamp;
    this.emit(event, order);
  }

  private emit(event: string, order: FakeOrder, extra: Partial<FakeTradeEvent> = {}): void {
    this.options.onEvent({
      event,
      executionId: randomUUID(),
      timestamp: order.updatedAt,
      order: { ...order, legIds: [...order.legIds] },
      ...extra,
    });
  }
}
