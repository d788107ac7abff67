/**
 * The broker contract. Adapters (PaperBroker here; Alpaca and IBKR in their packages) map their
 * API onto it and run the broker conformance suite from `@tradecron/core/testing` against a
 * faithful local fake of the real protocol.
 *
 * Rules every adapter keeps:
 * - `submitOrder` is idempotent on `clientOrderId`: a second submit with the same id returns the
 *   existing order and never places another (retries, crashes and takeovers cannot double).
 * - Errors are typed: {@link BrokerUnavailableError} (retryable), {@link BrokerRateLimitedError}
 *   (retry after `retryAfterMs`), {@link BrokerRejectedError} (final; not retried),
 *   {@link BrokerAuthError} (final: the credentials were refused).
 * - Amounts are decimal strings.
 */

import { TradecronError, type TradecronErrorOptions } from "../errors.js";
import type { OrderIntent } from "../orders/intent.js";

/** Broker-neutral order status. */
export type BrokerOrderStatus =
  | "pending_new"
  | "new"
  | "accepted"
  | "partially_filled"
  | "filled"
  | "pending_cancel"
  | "canceled"
  | "expired"
  | "rejected"
  | "replaced"
  | "done_for_day";

/** Statuses after which an order never changes. */
export const FINAL_ORDER_STATUSES: readonly BrokerOrderStatus[] = [
  "filled",
  "canceled",
  "expired",
  "rejected",
  "replaced",
];

/** An order as the broker reports it. */
export interface BrokerOrder {
  /** The broker's id. */
  id: string;
  clientOrderId: string;
  symbol: string;
  side: "buy" | "sell";
  type: OrderIntent["type"];
  timeInForce: OrderIntent["timeInForce"];
  qty: string | null;
  notional: string | null;
  limitPrice: string | null;
  stopPrice: string | null;
  trailPercent: string | null;
  trailPrice: string | null;
  extendedHours: boolean;
  status: BrokerOrderStatus;
  filledQty: string;
  filledAvgPrice: string | null;
  /** Epoch ms. */
  submittedAt: number;
  updatedAt: number;
  /** Child orders of a bracket (take profit, stop loss). */
  legs: BrokerOrder[];
}

/** What `submitOrder` takes: a validated intent plus its deterministic client order id. */
export interface OrderRequest {
  clientOrderId: string;
  intent: OrderIntent;
}

/** The trading account. */
export interface BrokerAccount {
  id: string;
  currency: string;
  cash: string;
  buyingPower: string;
  equity: string;
  status: string;
}

/** An open position. */
export interface BrokerPosition {
  symbol: string;
  /** Signed quantity (negative for shorts). */
  qty: string;
  side: "long" | "short";
  avgEntryPrice: string;
  marketValue: string | null;
}

/** The market clock some brokers provide. */
export interface BrokerClock {
  timestamp: number;
  isOpen: boolean;
  nextOpen: number;
  nextClose: number;
}

/** A lookup by broker id or by client order id. */
export type OrderRef = { id: string } | { clientOrderId: string };

/** What a cancel-all achieved: how many open orders were cancelled, and which could not be. */
export interface CancelAllResult {
  cancelled: number;
  failed: { id: string; error: string }[];
}

/** An order status change pushed by the broker (fills, cancels). */
export interface OrderUpdate {
  event: string;
  order: BrokerOrder;
  at: number;
}

/** The health of one channel to the broker. */
export interface BrokerChannelHealth {
  /** True while the channel works. */
  ok: boolean;
  /** The adapter's own name for the channel's state (`listening`, `reconnecting`, `polling`, ...). */
  state?: string;
}

/**
 * What an adapter can tell about a connection change besides `connected`. Every field is
 * optional: say what the broker says, nothing more.
 *
 * - **Alpaca**: `rest` is the REST API's health, `stream` the trade_updates stream (ok while it
 *   listens or polling stands in); the session stays connected through both kinds of trouble.
 * - **IBKR** (TWS / IB Gateway notices): `rest` is the API socket to TWS, `stream` TWS's link to
 *   IB's servers. 1100 "connectivity between IB and TWS has been lost": `connected` false,
 *   `code` 1100. 1101 "connectivity restored, data lost": `connected` true, `dataLost` true.
 *   1102 "connectivity restored, data maintained": `connected` true, `dataLost` false.
 */
export interface BrokerConnectionDetail {
  /** Why, for people: `TWS 1100: connectivity between IB and TWS has been lost`. */
  reason?: string;
  /** The broker's own code for the change, if it has one (TWS 1100, 1101, 1102). */
  code?: string | number;
  /** The request channel (REST, the API socket). */
  rest?: BrokerChannelHealth;
  /** The channel that pushes order updates. */
  stream?: BrokerChannelHealth;
  /**
   * True when updates may have been missed (TWS 1101, a stream gap with nothing replayed): the
   * scheduler then re-reads its open orders from the broker (OrderDesk.reconcile) at the next
   * maintenance, even if the connection never dropped.
   */
  dataLost?: boolean;
}

/** A connection listener: `connected` is whether orders can be placed; `detail` says more when the adapter knows. */
export type BrokerConnectionListener = (connected: boolean, detail?: BrokerConnectionDetail) => void;

/** The broker contract. */
export interface Broker {
  /** Short name for logs and records (`paper`, `alpaca`, `ibkr`). */
  readonly name: string;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  isConnected(): boolean;
  getAccount(): Promise<BrokerAccount>;
  getPositions(): Promise<BrokerPosition[]>;
  getOpenOrders(): Promise<BrokerOrder[]>;
  /** Places an order, or returns the existing one with the same client order id. */
  submitOrder(request: OrderRequest): Promise<BrokerOrder>;
  /** The order, or null if the broker does not know it. */
  getOrder(ref: OrderRef): Promise<BrokerOrder | null>;
  /** Requests cancellation; returns the order as it stands after the request. NotFound -> null. */
  cancelOrder(id: string): Promise<BrokerOrder | null>;
  /**
   * Optional: cancels every open order in one go (the broker's own cancel-all when it has one:
   * Alpaca's `DELETE /v2/orders`, IB's global cancel). Pause-all's "cancel open orders" uses it when
   * present and falls back to `getOpenOrders` + `cancelOrder` otherwise.
   */
  cancelAllOrders?(): Promise<CancelAllResult>;
  /** Optional: the broker's market clock. */
  getClock?(): Promise<BrokerClock>;
  /** Optional: subscribe to order updates; returns an unsubscribe function. */
  onOrderUpdate?(listener: (update: OrderUpdate) => void): () => void;
  /**
   * Optional: subscribe to connection changes (`true` connected), with what the adapter knows
   * about the change ({@link BrokerConnectionDetail}); returns an unsubscribe function.
   */
  onConnectionChange?(listener: BrokerConnectionListener): () => void;
}

/** The broker cannot be reached or failed transiently. Retryable. */
export class BrokerUnavailableError extends TradecronError {
  readonly retryable = true;
  constructor(message: string, options: TradecronErrorOptions = {}) {
    super("BROKER_UNAVAILABLE", message, options);
  }
}

/** The broker throttled us; wait `retryAfterMs` before trying again. Retryable. */
export class BrokerRateLimitedError extends TradecronError {
  readonly retryable = true;
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options: TradecronErrorOptions = {}) {
    super("BROKER_RATE_LIMITED", message, { ...options, details: { ...options.details, retryAfterMs } });
    this.retryAfterMs = retryAfterMs;
  }
}

/** The broker refused the order (insufficient funds, bad symbol, market closed...). Final. */
export class BrokerRejectedError extends TradecronError {
  readonly retryable = false;
  constructor(message: string, options: TradecronErrorOptions = {}) {
    super("BROKER_REJECTED", message, options);
  }
}

/**
 * The broker refused the credentials (a wrong or revoked key, a paper key on the live endpoint, a
 * key without the permission asked for). Final: no retry fixes a wrong key, so the scheduler's
 * retry policy never retries it. Adapters put the broker's status and message in `details`, never
 * the credentials themselves.
 */
export class BrokerAuthError extends TradecronError {
  readonly retryable = false;
  constructor(message: string, options: TradecronErrorOptions = {}) {
    super("BROKER_AUTH", message, options);
  }
}
