/**
 * IbkrBroker: core's Broker contract over TWS / IB Gateway, through @stoqey/ib.
 *
 * The part that matters with real money is `submitOrder`: the deterministic client order id is
 * the order's `orderRef`, and before placing, the adapter asks IB for every open order (all
 * clients), the completed orders and the day's executions, and places the order only if none of
 * them carries that orderRef. So a retry, a reconnect, a TWS restart, a takeover by another
 * instance or a restart of this process finds the order instead of doubling it. Duplicate
 * submits in flight in this process share one placement.
 *
 * The facade wires role-named parts: {@link Connection} (sessions, reconnects, connectivity
 * notices, heartbeat), {@link OrderBook} (what IB told us about orders, deduplicated),
 * {@link OrderTraffic} (placements and cancels awaiting TWS's answer) and {@link Pacer}.
 */

import type { ExecutionFilter } from "@stoqey/ib";
import {
  type Broker,
  type BrokerAccount,
  type BrokerConnectionListener,
  type BrokerOrder,
  type BrokerPosition,
  BrokerRejectedError,
  type CancelAllResult,
  type Clock,
  Decimal,
  decimalString,
  FINAL_ORDER_STATUSES,
  type OrderIntent,
  type OrderRef,
  type OrderRequest,
  type OrderUpdate,
  parseOrderIntent,
  systemClock,
  toError,
  ValidationError,
} from "@tradecron/core";
import { EventEmitter } from "eventemitter3";
import { z } from "zod";
import { Connection } from "./connection.js";
import type { FarmStatus, IbkrConnectionDetail } from "./connection-detail.js";
import { IbkrConfigError, toBrokerError, unavailable } from "./ib-errors.js";
import { type IbkrBrokerOptions, type ParsedOptions, parseOptions } from "./options.js";
import { type BookEntry, OrderBook } from "./order-book.js";
import { contractFor, ibOrderFor, ibSymbolOf, tickerOf, updateEventOf } from "./order-mapping.js";
import { OrderTraffic } from "./order-traffic.js";
import { Pacer } from "./pacer.js";
import type { Session } from "./session.js";
import { parseWith } from "./validation.js";

/** Account summary tags we read. */
const SUMMARY_TAGS = ["AccountType", "NetLiquidation", "TotalCashValue", "BuyingPower", "AvailableFunds"];

const refSchema = z.union([
  z.strictObject({ id: z.string().min(1) }),
  z.strictObject({ clientOrderId: z.string().min(1) }),
]);

const clientOrderIdSchema = z.string().min(1).max(128);

/** Final orders are kept in memory this long after their last update (pruned on each connect). */
const BOOK_RETENTION_MS = 7 * 86_400_000;

/**
 * Runs a parse of part of a submit; bad input becomes a final BrokerRejectedError naming the
 * field (`clientOrderId`, `intent.qty`), as a broker rejects a malformed order.
 */
function rejectingBadInput<T>(prefix: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const field = [prefix, error.field ?? ""].filter((p) => p !== "").join(".");
    throw new BrokerRejectedError(
      `IbkrBroker: order rejected: ${field}: ${error.issues[0]?.message ?? "invalid"}`,
      {
        field,
        cause: error,
      },
    );
  }
}

/** A permId as the broker order id: digits only (anything else cannot be an IB order). */
function permIdOf(id: string): number | null {
  return /^\d{1,18}$/.test(id) ? Number(id) : null;
}

function isFinal(entry: BookEntry): boolean {
  return FINAL_ORDER_STATUSES.includes(entry.status);
}

function amount(value: string | undefined): string {
  if (value === undefined || value.trim() === "") return "0";
  const d = new Decimal(value.replace(/,/g, ""));
  return decimalString(d);
}

/** Interactive Brokers through TWS or IB Gateway. */
export class IbkrBroker implements Broker {
  readonly name: string;
  private readonly options: ParsedOptions;
  private readonly clock: Clock;
  private readonly book: OrderBook;
  private readonly traffic: OrderTraffic;
  private readonly connection: Connection;
  /** The traded account, settled on connect. */
  private account: string | null = null;
  /** Submits being placed, by client order id: duplicates join them. */
  private readonly inflight = new Map<string, Promise<BrokerOrder>>();
  /** The one typed event map: order updates and connection changes. */
  private readonly events = new EventEmitter<{
    update: [OrderUpdate];
    connection: [boolean, IbkrConnectionDetail];
  }>();

  /** @throws ValidationError naming the bad option. */
  constructor(options: IbkrBrokerOptions = {}) {
    this.options = parseOptions(options);
    this.name = this.options.name;
    this.clock = this.options.clock ?? systemClock;
    const clientId = this.options.clientId;
    this.book = new OrderBook(this.clock, (entry) => this.onBookChange(entry));
    this.traffic = new OrderTraffic(
      { clientId, orderAckMs: this.options.timeouts.orderAckMs, cancelMs: this.options.timeouts.cancelMs },
      this.clock,
      this.book,
      (info) => this.report(toBrokerError(info, `order ${info.reqId}`), "an IB error for an order"),
    );
    const pacer = new Pacer(this.clock, this.options.maxRequestsPerSecond);
    this.connection = new Connection(
      {
        host: this.options.host,
        port: this.options.port,
        clientId,
        connectMs: this.options.timeouts.connectMs,
        requestMs: this.options.timeouts.requestMs,
        reconnectWaitMs: this.options.timeouts.reconnectWaitMs,
        backoff: this.options.reconnect,
        heartbeatMs: this.options.heartbeatMs,
      },
      this.clock,
      this.options.random ?? Math.random,
      pacer,
      {
        handlers: {
          openOrder: (r) => this.book.applyOpenOrder(r.orderId, r.contract, r.order, r.state),
          orderStatus: (report) => this.book.applyOrderStatus(report),
          completedOrder: (r) => this.book.applyCompletedOrder(r.contract, r.order, r.state),
          execution: (r) => this.book.applyExecution(r.contract, r.execution),
          error: (info) => this.traffic.error(info),
          problem: (error, context) => this.report(error, context),
        },
        synchronize: (session) => this.synchronize(session),
        changed: (connected, detail) => this.events.emit("connection", connected, detail),
        farm: (status) => this.farmNotice(status),
        problem: (error, context) => this.report(error, context),
        sessionClosed: (session, reason) => this.traffic.sessionClosed(session, reason),
      },
    );
  }

  // ---- connection -------------------------------------------------------------------------

  /**
   * Connects to TWS and resolves once ready: nextValidId and managedAccounts received, the account
   * checked, the order book reconciled. On failure it rejects (BrokerUnavailableError, or
   * IbkrConfigError for a wrong account) and, unless the configuration is wrong, keeps
   * reconnecting in the background until {@link disconnect}.
   */
  connect(): Promise<void> {
    return this.connection.connect();
  }

  /** Disconnects and stops reconnecting. */
  disconnect(): Promise<void> {
    return this.connection.disconnect();
  }

  /** Connected to TWS, synchronized, and TWS connected to IB. */
  isConnected(): boolean {
    return this.connection.isConnected();
  }

  /**
   * Subscribes to connection changes (`true`: orders can be placed); returns an unsubscribe
   * function. The detail says why ({@link IbkrConnectionDetail}): `rest` is the API socket to
   * TWS, `stream` TWS's link to IB (`lost` after 1100, `broken` after 2110, `resyncing` while the
   * book is re-read after 1101), `code` the TWS notice, `dataLost` true after 1101.
   */
  onConnectionChange(listener: BrokerConnectionListener): () => void {
    const safe = (connected: boolean, detail: IbkrConnectionDetail) => {
      try {
        listener(connected, {
          ...detail,
          farms: detail.farms.map((f) => ({ ...f })),
        } as IbkrConnectionDetail);
      } catch (error) {
        this.report(error, "connection listener");
      }
    };
    this.events.on("connection", safe);
    return () => void this.events.off("connection", safe);
  }

  /**
   * How the connection stands now: the API socket (`rest`: connected, connecting, reconnecting,
   * disconnected), TWS's link to IB (`stream`), the last connectivity notice or drop (`code`,
   * `reason`, `dataLost`), and the data farms TWS reported (informational: a broken farm stops
   * quotes, not orders).
   */
  connectionDetail(): IbkrConnectionDetail {
    return this.connection.detail();
  }

  /**
   * Subscribes to order updates (`new`, `accepted`, `partial_fill`, `fill`, `pending_cancel`,
   * `canceled`, `rejected`) of orders that carry a client order id; returns an unsubscribe
   * function. Repeated messages from IB produce one update.
   */
  onOrderUpdate(listener: (update: OrderUpdate) => void): () => void {
    return this.subscribe("update", listener, "order update listener");
  }

  /** The traded account (known once connected). */
  get accountId(): string | null {
    return this.account;
  }

  // ---- account ----------------------------------------------------------------------------

  getAccount(): Promise<BrokerAccount> {
    return this.call("getAccount", async (session, account) => {
      const lines = (await session.accountSummary(SUMMARY_TAGS)).filter((l) => l.account === account);
      const value = (tag: string) => lines.find((l) => l.tag === tag);
      const equity = value("NetLiquidation");
      if (!equity) throw unavailable("getAccount", `TWS sent no account summary for ${account}`);
      return {
        id: account,
        currency: equity.currency || this.options.currency,
        cash: amount(value("TotalCashValue")?.value),
        buyingPower: amount(value("BuyingPower")?.value ?? value("AvailableFunds")?.value),
        equity: amount(equity.value),
        status: "ACTIVE",
      };
    });
  }

  /** Positions of the account: stocks by ticker, other instruments by IB's local symbol. */
  getPositions(): Promise<BrokerPosition[]> {
    return this.call("getPositions", async (session, account) => {
      const out: BrokerPosition[] = [];
      for (const p of await session.positions()) {
        if (p.account !== account || !Number.isFinite(p.pos) || p.pos === 0) continue;
        const stock = String(p.contract.secType ?? "STK") === "STK";
        const qty = decimalString(new Decimal(p.pos));
        out.push({
          symbol: stock
            ? tickerOf(p.contract.symbol ?? "")
            : (p.contract.localSymbol ?? p.contract.symbol ?? ""),
          qty,
          side: p.pos < 0 ? "short" : "long",
          avgEntryPrice: decimalString(new Decimal(p.avgCost || 0)),
          marketValue: null,
        });
      }
      return out;
    });
  }

  // ---- orders -----------------------------------------------------------------------------

  /** Working orders of the account, from every client and from TWS itself. */
  getOpenOrders(): Promise<BrokerOrder[]> {
    return this.call("getOpenOrders", async (session, account) => {
      const seen = new Set<BookEntry>();
      for (const r of await session.openOrders()) {
        const entry =
          this.book.byPermId(r.order.permId ?? 0) ??
          this.book.byClientOrderId(r.order.clientId ?? -1, r.orderId);
        if (entry && !isFinal(entry) && (entry.account === account || entry.account === "")) seen.add(entry);
      }
      return [...seen].map((e) => this.book.snapshot(e));
    });
  }

  /**
   * Places an order, or returns the order IB already has with this client order id (found by
   * orderRef among open orders, completed orders and the day's executions).
   *
   * @throws BrokerRejectedError (final) for a malformed request, what IbkrBroker does not place
   *   (notional, brackets), or IB's rejection (201, 200 unknown contract, ...), code in details.
   * @throws BrokerUnavailableError while disconnected or when the answer is lost (retry it: the
   *   retry finds an order that did get placed).
   * @throws BrokerRateLimitedError after a pacing violation.
   */
  async submitOrder(request: OrderRequest): Promise<BrokerOrder> {
    const { clientOrderId, intent } = this.parseRequest(request);
    const pending = this.inflight.get(clientOrderId);
    if (pending) return pending;
    const placing = this.submit(clientOrderId, intent).finally(() => this.inflight.delete(clientOrderId));
    this.inflight.set(clientOrderId, placing);
    return placing;
  }

  getOrder(ref: OrderRef): Promise<BrokerOrder | null> {
    return this.call("getOrder", async (session) => {
      const parsed = parseWith(refSchema, ref, "ref");
      const find = () => {
        if ("id" in parsed) {
          const permId = permIdOf(parsed.id);
          return permId === null ? null : this.book.byPermId(permId);
        }
        return this.book.byOrderRef(parsed.clientOrderId, this.account ?? undefined);
      };
      if ("id" in parsed && permIdOf(parsed.id) === null) return null;
      let entry = find();
      // Our own orders stream to us while connected; anything else is asked for again.
      if (!entry || entry.clientId !== this.options.clientId) {
        await this.reconcile(session);
        entry = find();
      }
      return entry ? this.book.snapshot(entry) : null;
    });
  }

  /**
   * Cancels an open order placed by this client id and waits for its final status; returns the
   * order as it stands (unchanged if already final), or null if IB does not know it.
   * @throws BrokerRejectedError for an order placed by another client or by hand: IB lets only
   *   the placing client cancel an order (a global cancel, `cancelAll: "global"`, cancels all).
   */
  cancelOrder(id: string): Promise<BrokerOrder | null> {
    return this.call("cancelOrder", async (session) => {
      const orderId = parseWith(z.string().min(1), id, "id");
      const permId = permIdOf(orderId);
      if (permId === null) return null;
      let entry = this.book.byPermId(permId);
      if (!entry || !isFinal(entry)) {
        await this.reconcile(session);
        entry = this.book.byPermId(permId);
      }
      if (!entry) return null;
      if (isFinal(entry)) return this.book.snapshot(entry);
      this.assertOwn(entry);
      await this.traffic.cancel(session, entry);
      if (!isFinal(entry)) await this.reconcile(session);
      return this.book.snapshot(entry);
    });
  }

  /**
   * Cancels open orders for pause-all. `cancelAll: "client"` (default) cancels each open order
   * of this account placed by this client id; `"global"` sends IB's global cancel, which also
   * cancels orders of other API clients and orders entered by hand in TWS, in every account of
   * the login. Counts what was open before and is cancelled (or cancelling) after.
   */
  cancelAllOrders(): Promise<CancelAllResult> {
    return this.call("cancelAllOrders", async (session, account) => {
      const open = new Set<BookEntry>();
      for (const r of await session.openOrders()) {
        const entry = this.book.byPermId(r.order.permId ?? 0);
        if (!entry || isFinal(entry)) continue;
        if (
          this.options.cancelAll === "global" ||
          (entry.account === account && entry.clientId === this.options.clientId)
        )
          open.add(entry);
      }
      const targets = [...open];
      const failed: CancelAllResult["failed"] = [];
      if (this.options.cancelAll === "global") {
        await session.send("reqGlobalCancel", () => session.ib.reqGlobalCancel());
        // Our own orders report their final status to us; the others show up among completed orders.
        await this.traffic.settle(
          session,
          targets.filter((e) => e.clientId === this.options.clientId),
        );
        await this.reconcile(session);
      } else {
        await Promise.all(
          targets.map((e) =>
            this.traffic.cancel(session, e).catch((error: unknown) => {
              failed.push({ id: String(e.permId), error: toError(error).message });
            }),
          ),
        );
      }
      let cancelled = 0;
      for (const e of targets) {
        if (e.status === "canceled" || e.status === "pending_cancel") cancelled++;
        else if (!isFinal(e) && !failed.some((f) => f.id === String(e.permId))) {
          failed.push({ id: String(e.permId), error: `still ${e.status} after the cancel` });
        }
      }
      return { cancelled, failed };
    });
  }

  // ---- internals: submission ----------------------------------------------------------------

  private async submit(clientOrderId: string, intent: OrderIntent): Promise<BrokerOrder> {
    // Checked before any I/O, so an order IbkrBroker cannot place fails the same way every time.
    ibOrderFor(clientOrderId, intent, "");
    const session = await this.connection.ready("submitOrder");
    const account = this.account as string;
    const known = this.book.byOrderRef(clientOrderId, account);
    if (known) return this.existing(known);
    await this.reconcile(session, intent);
    const found = this.book.byOrderRef(clientOrderId, account);
    if (found) return this.existing(found);
    // TWS may have lost IB (1100) or the socket while we reconciled: then nothing is placed.
    this.connection.assertUsable(session, "submitOrder");
    const entry = await this.traffic.place(session, {
      orderRef: clientOrderId,
      account,
      symbol: intent.symbol,
      contract: contractFor(intent.symbol, this.options),
      order: ibOrderFor(clientOrderId, intent, account),
    });
    return this.book.snapshot(entry);
  }

  /** The outcome for an order IB already has: the order, or its rejection again. */
  private existing(entry: BookEntry): BrokerOrder {
    if (entry.status === "rejected") {
      const reason = entry.rejection?.message ?? (entry.completedStatus || "rejected");
      throw new BrokerRejectedError(`IbkrBroker: order ${entry.orderRef} was rejected by IB: ${reason}`, {
        details: {
          clientOrderId: entry.orderRef,
          ...(entry.permId ? { id: String(entry.permId) } : {}),
          ...(entry.rejection ? { ibCode: entry.rejection.code, ibMessage: entry.rejection.message } : {}),
        },
      });
    }
    return this.book.snapshot(entry);
  }

  /**
   * Brings the book up to date with IB: the day's executions (of the intent's symbol and side
   * when given), all open orders, and completed orders. The three are sent together and answered
   * in that order, so a fill is known with its price before its order's final status arrives.
   */
  private async reconcile(session: Session, scope?: Pick<OrderIntent, "symbol" | "side">): Promise<void> {
    const filter: ExecutionFilter = { acctCode: this.account ?? "" };
    if (scope) {
      filter.symbol = contractFor(scope.symbol, this.options).symbol ?? ibSymbolOf(scope.symbol);
      filter.side = scope.side === "buy" ? "BUY" : "SELL";
    }
    await Promise.all([session.executions(filter), session.openOrders(), session.completedOrders()]);
  }

  /** A new session: check the account, then reconcile everything before it counts as connected. */
  private async synchronize(session: Session): Promise<void> {
    const accounts = session.accounts;
    const wanted = this.options.account;
    if (wanted !== undefined) {
      if (!accounts.includes(wanted)) {
        throw new IbkrConfigError(
          `IbkrBroker: account ${wanted} is not one of this login's managed accounts (${accounts.join(", ") || "none"})`,
          { field: "account" },
        );
      }
      this.account = wanted;
    } else if (accounts.length === 1) {
      this.account = accounts[0] as string;
    } else {
      throw new IbkrConfigError(
        `IbkrBroker: this login manages ${accounts.length} accounts (${accounts.join(", ")}); set the account option`,
        { field: "account" },
      );
    }
    this.book.prune(this.clock.now() - BOOK_RETENTION_MS);
    await this.reconcile(session);
  }

  private assertOwn(entry: BookEntry): void {
    if (entry.clientId === this.options.clientId && entry.orderId !== null) return;
    const who = entry.clientId === 0 ? "by hand in TWS" : `by API client ${entry.clientId ?? "unknown"}`;
    throw new BrokerRejectedError(
      `IbkrBroker: order ${entry.permId} was placed ${who}; IB lets only the placing client cancel it (cancelAll: "global" cancels every order)`,
      { details: { id: String(entry.permId), clientId: entry.clientId } },
    );
  }

  // ---- internals: calls and events ----------------------------------------------------------

  private async call<T>(what: string, fn: (session: Session, account: string) => Promise<T>): Promise<T> {
    const session = await this.connection.ready(what);
    return fn(session, this.account as string);
  }

  /** Validates a submit; a malformed one is rejected as a broker would (final), naming the field. */
  private parseRequest(request: OrderRequest): OrderRequest {
    const input = (request ?? {}) as Partial<OrderRequest>;
    const clientOrderId = rejectingBadInput("", () =>
      parseWith(clientOrderIdSchema, input.clientOrderId, "clientOrderId"),
    );
    return { clientOrderId, intent: rejectingBadInput("intent", () => parseOrderIntent(input.intent)) };
  }

  private onBookChange(entry: BookEntry): void {
    this.traffic.changed(entry);
    if (!entry.orderRef || this.events.listenerCount("update") === 0) return;
    // A placement IB refused outright was never an order: the caller hears of it from submitOrder.
    if (entry.rejection !== null && entry.permId === 0) return;
    this.events.emit("update", {
      event: updateEventOf(entry.status),
      order: this.book.snapshot(entry),
      at: this.clock.now(),
    });
  }

  /** Adds a listener that cannot break the broker (or the other listeners) by throwing. */
  private subscribe(event: "update", listener: (value: OrderUpdate) => void, what: string): () => void {
    const safe = (value: OrderUpdate) => {
      try {
        // Each listener gets its own copy of an update, so none can change what another sees.
        listener({ ...value, order: { ...value.order } });
      } catch (error) {
        this.report(error, what);
      }
    };
    this.events.on(event, safe);
    return () => void this.events.off(event, safe);
  }

  /** A farm notice: informational, logged (a broken one as a warning: quotes stop, orders do not). */
  private farmNotice(status: FarmStatus): void {
    try {
      const line = `IbkrBroker: ${status.kind} farm ${status.name} ${status.ok ? "OK" : "broken"} (TWS ${status.code}: ${status.message})`;
      if (status.ok) this.options.logger?.debug({ farm: status }, line);
      else this.options.logger?.warn({ farm: status }, line);
    } catch {
      // A logger that throws must not break the connection.
    }
  }

  private report(error: unknown, context: string): void {
    const e = toError(error);
    try {
      this.options.logger?.warn({ err: e, context }, `IbkrBroker: ${context}: ${e.message}`);
      this.options.onError?.(e, `IbkrBroker: ${context}`);
    } catch {
      // The error hooks themselves failed: nothing is left to tell, and the broker must go on.
    }
  }
}
