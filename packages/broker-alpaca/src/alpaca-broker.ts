/**
 * AlpacaBroker: core's `Broker` contract over Alpaca's Trading API v2, a facade over role-named
 * parts: {@link RestTransport} (fetch, timeout, rate limit), {@link AlpacaRest} (endpoints),
 * {@link Submitter} (idempotent submission), {@link OrderFeed} (stream, polling,
 * reconciliation) and {@link OrderTracker} (dedupe and ordering of updates).
 *
 * `isConnected()` is the session: true from a successful `connect()` (which verifies the account)
 * until `disconnect()`. Transient REST failures and stream gaps do not end the session (calls keep
 * failing with retryable errors while they last, and trading resumes by itself); they show in
 * `health()` and are reported to connection listeners with the health as a second argument.
 */

import {
  type Broker,
  type BrokerAccount,
  type BrokerClock,
  type BrokerConnectionDetail,
  type BrokerOrder,
  type BrokerPosition,
  BrokerUnavailableError,
  type CancelAllResult,
  type Clock,
  type Logger,
  type MarketCalendar,
  type OrderRef,
  type OrderRequest,
  type OrderUpdate,
  type PriceSource,
  silentLogger,
  systemClock,
  toError,
  ValidationError,
} from "@tradecron/core";
import { z } from "zod";
import { AlpacaRest } from "./alpaca-rest.js";
import { applyCalendarDifferences, type CalendarDifference, diffCalendars } from "./calendar-diff.js";
import { ClientOrderIds } from "./client-order-ids.js";
import { Credentials, REDACTED } from "./credentials.js";
import {
  brokerAccount,
  brokerClock,
  brokerOrder,
  brokerPosition,
  eventForStatus,
  instantKey,
} from "./mapping.js";
import { type AlpacaBrokerOptions, type ResolvedOptions, resolveOptions } from "./options.js";
import { OrderFeed, type UpdatesHealth } from "./order-feed.js";
import { OrderTracker } from "./order-tracker.js";
import { RateLimiter } from "./rate-limiter.js";
import { type RestHealth, RestTransport } from "./rest-transport.js";
import { type SubmitStats, Submitter } from "./submitter.js";
import type { AlpacaCalendarDay, AlpacaOrder } from "./wire.js";

/**
 * How the adapter is doing: the session, REST, and where order updates come from. It is core's
 * `BrokerConnectionDetail` too (`rest`, `stream`), so Trading reads it through the Broker contract.
 */
export interface AlpacaHealth extends BrokerConnectionDetail {
  connected: boolean;
  rest: RestHealth;
  /** The order updates in short: `ok` while they come in (the stream listens, or polling stands in); `state` is the stream's. */
  stream: { ok: boolean; state: UpdatesHealth["stream"] };
  updates: UpdatesHealth;
  submits: SubmitStats;
}

/** A connection listener: `connected` is the session; `health` says how REST and the stream are. */
export type ConnectionListener = (connected: boolean, health: AlpacaHealth) => void;

const refSchema = z.union([
  z.strictObject({ id: z.string().min(1).max(200) }),
  z.strictObject({ clientOrderId: z.string().min(1).max(1000) }),
]);

const dateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date 'YYYY-MM-DD'");
const rangeSchema = z
  .strictObject({ start: dateSchema, end: dateSchema })
  .refine((r) => r.start <= r.end, { message: "start must not be after end", path: ["end"] });

function invalid(field: string, message: string): ValidationError {
  return new ValidationError([{ field, message, code: "VALIDATION" }], { component: "AlpacaBroker" });
}

function parse<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.map(String).join(".") ?? "";
  throw invalid(path ? `${what}.${path}` : what, issue?.message ?? "invalid");
}

/** A broker on Alpaca (paper by default). */
export class AlpacaBroker implements Broker {
  readonly name: string;
  private readonly options: ResolvedOptions;
  private readonly credentials: Credentials;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly transport: RestTransport;
  private readonly rest: AlpacaRest;
  private readonly ids = new ClientOrderIds();
  private readonly tracker = new OrderTracker();
  private readonly submitter: Submitter;
  private readonly feed: OrderFeed;
  private readonly updateListeners = new Set<(update: OrderUpdate) => void>();
  private readonly connectionListeners = new Set<ConnectionListener>();
  private session = false;
  private connecting: Promise<void> | null = null;
  private lastReported = "";

  /** @throws ValidationError naming the bad option (`keyId`, `secretKey`, `baseUrl`, ...), never its value. */
  constructor(options: AlpacaBrokerOptions = {}) {
    this.options = resolveOptions(options);
    this.name = this.options.name;
    this.credentials = new Credentials(this.options.keyId, this.options.secretKey);
    // The resolved options keep no credential: only `credentials` holds them, unprintable.
    this.options.keyId = REDACTED;
    this.options.secretKey = REDACTED;
    this.clock = this.options.clock ?? systemClock;
    this.logger = (this.options.logger ?? silentLogger).child({ broker: this.name });
    this.transport = new RestTransport({
      credentials: this.credentials,
      baseUrl: this.options.baseUrl,
      dataUrl: this.options.dataUrl,
      timeoutMs: this.options.requestTimeoutMs,
      clock: this.clock,
      limiter: new RateLimiter(this.clock, this.options.rateLimit),
      logger: this.logger,
      onHealthChange: () => this.reportConnection(),
    });
    this.rest = new AlpacaRest({
      transport: this.transport,
      credentials: this.credentials,
      clock: this.clock,
      logger: this.logger,
    });
    this.submitter = new Submitter({
      rest: this.rest,
      ids: this.ids,
      clock: this.clock,
      logger: this.logger,
      accept: (order) => this.readOrder(order),
    });
    this.feed = new OrderFeed({
      options: this.options,
      credentials: this.credentials,
      rest: this.rest,
      tracker: this.tracker,
      clock: this.clock,
      logger: this.logger,
      push: (order, event, at) => this.push(order, event, at),
      onHealthChange: () => this.reportConnection(),
      reportError: (error, context) => this.reportError(error, context),
    });
  }

  // ---- connection ---------------------------------------------------------------------------

  /**
   * Verifies the account (`GET /v2/account`) and starts order updates; a second call while
   * connected only verifies the account again.
   * @throws AlpacaAuthError for refused credentials; BrokerUnavailableError when Alpaca is unreachable.
   */
  async connect(): Promise<void> {
    if (this.connecting) return this.connecting;
    this.connecting = (async () => {
      const account = await this.rest.account();
      if (this.session) return;
      this.logger.info({ account: account.id, status: account.status }, "alpaca connected");
      this.session = true;
      await this.feed.start();
    })().finally(() => {
      this.connecting = null;
      this.reportConnection();
    });
    return this.connecting;
  }

  /** Ends the session and closes the stream. Idempotent. */
  async disconnect(): Promise<void> {
    if (this.connecting) await this.connecting.catch(() => {});
    this.session = false;
    this.feed.stop();
    this.reportConnection();
  }

  isConnected(): boolean {
    return this.session;
  }

  /** The session, REST health and the order-update feed, with counters. */
  health(): AlpacaHealth {
    const updates = this.feed.health();
    return {
      connected: this.session,
      rest: { ...this.transport.health },
      stream: { ok: updates.stream === "listening" || updates.polling, state: updates.stream },
      updates,
      submits: { ...this.submitter.stats },
    };
  }

  /**
   * Subscribes to connection changes: the session (`connected`), and changes of REST or stream
   * health (`health`, second argument). Returns an unsubscribe function.
   */
  onConnectionChange(listener: ConnectionListener): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  /**
   * Subscribes to order updates from the trade_updates stream (`new`, `fill`, `partial_fill`,
   * `canceled`, `expired`, `rejected`, `replaced`, ...) and from reconciliation (named after the
   * status found). Duplicates and stale states are never delivered. Returns an unsubscribe function.
   */
  onOrderUpdate(listener: (update: OrderUpdate) => void): () => void {
    this.updateListeners.add(listener);
    return () => this.updateListeners.delete(listener);
  }

  // ---- account ------------------------------------------------------------------------------

  async getAccount(): Promise<BrokerAccount> {
    this.assertSession("getAccount");
    return brokerAccount(await this.rest.account());
  }

  async getPositions(): Promise<BrokerPosition[]> {
    this.assertSession("getPositions");
    return (await this.rest.positions()).map(brokerPosition);
  }

  // ---- orders -------------------------------------------------------------------------------

  async getOpenOrders(): Promise<BrokerOrder[]> {
    this.assertSession("getOpenOrders");
    return (await this.rest.openOrders()).map((o) => this.readOrder(o));
  }

  /**
   * Places an order, or returns the one already placed with the same client order id; safe to
   * call again after any error it throws (see submitter.ts for the protocol).
   * @throws BrokerRejectedError (final: buying power, validation, unknown symbol); AlpacaAuthError;
   *   BrokerRateLimitedError and BrokerUnavailableError (retry with the same request).
   */
  async submitOrder(request: OrderRequest): Promise<BrokerOrder> {
    this.assertSession("submitOrder");
    return this.submitter.submit(request);
  }

  /** The order by Alpaca id or by client order id, or null when Alpaca does not know it. */
  async getOrder(ref: OrderRef): Promise<BrokerOrder | null> {
    this.assertSession("getOrder");
    const parsed = parse(refSchema, ref, "ref");
    if ("id" in parsed) {
      const order = await this.rest.order(parsed.id);
      return order ? this.readOrder(order) : null;
    }
    const order = await this.rest.orderByClientId(this.ids.toWire(parsed.clientOrderId));
    return order ? this.readOrder(order) : null;
  }

  /**
   * Requests the cancel of an open order (`DELETE /v2/orders/{id}`) and returns the order as it
   * stands afterwards (`pending_cancel` or `canceled`; unchanged if it was final already), or null.
   */
  async cancelOrder(id: string): Promise<BrokerOrder | null> {
    this.assertSession("cancelOrder");
    const orderId = parse(z.string().min(1).max(200), id, "id");
    const outcome = await this.rest.cancel(orderId);
    if (outcome === "unknown") return null;
    const order = await this.rest.order(orderId);
    return order ? this.readOrder(order) : null;
  }

  /** Cancels every open order with Alpaca's `DELETE /v2/orders`; its multi-status answer becomes `{ cancelled, failed }`. */
  async cancelAllOrders(): Promise<CancelAllResult> {
    this.assertSession("cancelAllOrders");
    return this.rest.cancelAll();
  }

  // ---- clock, calendar, prices -----------------------------------------------------------------

  /** Alpaca's market clock (`GET /v2/clock`). */
  async getClock(): Promise<BrokerClock> {
    this.assertSession("getClock");
    return brokerClock(await this.rest.clock());
  }

  /** Alpaca's trading days from `start` to `end` ('YYYY-MM-DD', inclusive), New York wall times. */
  async getCalendar(range: { start: string; end: string }): Promise<AlpacaCalendarDay[]> {
    this.assertSession("getCalendar");
    const r = parse(rangeSchema, range, "range");
    return this.rest.calendar(r.start, r.end);
  }

  /**
   * Every date from `start` to `end` on which Alpaca's calendar and `calendar` (core's XNYS, say)
   * disagree, with the overrides that would make `calendar` agree. With `apply: true` the
   * overrides are added to `calendar` as well.
   */
  async compareCalendar(
    calendar: MarketCalendar,
    range: { start: string; end: string; apply?: boolean },
  ): Promise<CalendarDifference[]> {
    const { apply, ...dates } = range;
    const r = parse(rangeSchema, dates, "range");
    if (r.start < calendar.firstDate || r.end > calendar.lastDate) {
      throw invalid("range", `must lie within the calendar's ${calendar.firstDate} to ${calendar.lastDate}`);
    }
    const days = await this.getCalendar(r);
    const differences = diffCalendars(days, calendar, r.start, r.end);
    if (apply === true) applyCalendarDifferences(calendar, differences);
    return differences;
  }

  /** The latest trade price of `symbol` from Alpaca's market data API (the `feed` option), or null. */
  async latestPrice(symbol: string): Promise<string | null> {
    this.assertSession("latestPrice");
    const s = parse(
      z
        .string()
        .trim()
        .min(1)
        .max(32)
        .regex(/^[A-Za-z0-9.\-/]+$/, "must be a ticker symbol"),
      symbol,
      "symbol",
    );
    return this.rest.latestTrade(s.toUpperCase(), this.options.feed);
  }

  /**
   * A price source for the scheduler's risk guard (`new Scheduler({ prices: broker.priceSource() })`):
   * latest trades, null when there is none or the data API fails (the guard then values the order
   * by its limit price or `referencePrice`, or refuses it under a notional limit).
   */
  priceSource(): PriceSource {
    return async (symbol) => {
      try {
        return await this.latestPrice(symbol);
      } catch (error) {
        this.logger.debug({ symbol, reason: toError(error).message }, "alpaca latest price unavailable");
        return null;
      }
    };
  }

  /** Re-reads the open and watched orders now and pushes what changed (the stream does this on every reconnect). */
  async reconcile(): Promise<void> {
    this.assertSession("reconcile");
    await this.feed.reconcile();
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, baseUrl: this.options.baseUrl, connected: this.session };
  }

  // ---- internals ------------------------------------------------------------------------------

  private assertSession(method: string): void {
    if (!this.session) throw new BrokerUnavailableError(`AlpacaBroker: ${method} failed: not connected`);
  }

  /** An order seen through a read: mapped, watched until final, and never older than what was pushed. */
  private readOrder(order: AlpacaOrder): BrokerOrder {
    const mapped = brokerOrder(order, (wire) => this.ids.fromWire(wire));
    this.tracker.watch(mapped);
    return this.tracker.freshest(mapped, instantKey(order.updated_at));
  }

  /** An order state from the stream or reconciliation: pushed to listeners when it is news. */
  private push(order: AlpacaOrder, event: string | null, at: number): BrokerOrder | null {
    const mapped = brokerOrder(order, (wire) => this.ids.fromWire(wire));
    const offer = this.tracker.offer(mapped, instantKey(order.updated_at));
    if (!offer.advanced) return null;
    const update: OrderUpdate = { event: event ?? eventForStatus(mapped.status), order: mapped, at };
    for (const listener of [...this.updateListeners]) {
      try {
        listener(update);
      } catch (error) {
        this.reportError(error, `order update listener (${update.event} ${mapped.clientOrderId})`);
      }
    }
    return mapped;
  }

  /** Tells connection listeners when the session or the health changed. */
  private reportConnection(): void {
    // connect() reports once, when it is done: listeners see one change, not each step of it.
    if (this.connecting) return;
    const health = this.health();
    const key = `${health.connected}|${health.rest.ok}|${health.updates.stream}|${health.updates.polling}`;
    if (key === this.lastReported) return;
    this.lastReported = key;
    for (const listener of [...this.connectionListeners]) {
      try {
        listener(health.connected, health);
      } catch (error) {
        this.reportError(error, "connection listener");
      }
    }
  }

  private reportError(error: unknown, context: string): void {
    const e = toError(error);
    this.logger.warn({ context, reason: this.credentials.redact(e.message) }, "alpaca background error");
    try {
      this.options.onError?.(e, `AlpacaBroker: ${context}`);
    } catch {
      // The error hook itself failed: nothing is left to tell, and the broker must go on.
    }
  }
}
