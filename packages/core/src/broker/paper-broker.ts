/**
 * PaperBroker: the embedded default broker. A simulated account (cash and positions in exact
 * decimals) trading against prices you set, feed, or quote; market orders execute at once, resting
 * orders (limit, stop, stop_limit, trailing_stop) execute when a price update crosses them, and
 * brackets place their take-profit and stop-loss legs (one cancels the other) once the entry
 * executes. `submitOrder` is idempotent on the client order id, also while the first submit is
 * still in flight. `faults` injects outages, throttling, latency and lost responses for tests.
 *
 * The model is deliberately simple, and documented where it matters:
 * - executions are whole (no partial fills) and happen at the current price;
 * - buying power is cash, minus what open buy orders reserve (remaining qty x limit or stop
 *   price, or the last price), minus twice the value of short positions (shorts tie up their value
 *   on top of their proceeds); it is checked at submission, cash and position again at execution;
 * - time in force: `ioc` and `fok` orders that cannot execute at submission are cancelled; `day`
 *   orders expire at the session's close when a `session` is given, and never otherwise; `gtc`,
 *   `opg` and `cls` orders rest until they execute or are cancelled.
 */

import { randomUUID } from "node:crypto";
import { z } from "zod";
import { toError, ValidationError } from "../errors.js";
import { Decimal, decimalSchema, decimalString } from "../orders/decimal.js";
import { type OrderIntent, parseOrderIntent } from "../orders/intent.js";
import { type Clock, clockSchema, systemClock, type TimerHandle } from "../time/clock.js";
import { parseInput } from "../validation.js";
import {
  type Broker,
  type BrokerAccount,
  type BrokerClock,
  type BrokerConnectionListener,
  type BrokerOrder,
  type BrokerOrderStatus,
  type BrokerPosition,
  BrokerRejectedError,
  BrokerUnavailableError,
  type CancelAllResult,
  type OrderRef,
  type OrderRequest,
  type OrderUpdate,
} from "./broker.js";
import { FaultInjector, type PaperBrokerMethod } from "./fault-injector.js";
import { evaluateTrigger } from "./order-triggers.js";
import { PaperAccount } from "./paper-account.js";
import {
  PriceBook,
  type PriceTickInput,
  parsePriceTick,
  parseQuote,
  type Quote,
  type QuoteFunction,
} from "./paper-prices.js";

/** Trading hours as PaperBroker needs them; a `MarketCalendar` fits. */
export interface PaperSession {
  isOpen(instant: number): boolean;
  /** The first open strictly after `after`, or null when unknown. */
  nextOpen(after: number): Date | null;
  /** The first close strictly after `after` (the current session's, when open), or null when unknown. */
  nextClose(after: number): Date | null;
}

/** Options of {@link PaperBroker}. */
export interface PaperBrokerOptions {
  /** Broker name in logs and records (default `paper`). */
  name?: string;
  /** Starting cash, a decimal >= 0 (default 100000). */
  initialCash?: string | number;
  /** Account currency, ISO 4217 (default USD). */
  currency?: string;
  /** Allow sells beyond the position, opening shorts (default false). */
  allowShort?: boolean;
  /** Time source for timestamps, latency and day-order expiry (default the system clock). */
  clock?: Clock;
  /**
   * A market-data source: asked for a fresh price whenever an order is submitted (a null answer
   * falls back to the last known price), and by {@link PaperBroker.refreshPrices}.
   */
  quote?: QuoteFunction;
  /** Trading hours: `day` orders expire at the session's close, and `getClock` answers from it. */
  session?: PaperSession;
  /** Start connected (default false: call `connect()`). */
  connected?: boolean;
  /** Account id reported by `getAccount` (default `paper`). */
  accountId?: string;
  /** Receives errors thrown by update and connection listeners (they never reach the broker). */
  onError?: (error: Error, context: string) => void;
}

const isFunction = (v: unknown) => typeof v === "function";

const optionsSchema = z.strictObject({
  name: z.string().trim().min(1).max(64).default("paper"),
  initialCash: decimalSchema
    .refine((v) => new Decimal(v).gte(0), { message: "must not be negative", params: { code: "VALIDATION" } })
    .default("100000"),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as USD")
    .default("USD"),
  allowShort: z.boolean().default(false),
  clock: clockSchema.optional(),
  quote: z.custom<QuoteFunction>(isFunction, { message: "must be a function" }).optional(),
  session: z
    .custom<PaperSession>(
      (v) =>
        typeof v === "object" &&
        v !== null &&
        isFunction((v as PaperSession).isOpen) &&
        isFunction((v as PaperSession).nextOpen) &&
        isFunction((v as PaperSession).nextClose),
      { message: "must have isOpen, nextOpen and nextClose" },
    )
    .optional(),
  connected: z.boolean().default(false),
  accountId: z.string().trim().min(1).max(128).default("paper"),
  onError: z
    .custom<(error: Error, context: string) => void>(isFunction, { message: "must be a function" })
    .optional(),
});

const refSchema = z.union([
  z.strictObject({ id: z.string().min(1) }),
  z.strictObject({ clientOrderId: z.string().min(1) }),
]);

const clientOrderIdSchema = z.string().min(1).max(128);

/** Order update events PaperBroker emits. */
export type PaperOrderEvent = "new" | "fill" | "canceled" | "expired" | "rejected";

/** Longest single timer; later expiries re-arm (setTimeout overflows past 2^31-1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

/** Quantities of notional orders are rounded down to this many decimals, as brokers do for fractional shares. */
const NOTIONAL_QTY_DECIMALS = 9;

interface PaperOrder {
  /** The order as reported, without legs (snapshots add them). */
  order: BrokerOrder;
  qty: Decimal;
  limitPrice: Decimal | null;
  stopPrice: Decimal | null;
  trailPercent: Decimal | null;
  trailPrice: Decimal | null;
  triggered: boolean;
  watermark: Decimal | null;
  bracket: OrderIntent["bracket"] | null;
  parentId: string | null;
  legIds: string[];
  expiry: TimerHandle | null;
}

const dec = (v: string | undefined | null): Decimal | null =>
  v === undefined || v === null ? null : new Decimal(v);

/** A simulated broker for development, demos and tests. */
export class PaperBroker implements Broker {
  readonly name: string;
  /** Fault injection for tests. */
  readonly faults: FaultInjector;
  /** The broker's market clock; present when a `session` is configured. */
  declare readonly getClock?: () => Promise<BrokerClock>;

  private readonly clock: Clock;
  private readonly options: z.output<typeof optionsSchema>;
  private readonly account: PaperAccount;
  private readonly book = new PriceBook();
  private readonly orders = new Map<string, PaperOrder>();
  private readonly byClientId = new Map<string, string>();
  /** Open orders in submission order, which is the order they are evaluated in. */
  private readonly open = new Map<string, PaperOrder>();
  /** Submits still being placed, by client order id: duplicates join them instead of placing again. */
  private readonly inflight = new Map<string, Promise<BrokerOrder>>();
  private readonly updateListeners = new Set<(update: OrderUpdate) => void>();
  private readonly connectionListeners = new Set<BrokerConnectionListener>();
  private connected: boolean;

  /** @throws ValidationError naming the bad option. */
  constructor(options: PaperBrokerOptions = {}) {
    this.options = parseInput(optionsSchema, options, "PaperBroker");
    this.name = this.options.name;
    this.clock = this.options.clock ?? systemClock;
    this.account = new PaperAccount(this.options.initialCash);
    this.faults = new FaultInjector(this.clock);
    this.connected = this.options.connected;
    const session = this.options.session;
    if (session) {
      this.getClock = () => this.call("getClock", () => this.marketClock(session));
    }
  }

  // ---- connection -------------------------------------------------------------------------

  async connect(): Promise<void> {
    await this.faults.before("connect");
    this.setConnected(true);
  }

  async disconnect(): Promise<void> {
    this.setConnected(false);
  }

  isConnected(): boolean {
    return this.connected;
  }

  /** Subscribes to connection changes (`true` connected; no detail); returns an unsubscribe function. */
  onConnectionChange(listener: BrokerConnectionListener): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  /** Subscribes to order updates (`new`, `fill`, `canceled`, `expired`, `rejected`); returns an unsubscribe function. */
  onOrderUpdate(listener: (update: OrderUpdate) => void): () => void {
    this.updateListeners.add(listener);
    return () => this.updateListeners.delete(listener);
  }

  // ---- prices -----------------------------------------------------------------------------

  /**
   * Sets the price of `symbol` and executes the open orders it crosses.
   * @throws ValidationError naming `symbol`, `price` or `at`.
   */
  setPrice(symbol: string, price: string | number, at?: Date | number | string): void {
    const tick = parsePriceTick(at === undefined ? { symbol, price } : { symbol, price, at });
    this.applyPrice(tick.symbol, new Decimal(tick.price), tick.at ?? this.clock.now());
  }

  /**
   * Applies every tick of `source` in order, as {@link setPrice} does. Resolves with the number of
   * ticks applied when the source ends or `signal` aborts; rejects on the first invalid tick.
   */
  async feed(
    source: Iterable<PriceTickInput> | AsyncIterable<PriceTickInput>,
    options: { signal?: AbortSignal } = {},
  ): Promise<number> {
    let applied = 0;
    for await (const input of source) {
      if (options.signal?.aborted) break;
      const tick = parsePriceTick(input);
      this.applyPrice(tick.symbol, new Decimal(tick.price), tick.at ?? this.clock.now());
      applied++;
    }
    return applied;
  }

  /** The last known price of `symbol`, or null (usable as the scheduler's price source). */
  getPrice(symbol: string): string | null {
    return this.book.quote(symbol.trim().toUpperCase())?.price ?? null;
  }

  /** The last known quote (price and time) of `symbol`, or null. */
  getQuote(symbol: string): Quote | null {
    return this.book.quote(symbol.trim().toUpperCase());
  }

  /**
   * Asks the `quote` function for the price of every symbol with an open order or a position (or
   * of `symbols`) and applies the answers. A no-op without a quote function.
   */
  async refreshPrices(symbols?: readonly string[]): Promise<void> {
    if (!this.options.quote) return;
    const wanted =
      symbols?.map((s) => s.trim().toUpperCase()) ??
      new Set([...[...this.open.values()].map((o) => o.order.symbol), ...this.account.symbols()]);
    for (const symbol of wanted) await this.lookupPrice(symbol);
  }

  // ---- account ----------------------------------------------------------------------------

  getAccount(): Promise<BrokerAccount> {
    return this.call("getAccount", () => {
      const mark = (symbol: string) => this.book.price(symbol);
      const { long, short } = this.account.marketValue(mark);
      return {
        id: this.options.accountId,
        currency: this.options.currency,
        cash: decimalString(this.account.cash),
        buyingPower: decimalString(this.buyingPower()),
        equity: decimalString(this.account.cash.plus(long).minus(short)),
        status: "ACTIVE",
      };
    });
  }

  getPositions(): Promise<BrokerPosition[]> {
    return this.call("getPositions", () => this.account.positions((s) => this.book.price(s)));
  }

  // ---- orders -----------------------------------------------------------------------------

  getOpenOrders(): Promise<BrokerOrder[]> {
    return this.call("getOpenOrders", () => [...this.open.values()].map((o) => this.snapshot(o)));
  }

  getOrder(ref: OrderRef): Promise<BrokerOrder | null> {
    return this.call("getOrder", () => {
      const parsed = parseInput(refSchema, ref, "PaperBroker.getOrder");
      const id = "id" in parsed ? parsed.id : this.byClientId.get(parsed.clientOrderId);
      const order = id === undefined ? undefined : this.orders.get(id);
      return order ? this.snapshot(order) : null;
    });
  }

  /**
   * Places an order, or returns the existing one with the same client order id. A duplicate that
   * arrives while the first submit is still being placed waits for it and gets the same order.
   *
   * @throws BrokerRejectedError (final) for a malformed request, an unknown price, insufficient
   *   buying power, or a sell beyond the position without `allowShort`.
   * @throws BrokerUnavailableError when disconnected or under an injected fault.
   */
  async submitOrder(request: OrderRequest): Promise<BrokerOrder> {
    const loseResponse = await this.enter("submitOrder");
    const { clientOrderId, intent } = this.parseRequest(request);
    const order = await this.place(clientOrderId, intent);
    if (loseResponse) throw FaultInjector.lostResponse(clientOrderId);
    return order;
  }

  /**
   * Cancels an open order (and the other leg of a bracket); returns the order as it stands after
   * the request: unchanged if it was already final, null if unknown.
   */
  cancelOrder(id: string): Promise<BrokerOrder | null> {
    return this.call("cancelOrder", () => {
      const orderId = parseInput(z.string().min(1), id, "PaperBroker.cancelOrder", "id");
      const order = this.orders.get(orderId);
      if (!order) return null;
      if (this.open.has(orderId)) {
        this.finish(order, "canceled", "canceled");
        this.cancelSibling(order);
      }
      return this.snapshot(order);
    });
  }

  cancelAllOrders(): Promise<CancelAllResult> {
    return this.call("cancelAllOrders", () => {
      let cancelled = 0;
      for (const orderId of [...this.open.keys()]) {
        const order = this.orders.get(orderId);
        // A bracket's sibling may already have gone with its parent.
        if (!order || !this.open.has(orderId)) continue;
        this.finish(order, "canceled", "canceled");
        this.cancelSibling(order);
        cancelled++;
      }
      return { cancelled, failed: [] };
    });
  }

  // ---- internals: calls ---------------------------------------------------------------------

  private async enter(method: PaperBrokerMethod): Promise<boolean> {
    const loseResponse = await this.faults.before(method);
    if (!this.connected) throw new BrokerUnavailableError(`PaperBroker: ${method} failed: not connected`);
    return loseResponse;
  }

  private async call<T>(method: PaperBrokerMethod, fn: () => T): Promise<T> {
    await this.enter(method);
    return fn();
  }

  /** Validates a submit; a malformed one is rejected as a broker would (final), naming the field. */
  private parseRequest(request: OrderRequest): OrderRequest {
    const input: Partial<OrderRequest> = typeof request === "object" && request !== null ? request : {};
    const rejected = (error: unknown, prefix: string): unknown => {
      if (!(error instanceof ValidationError)) return error;
      const field = error.field ? `${prefix}${error.field}` : prefix.replace(/\.$/, "");
      return new BrokerRejectedError(`PaperBroker: order rejected: ${field}: ${error.issues[0]?.message}`, {
        field,
        cause: error,
      });
    };
    let clientOrderId: string;
    try {
      clientOrderId = parseInput(clientOrderIdSchema, input.clientOrderId, "PaperBroker", "clientOrderId");
    } catch (error) {
      throw rejected(error, "");
    }
    try {
      return { clientOrderId, intent: parseOrderIntent(input.intent) };
    } catch (error) {
      throw rejected(error, "intent.");
    }
  }

  private place(clientOrderId: string, intent: OrderIntent): Promise<BrokerOrder> {
    const existing = this.byClientId.get(clientOrderId);
    if (existing !== undefined)
      return Promise.resolve(this.snapshot(this.orders.get(existing) as PaperOrder));
    const pending = this.inflight.get(clientOrderId);
    if (pending) return pending;
    const placing = this.admit(clientOrderId, intent).finally(() => this.inflight.delete(clientOrderId));
    this.inflight.set(clientOrderId, placing);
    return placing;
  }

  // ---- internals: admission -----------------------------------------------------------------

  /** Checks and records a new order. Everything after the price lookup is synchronous, so checks and booking cannot interleave. */
  private async admit(clientOrderId: string, intent: OrderIntent): Promise<BrokerOrder> {
    const price = await this.lookupPrice(intent.symbol);
    const reject = (message: string, field?: string): never => {
      throw new BrokerRejectedError(`PaperBroker: order ${clientOrderId} rejected: ${message}`, {
        ...(field === undefined ? {} : { field }),
        details: { clientOrderId, symbol: intent.symbol },
      });
    };
    if (price === null && (intent.type === "market" || intent.type === "trailing_stop")) {
      reject(`no price is known for ${intent.symbol}`, "intent.symbol");
    }
    let qty: Decimal;
    if (intent.qty !== undefined) qty = new Decimal(intent.qty);
    else {
      qty = new Decimal(intent.notional ?? 0)
        .div(price as Decimal)
        .toDecimalPlaces(NOTIONAL_QTY_DECIMALS, Decimal.ROUND_DOWN);
      if (qty.isZero())
        reject(
          `notional ${intent.notional} buys no ${intent.symbol} at ${decimalString(price as Decimal)}`,
          "intent.notional",
        );
    }
    const limitPrice = dec(intent.limitPrice);
    const stopPrice = dec(intent.stopPrice);
    if (intent.bracket) {
      const tp = new Decimal(intent.bracket.takeProfit.limitPrice);
      const sl = new Decimal(intent.bracket.stopLoss.stopPrice);
      const ordered = intent.side === "buy" ? tp.gt(sl) : tp.lt(sl);
      if (!ordered) {
        reject(
          `take profit ${decimalString(tp)} must be ${intent.side === "buy" ? "above" : "below"} stop loss ${decimalString(sl)}`,
          "intent.bracket.takeProfit.limitPrice",
        );
      }
    }
    const estimate = limitPrice ?? stopPrice ?? price;
    const held = this.account.qty(intent.symbol);
    if (intent.side === "buy") {
      const cover = Decimal.min(qty, Decimal.max(0, held.neg()));
      const cost = qty.minus(cover).times(estimate ?? 0);
      const power = this.buyingPower();
      if (cost.gt(power)) {
        reject(
          `insufficient buying power: needs ${decimalString(cost)}, has ${decimalString(power)}`,
          "intent.qty",
        );
      }
    } else {
      const available = Decimal.max(0, held).minus(this.reservedToSell(intent.symbol));
      const shortQty = Decimal.max(0, qty.minus(Decimal.max(0, available)));
      if (shortQty.gt(0) && !this.options.allowShort) {
        reject(
          `insufficient position: sells ${decimalString(qty)} ${intent.symbol}, ${decimalString(Decimal.max(0, available))} available and shorting is off`,
          "intent.qty",
        );
      }
      const cost = shortQty.times(estimate ?? 0);
      const power = this.buyingPower();
      if (cost.gt(power)) {
        reject(
          `insufficient buying power to short: needs ${decimalString(cost)}, has ${decimalString(power)}`,
          "intent.qty",
        );
      }
    }

    const now = this.clock.now();
    const order: PaperOrder = {
      order: {
        id: randomUUID(),
        clientOrderId,
        symbol: intent.symbol,
        side: intent.side,
        type: intent.type,
        timeInForce: intent.timeInForce,
        qty: intent.qty === undefined ? null : decimalString(qty),
        notional: intent.notional ?? null,
        limitPrice: intent.limitPrice ?? null,
        stopPrice: intent.stopPrice ?? null,
        trailPercent: intent.trailPercent ?? null,
        trailPrice: intent.trailPrice ?? null,
        extendedHours: intent.extendedHours,
        status: "new",
        filledQty: "0",
        filledAvgPrice: null,
        submittedAt: now,
        updatedAt: now,
        legs: [],
      },
      qty,
      limitPrice,
      stopPrice,
      trailPercent: dec(intent.trailPercent),
      trailPrice: dec(intent.trailPrice),
      triggered: false,
      watermark: intent.type === "trailing_stop" ? price : null,
      bracket: intent.bracket ?? null,
      parentId: null,
      legIds: [],
      expiry: null,
    };
    this.record(order);
    if (price !== null) this.evaluate(order, price);
    if (this.open.has(order.order.id) && (intent.timeInForce === "ioc" || intent.timeInForce === "fok")) {
      this.finish(order, "canceled", "canceled");
    }
    return this.snapshot(order);
  }

  /** Records a new open order, announces it, and arms its day expiry. */
  private record(order: PaperOrder): void {
    this.orders.set(order.order.id, order);
    this.byClientId.set(order.order.clientOrderId, order.order.id);
    this.open.set(order.order.id, order);
    this.emit("new", order);
    if (order.order.timeInForce === "day" && this.options.session) {
      const close = this.options.session.nextClose(order.order.submittedAt);
      if (close) this.armExpiry(order, close.getTime());
    }
  }

  private armExpiry(order: PaperOrder, at: number): void {
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, at - this.clock.now()));
    order.expiry = this.clock.setTimeout(() => {
      order.expiry = null;
      if (!this.open.has(order.order.id)) return;
      if (this.clock.now() < at) this.armExpiry(order, at);
      else this.finish(order, "expired", "expired");
    }, wait);
  }

  /** Remaining quantity of open sell orders (bracket legs excluded: they share one position). */
  private reservedToSell(symbol: string): Decimal {
    let total = new Decimal(0);
    for (const o of this.open.values()) {
      if (o.order.symbol === symbol && o.order.side === "sell" && o.parentId === null)
        total = total.plus(o.qty);
    }
    return total;
  }

  /** Cash, minus what open buy orders reserve, minus twice the value of short positions; never below 0. */
  private buyingPower(): Decimal {
    let reserved = new Decimal(0);
    for (const o of this.open.values()) {
      if (o.order.side !== "buy" || o.parentId !== null) continue;
      const estimate = o.limitPrice ?? o.stopPrice ?? this.book.price(o.order.symbol) ?? new Decimal(0);
      reserved = reserved.plus(o.qty.times(estimate));
    }
    const { short } = this.account.marketValue((s) => this.book.price(s));
    return Decimal.max(0, this.account.cash.minus(reserved).minus(short.times(2)));
  }

  // ---- internals: prices and executions -----------------------------------------------------

  /** A fresh quote when a quote function is set (applied as a price update), else the last known price. */
  private async lookupPrice(symbol: string): Promise<Decimal | null> {
    const quote = this.options.quote;
    if (quote) {
      let answer: unknown;
      try {
        answer = await quote(symbol);
      } catch (error) {
        throw new BrokerUnavailableError(`PaperBroker: the quote function failed for ${symbol}`, {
          cause: error,
        });
      }
      const price = parseQuote(symbol, answer);
      if (price !== null) this.applyPrice(symbol, price, this.clock.now());
    }
    return this.book.price(symbol);
  }

  private applyPrice(symbol: string, price: Decimal, at: number): void {
    this.book.set(symbol, price, at);
    for (const order of [...this.open.values()]) {
      if (order.order.symbol === symbol && this.open.has(order.order.id)) this.evaluate(order, price);
    }
  }

  /** Executes `order` if `price` crosses it; trailing stops follow the price. */
  private evaluate(order: PaperOrder, price: Decimal): void {
    const result = evaluateTrigger(
      {
        side: order.order.side,
        type: order.order.type,
        limitPrice: order.limitPrice,
        stopPrice: order.stopPrice,
        trailPercent: order.trailPercent,
        trailPrice: order.trailPrice,
        triggered: order.triggered,
        watermark: order.watermark,
      },
      price,
    );
    order.triggered = result.triggered;
    if (order.order.type === "trailing_stop") {
      order.watermark = result.watermark;
      order.stopPrice = result.stopPrice;
      order.order.stopPrice = result.stopPrice === null ? null : decimalString(result.stopPrice);
    }
    if (result.execute) this.execute(order, price);
  }

  /** Books the execution of the whole order at `price`, after checking cash and position once more. */
  private execute(order: PaperOrder, price: Decimal): void {
    const { symbol, side } = order.order;
    const held = this.account.qty(symbol);
    if (side === "buy") {
      const cover = Decimal.min(order.qty, Decimal.max(0, held.neg()));
      if (order.qty.minus(cover).times(price).gt(this.account.cash)) {
        this.finish(order, "rejected", "rejected");
        this.cancelSibling(order);
        return;
      }
    } else {
      const shortQty = Decimal.max(0, order.qty.minus(Decimal.max(0, held)));
      const shortAllowed = this.options.allowShort && shortQty.times(price).lte(this.buyingPower());
      if (shortQty.gt(0) && !shortAllowed) {
        this.finish(order, "rejected", "rejected");
        this.cancelSibling(order);
        return;
      }
    }
    this.account.execute(symbol, side, order.qty, price);
    order.order.filledQty = decimalString(order.qty);
    order.order.filledAvgPrice = decimalString(price);
    this.finish(order, "filled", "fill");
    this.cancelSibling(order);
    if (order.bracket) this.placeLegs(order, price);
  }

  /** Places the take-profit and stop-loss legs of an executed bracket entry. */
  private placeLegs(parent: PaperOrder, price: Decimal): void {
    const bracket = parent.bracket;
    if (!bracket) return;
    const side = parent.order.side === "buy" ? "sell" : "buy";
    const now = this.clock.now();
    const leg = (
      suffix: string,
      type: BrokerOrder["type"],
      limit: string | null,
      stop: string | null,
    ): PaperOrder => {
      const base = `${parent.order.clientOrderId}-${suffix}`;
      const clientOrderId = this.byClientId.has(base) ? `${base}-${parent.order.id}` : base;
      return {
        order: {
          ...parent.order,
          id: randomUUID(),
          clientOrderId,
          side,
          type,
          notional: null,
          qty: decimalString(parent.qty),
          limitPrice: limit,
          stopPrice: stop,
          trailPercent: null,
          trailPrice: null,
          status: "new",
          filledQty: "0",
          filledAvgPrice: null,
          submittedAt: now,
          updatedAt: now,
          legs: [],
        },
        qty: parent.qty,
        limitPrice: dec(limit),
        stopPrice: dec(stop),
        trailPercent: null,
        trailPrice: null,
        triggered: false,
        watermark: null,
        bracket: null,
        parentId: parent.order.id,
        legIds: [],
        expiry: null,
      };
    };
    const stopLimit = bracket.stopLoss.limitPrice ?? null;
    const takeProfit = leg("tp", "limit", bracket.takeProfit.limitPrice, null);
    const stopLoss = leg(
      "sl",
      stopLimit === null ? "stop" : "stop_limit",
      stopLimit,
      bracket.stopLoss.stopPrice,
    );
    parent.legIds = [takeProfit.order.id, stopLoss.order.id];
    this.record(takeProfit);
    this.record(stopLoss);
    for (const l of [takeProfit, stopLoss]) if (this.open.has(l.order.id)) this.evaluate(l, price);
  }

  /** Cancels the other leg of a bracket once one leg is final (one cancels the other). */
  private cancelSibling(order: PaperOrder): void {
    if (order.parentId === null) return;
    const parent = this.orders.get(order.parentId);
    for (const id of parent?.legIds ?? []) {
      const sibling = this.open.get(id);
      if (sibling && id !== order.order.id) this.finish(sibling, "canceled", "canceled");
    }
  }

  /** Moves an open order to a final status and announces it. */
  private finish(order: PaperOrder, status: BrokerOrderStatus, event: PaperOrderEvent): void {
    if (order.expiry !== null) {
      this.clock.clearTimeout(order.expiry);
      order.expiry = null;
    }
    this.open.delete(order.order.id);
    order.order.status = status;
    order.order.updatedAt = this.clock.now();
    this.emit(event, order);
  }

  // ---- internals: reporting -----------------------------------------------------------------

  private snapshot(order: PaperOrder): BrokerOrder {
    return {
      ...order.order,
      legs: order.legIds.flatMap((id) => {
        const leg = this.orders.get(id);
        return leg ? [this.snapshot(leg)] : [];
      }),
    };
  }

  private emit(event: PaperOrderEvent, order: PaperOrder): void {
    if (this.updateListeners.size === 0) return;
    const at = this.clock.now();
    for (const listener of [...this.updateListeners]) {
      try {
        listener({ event, order: this.snapshot(order), at });
      } catch (error) {
        this.reportError(error, `order update listener (${event} ${order.order.clientOrderId})`);
      }
    }
  }

  private setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    for (const listener of [...this.connectionListeners]) {
      try {
        listener(connected);
      } catch (error) {
        this.reportError(error, "connection listener");
      }
    }
  }

  private reportError(error: unknown, context: string): void {
    try {
      this.options.onError?.(toError(error), `PaperBroker: ${context}`);
    } catch {
      // The error hook itself failed: nothing is left to tell, and the broker must go on.
    }
  }

  private marketClock(session: PaperSession): BrokerClock {
    const now = this.clock.now();
    const nextOpen = session.nextOpen(now);
    const nextClose = session.nextClose(now);
    if (!nextOpen || !nextClose) {
      throw new BrokerUnavailableError("PaperBroker: the session has no next open or close at this time");
    }
    return {
      timestamp: now,
      isOpen: session.isOpen(now),
      nextOpen: nextOpen.getTime(),
      nextClose: nextClose.getTime(),
    };
  }
}
