/**
 * The broker conformance suite: the executable contract of {@link Broker}. Every broker adapter
 * runs it against a faithful local fake of its real protocol:
 *
 * ```ts
 * import { describe, it } from "vitest";
 * import { brokerConformance } from "@tradecron/core/testing";
 * brokerConformance({ describe, it }, async () => {
 *   const fake = await startFakeServer();
 *   return {
 *     broker: new MyBroker({ baseUrl: fake.url }),
 *     cleanup: () => fake.close(),
 *     setPrice: (symbol, price) => fake.setPrice(symbol, price),
 *     injectFault: (fault, count) => fake.failNext(fault, count),
 *   };
 * });
 * ```
 *
 * The factory returns a fresh account: no positions, no open orders, at least 100,000 in cash.
 * The suite connects the broker itself. Hooks an adapter cannot provide turn off the tests that
 * need them (each such test says why and returns early); everything else is required.
 *
 * Assertions use node:assert, so the suite works with any test runner that has describe/it.
 */

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import {
  type Broker,
  type BrokerConnectionDetail,
  type BrokerOrder,
  BrokerRateLimitedError,
  BrokerRejectedError,
  BrokerUnavailableError,
  FINAL_ORDER_STATUSES,
  type OrderRequest,
  type OrderUpdate,
} from "../broker/broker.js";
import type { TradecronError } from "../errors.js";
import { Decimal } from "../orders/decimal.js";
import { clientOrderId, type OrderIntentInput, parseOrderIntent } from "../orders/intent.js";
import type { SuiteTestApi } from "./storage-suite.js";

/** A failure the adapter's fake can be told to produce. */
export type BrokerFault =
  /** The next calls fail as if the broker were unreachable (connection refused, 503). */
  | "unavailable"
  /** The next submits place their order, then fail as if the response had been lost (a timeout). */
  | "accept_then_timeout"
  /** The next calls are throttled (429 with a retry-after). */
  | "rate_limited";

/** A fresh broker on a fresh account, and the test hooks its fake supports. */
export interface BrokerHandle {
  broker: Broker;
  /** Called after the test (stop the fake server, ...). The suite has already disconnected the broker. */
  cleanup?: () => Promise<void> | void;
  /**
   * Sets the market price of `symbol`: market orders then execute at it. Enables the tests of fills,
   * positions and cash.
   */
  setPrice?: (symbol: string, price: string) => Promise<void> | void;
  /**
   * Makes the next `count` calls to the broker fail with `fault`. The suite expects the very next
   * adapter call to fail: an adapter that retries internally should make the fake fail enough
   * requests to exhaust its own retries. Enables the tests of typed errors and of idempotency
   * under lost responses.
   */
  injectFault?: (fault: BrokerFault, count: number) => Promise<void> | void;
}

/** Options of {@link brokerConformance}. */
export interface BrokerSuiteOptions {
  /** Per-test timeout in ms (default 20,000). */
  timeout?: number;
  /** A tradable symbol (default `AAPL`). */
  symbol?: string;
  /** The price the suite sets through `setPrice` (default `100`). */
  price?: string;
  /** A symbol the broker does not know (default `ZZZZQ`). */
  unknownSymbol?: string;
  /** A buy limit price far enough below the market that the order stays open (default `1`). */
  restingLimitPrice?: string;
  /** Number of concurrent submits of one client order id (default 20). */
  racers?: number;
  /** How long to wait for a pushed order update, in ms (default 5,000). */
  updateTimeoutMs?: number;
}

type Factory = () => Promise<BrokerHandle>;

async function withBroker(factory: Factory, fn: (h: BrokerHandle) => Promise<void>): Promise<void> {
  const handle = await factory();
  try {
    await handle.broker.connect();
    await fn(handle);
  } finally {
    try {
      await handle.broker.disconnect();
    } finally {
      await handle.cleanup?.();
    }
  }
}

function assertError(
  error: unknown,
  ctor: abstract new (...a: never[]) => Error,
  code: string,
  retryable: boolean,
): asserts error is TradecronError {
  assert.ok(error instanceof ctor, `expected ${ctor.name}, got ${String(error)}`);
  assert.equal((error as TradecronError).code, code);
  assert.equal((error as { retryable?: unknown }).retryable, retryable, `${ctor.name}.retryable`);
}

async function rejectsWith(
  promise: Promise<unknown>,
  ctor: abstract new (...a: never[]) => Error,
  code: string,
  retryable: boolean,
): Promise<TradecronError> {
  let caught: unknown = null;
  await assert.rejects(promise, (error: unknown) => {
    assertError(error, ctor, code, retryable);
    caught = error;
    return true;
  });
  return caught as unknown as TradecronError;
}

const DECIMAL = /^-?\d+(\.\d+)?$/;

function assertDecimal(value: unknown, what: string): asserts value is string {
  assert.equal(typeof value, "string", `${what} must be a decimal string`);
  assert.match(value as string, DECIMAL, `${what} must be a decimal string`);
}

function assertOrderShape(order: BrokerOrder, request: OrderRequest): void {
  assert.equal(typeof order.id, "string");
  assert.ok(order.id.length > 0, "order.id");
  assert.equal(order.clientOrderId, request.clientOrderId);
  assert.equal(order.symbol, request.intent.symbol);
  assert.equal(order.side, request.intent.side);
  assert.equal(order.type, request.intent.type);
  assertDecimal(order.filledQty, "order.filledQty");
  assert.ok(Number.isFinite(order.submittedAt), "order.submittedAt");
  assert.ok(Number.isFinite(order.updatedAt), "order.updatedAt");
  assert.ok(Array.isArray(order.legs), "order.legs");
}

/** Waits for the first update matching `match`; subscribe before acting. */
function nextUpdate(
  broker: Broker,
  match: (u: OrderUpdate) => boolean,
  timeoutMs: number,
): { promise: Promise<OrderUpdate>; cancel: () => void } {
  let off: () => void = () => {};
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<OrderUpdate>((resolve, reject) => {
    timer = setTimeout(() => {
      off();
      reject(new Error(`no matching order update within ${timeoutMs} ms`));
    }, timeoutMs);
    off =
      broker.onOrderUpdate?.((u) => {
        if (!match(u)) return;
        clearTimeout(timer);
        off();
        resolve(u);
      }) ?? (() => {});
  });
  return {
    promise,
    cancel: () => {
      clearTimeout(timer);
      off();
    },
  };
}

/** Registers the broker conformance tests with the caller's `describe`/`it`. */
export function brokerConformance(
  api: SuiteTestApi,
  factory: Factory,
  options: BrokerSuiteOptions = {},
): void {
  const { describe, it } = api;
  const timeout = options.timeout ?? 20_000;
  const symbol = options.symbol ?? "AAPL";
  const price = options.price ?? "100";
  const unknownSymbol = options.unknownSymbol ?? "ZZZZQ";
  const restingLimitPrice = options.restingLimitPrice ?? "1";
  const racers = options.racers ?? 20;
  const updateTimeoutMs = options.updateTimeoutMs ?? 5_000;
  const test = (name: string, fn: (h: BrokerHandle) => Promise<void>) =>
    it(name, () => withBroker(factory, fn), timeout);

  // Client order ids as the scheduler derives them, unique per test run.
  const run = randomUUID();
  let sequence = 0;
  const request = (intent: OrderIntentInput): OrderRequest => ({
    clientOrderId: clientOrderId(`conformance:${run}`, sequence++),
    intent: parseOrderIntent(intent),
  });
  const restingBuy = () =>
    request({
      symbol,
      side: "buy",
      qty: "1",
      type: "limit",
      limitPrice: restingLimitPrice,
      timeInForce: "gtc",
    });
  const marketBuy = (qty = "2") => request({ symbol, side: "buy", qty, type: "market", timeInForce: "day" });
  const openWith = async (broker: Broker, id: string) =>
    (await broker.getOpenOrders()).filter((o) => o.clientOrderId === id);

  describe("broker conformance: connection", () => {
    test("connects, reports it, disconnects and reconnects", async ({ broker }) => {
      assert.equal(broker.isConnected(), true);
      await broker.connect();
      assert.equal(broker.isConnected(), true, "a second connect keeps the connection");
      await broker.disconnect();
      assert.equal(broker.isConnected(), false);
      await broker.connect();
      assert.equal(broker.isConnected(), true);
      await broker.getAccount();
    });

    test("fails calls with BrokerUnavailableError while disconnected, and works again after connect", async ({
      broker,
    }) => {
      await broker.disconnect();
      await rejectsWith(broker.getAccount(), BrokerUnavailableError, "BROKER_UNAVAILABLE", true);
      await rejectsWith(broker.submitOrder(restingBuy()), BrokerUnavailableError, "BROKER_UNAVAILABLE", true);
      await broker.connect();
      await broker.getAccount();
    });

    test("tells connection listeners about changes", async ({ broker }) => {
      if (!broker.onConnectionChange) return; // optional capability: the adapter does not report connection changes
      const seen: boolean[] = [];
      const details: unknown[] = [];
      const off = broker.onConnectionChange((c, detail) => {
        seen.push(c);
        details.push(detail);
      });
      await broker.disconnect();
      await broker.connect();
      off();
      await broker.disconnect();
      assert.deepEqual(seen, [false, true]);
      // The detail is optional; when given, its documented fields have their documented types.
      for (const d of details) {
        if (d === undefined) continue;
        assert.equal(typeof d, "object", "detail must be an object");
        const detail = d as BrokerConnectionDetail;
        if (detail.reason !== undefined) assert.equal(typeof detail.reason, "string", "detail.reason");
        if (detail.dataLost !== undefined) assert.equal(typeof detail.dataLost, "boolean", "detail.dataLost");
        for (const key of ["rest", "stream"] as const) {
          if (detail[key] !== undefined) assert.equal(typeof detail[key]?.ok, "boolean", `detail.${key}.ok`);
        }
      }
    });
  });

  describe("broker conformance: account and positions", () => {
    test("reports the account with decimal amounts", async ({ broker }) => {
      const account = await broker.getAccount();
      assert.equal(typeof account.id, "string");
      assert.ok(account.id.length > 0, "account.id");
      assert.match(account.currency, /^[A-Z]{3}$/);
      assertDecimal(account.cash, "account.cash");
      assertDecimal(account.buyingPower, "account.buyingPower");
      assertDecimal(account.equity, "account.equity");
      assert.equal(typeof account.status, "string");
    });

    test("reports positions with signed decimal quantities", async ({ broker, setPrice }) => {
      const before = await broker.getPositions();
      assert.ok(Array.isArray(before));
      if (!setPrice) {
        // Without prices the suite cannot make a position; it checks the shape of what is there.
        for (const p of before) assertPositionShape(p);
        return;
      }
      await setPrice(symbol, price);
      const order = await filled(broker, marketBuy("2"));
      const after = await broker.getPositions();
      for (const p of after) assertPositionShape(p);
      const held = (list: typeof after) => new Decimal(list.find((p) => p.symbol === symbol)?.qty ?? 0);
      assert.equal(held(after).minus(held(before)).toString(), new Decimal(order.filledQty).toString());
      assert.equal(after.find((p) => p.symbol === symbol)?.side, "long");
    });
  });

  /** Submits `req`, then waits for its fill (returned, pushed, or visible through getOrder). */
  async function filled(broker: Broker, req: OrderRequest): Promise<BrokerOrder> {
    const waiter = broker.onOrderUpdate
      ? nextUpdate(
          broker,
          (u) => u.order.clientOrderId === req.clientOrderId && u.order.status === "filled",
          updateTimeoutMs,
        )
      : null;
    waiter?.promise.catch(() => {}); // awaited below when needed; a timeout after cancel() cannot happen
    try {
      const submitted = await broker.submitOrder(req);
      assertOrderShape(submitted, req);
      if (submitted.status === "filled") return submitted;
      if (waiter) await waiter.promise;
      const order = await broker.getOrder({ id: submitted.id });
      assert.equal(order?.status, "filled", "a market order at a set price fills");
      return order as BrokerOrder;
    } finally {
      waiter?.cancel();
    }
  }

  describe("broker conformance: orders", () => {
    test("fills a market order at the set price, moving cash by exactly qty x price", async ({
      broker,
      setPrice,
    }) => {
      if (!setPrice) {
        // The adapter cannot set prices: the order must at least be accepted and findable.
        const req = marketBuy();
        const order = await broker.submitOrder(req);
        assertOrderShape(order, req);
        assert.ok(!["rejected", "canceled", "expired"].includes(order.status), `status ${order.status}`);
        assert.equal((await broker.getOrder({ clientOrderId: req.clientOrderId }))?.id, order.id);
        return;
      }
      await setPrice(symbol, price);
      const cashBefore = new Decimal((await broker.getAccount()).cash);
      const order = await filled(broker, marketBuy("2"));
      assert.equal(new Decimal(order.filledQty).toString(), "2");
      assert.ok(order.filledAvgPrice !== null, "filledAvgPrice");
      assert.ok(
        new Decimal(order.filledAvgPrice).eq(price),
        `filled at ${order.filledAvgPrice}, price ${price}`,
      );
      const cashAfter = new Decimal((await broker.getAccount()).cash);
      assert.equal(cashBefore.minus(cashAfter).toString(), new Decimal(price).times(2).toString());
    });

    test("returns the existing order for a duplicate client order id", async ({ broker }) => {
      const req = restingBuy();
      const first = await broker.submitOrder(req);
      assertOrderShape(first, req);
      const again = await broker.submitOrder(req);
      assert.equal(again.id, first.id);
      assert.equal((await openWith(broker, req.clientOrderId)).length, 1);
    });

    test("returns the order placed before a lost response when the submit is retried", async ({
      broker,
      injectFault,
    }) => {
      if (!injectFault) return; // the adapter's fake cannot lose a response after accepting an order
      const req = restingBuy();
      await injectFault("accept_then_timeout", 1);
      await rejectsWith(broker.submitOrder(req), BrokerUnavailableError, "BROKER_UNAVAILABLE", true);
      const retried = await broker.submitOrder(req);
      assertOrderShape(retried, req);
      const open = await openWith(broker, req.clientOrderId);
      assert.equal(open.length, 1, "exactly one order exists for the client order id");
      assert.equal(open[0]?.id, retried.id);
      assert.equal((await broker.getOrder({ clientOrderId: req.clientOrderId }))?.id, retried.id);
    });

    test("places nothing when an outage fails the submit, and the retry places exactly one order", async ({
      broker,
      injectFault,
    }) => {
      if (!injectFault) return; // the adapter's fake cannot simulate an outage
      const req = restingBuy();
      await injectFault("unavailable", 1);
      await rejectsWith(broker.submitOrder(req), BrokerUnavailableError, "BROKER_UNAVAILABLE", true);
      const placed = await broker.submitOrder(req);
      assertOrderShape(placed, req);
      assert.equal((await openWith(broker, req.clientOrderId)).length, 1);
    });

    test("resolves concurrent submits of one client order id to one order", async ({ broker }) => {
      const req = restingBuy();
      const results = await Promise.allSettled(Array.from({ length: racers }, () => broker.submitOrder(req)));
      const ids = results.map((r) => {
        assert.equal(r.status, "fulfilled", r.status === "rejected" ? String(r.reason) : "");
        return (r as PromiseFulfilledResult<BrokerOrder>).value.id;
      });
      assert.equal(new Set(ids).size, 1, `all ${racers} callers get the same order`);
      const open = await openWith(broker, req.clientOrderId);
      assert.equal(open.length, 1, "exactly one order exists for the client order id");
      assert.equal(open[0]?.id, ids[0]);
    });

    test("finds an order by id and by client order id, and returns null for unknown ones", async ({
      broker,
    }) => {
      const req = restingBuy();
      const order = await broker.submitOrder(req);
      const byId = await broker.getOrder({ id: order.id });
      const byClientId = await broker.getOrder({ clientOrderId: req.clientOrderId });
      assert.ok(byId && byClientId);
      assertOrderShape(byId, req);
      assert.equal(byId.id, order.id);
      assert.equal(byClientId.id, order.id);
      assert.equal(await broker.getOrder({ clientOrderId: `${req.clientOrderId}-unknown` }), null);
      assert.equal(await broker.getOrder({ id: randomUUID() }), null);
    });

    test("does not let a caller change an order through a returned object", async ({ broker }) => {
      const req = restingBuy();
      const order = await broker.submitOrder(req);
      try {
        (order as { status: string }).status = "filled";
      } catch {
        // frozen objects throw in strict mode; either way the broker must be unaffected
      }
      assert.notEqual((await broker.getOrder({ id: order.id }))?.status, "filled");
    });

    test("lists a resting limit order as open, and cancels it", async ({ broker }) => {
      const req = restingBuy();
      const order = await broker.submitOrder(req);
      assert.ok(
        !FINAL_ORDER_STATUSES.includes(order.status),
        `a limit far below the market rests (${order.status})`,
      );
      const open = await openWith(broker, req.clientOrderId);
      assert.equal(open.length, 1);
      assertOrderShape(open[0] as BrokerOrder, req);
      const cancelled = await broker.cancelOrder(order.id);
      assert.ok(cancelled, "cancelOrder returns the order");
      assert.equal(cancelled.id, order.id);
      assert.ok(["canceled", "pending_cancel"].includes(cancelled.status), `status ${cancelled.status}`);
      assert.equal((await broker.getOrder({ id: order.id }))?.status, "canceled");
      assert.equal((await openWith(broker, req.clientOrderId)).length, 0);
    });

    test("returns null when cancelling an unknown order", async ({ broker }) => {
      assert.equal(await broker.cancelOrder(randomUUID()), null);
    });

    test("cancels every open order with cancelAllOrders (when the adapter offers it)", async ({ broker }) => {
      if (!broker.cancelAllOrders) return; // optional capability: pause-all falls back to one cancel per order
      const first = await broker.submitOrder(restingBuy());
      const second = await broker.submitOrder(restingBuy());
      const result = await broker.cancelAllOrders();
      assert.equal(result.failed.length, 0, `no failures (${JSON.stringify(result.failed)})`);
      assert.ok(result.cancelled >= 2, `both resting orders counted (${result.cancelled})`);
      for (const placed of [first, second]) {
        const after = await broker.getOrder({ id: placed.id });
        assert.ok(after && ["canceled", "pending_cancel"].includes(after.status), `status ${after?.status}`);
      }
      const stillOpen = (await broker.getOpenOrders()).filter((o) => o.status !== "pending_cancel");
      assert.equal(stillOpen.length, 0, "nothing left open");
    });
  });

  describe("broker conformance: typed errors", () => {
    test("rejects an order beyond buying power with a final BrokerRejectedError", async ({ broker }) => {
      const req = request({
        symbol,
        side: "buy",
        qty: "1000000000",
        type: "limit",
        limitPrice: price,
        timeInForce: "gtc",
      });
      await rejectsWith(broker.submitOrder(req), BrokerRejectedError, "BROKER_REJECTED", false);
      assert.equal((await openWith(broker, req.clientOrderId)).length, 0);
    });

    test("rejects an unknown symbol with a final BrokerRejectedError", async ({ broker }) => {
      const req = request({ symbol: unknownSymbol, side: "buy", qty: "1", type: "market" });
      await rejectsWith(broker.submitOrder(req), BrokerRejectedError, "BROKER_REJECTED", false);
    });

    test("reports an outage as a retryable BrokerUnavailableError, then recovers", async ({
      broker,
      injectFault,
    }) => {
      if (!injectFault) return; // the adapter's fake cannot simulate an outage
      await injectFault("unavailable", 1);
      await rejectsWith(broker.getAccount(), BrokerUnavailableError, "BROKER_UNAVAILABLE", true);
      await broker.getAccount();
    });

    test("reports throttling as BrokerRateLimitedError with retryAfterMs, then recovers", async ({
      broker,
      injectFault,
    }) => {
      if (!injectFault) return; // the adapter's fake cannot throttle
      await injectFault("rate_limited", 1);
      const error = await rejectsWith(
        broker.getAccount(),
        BrokerRateLimitedError,
        "BROKER_RATE_LIMITED",
        true,
      );
      const retryAfterMs = (error as BrokerRateLimitedError).retryAfterMs;
      assert.ok(Number.isFinite(retryAfterMs) && retryAfterMs > 0, `retryAfterMs ${retryAfterMs}`);
      await broker.getAccount();
    });
  });

  describe("broker conformance: order updates", () => {
    test("pushes a fill update for an executed market order", async ({ broker, setPrice }) => {
      if (!broker.onOrderUpdate) return; // optional capability: the adapter does not push order updates
      if (!setPrice) return; // without prices the suite cannot make an order execute
      await setPrice(symbol, price);
      const req = marketBuy("1");
      const fill = nextUpdate(
        broker,
        (u) => u.order.clientOrderId === req.clientOrderId && u.order.status === "filled",
        updateTimeoutMs,
      );
      await broker.submitOrder(req);
      const update = await fill.promise;
      assert.equal(typeof update.event, "string");
      assert.ok(Number.isFinite(update.at), "update.at");
      assert.equal(new Decimal(update.order.filledQty).toString(), "1");
    });

    test("pushes a cancel update, and stops after unsubscribe", async ({ broker }) => {
      if (!broker.onOrderUpdate) return; // optional capability: the adapter does not push order updates
      const req = restingBuy();
      const cancel = nextUpdate(
        broker,
        (u) => u.order.clientOrderId === req.clientOrderId && u.order.status === "canceled",
        updateTimeoutMs,
      );
      const order = await broker.submitOrder(req);
      await broker.cancelOrder(order.id);
      const update = await cancel.promise;
      assert.equal(update.order.id, order.id);
      assert.equal(typeof update.event, "string");

      const unsubscribed: OrderUpdate[] = [];
      const off = broker.onOrderUpdate((u) => unsubscribed.push(u));
      off();
      const other = restingBuy();
      // A listener that stays subscribed tells when the updates of `other` have been delivered.
      const delivered = nextUpdate(
        broker,
        (u) => u.order.clientOrderId === other.clientOrderId && u.order.status === "canceled",
        updateTimeoutMs,
      );
      const placed = await broker.submitOrder(other);
      await broker.cancelOrder(placed.id);
      await delivered.promise;
      assert.deepEqual(unsubscribed, [], "an unsubscribed listener hears nothing");
    });
  });
}

function assertPositionShape(p: {
  symbol: string;
  qty: string;
  side: string;
  avgEntryPrice: string;
  marketValue: string | null;
}): void {
  assert.equal(typeof p.symbol, "string");
  assertDecimal(p.qty, "position.qty");
  assert.ok(!new Decimal(p.qty).isZero(), "a position is never flat");
  assert.equal(p.side, new Decimal(p.qty).isNegative() ? "short" : "long");
  assertDecimal(p.avgEntryPrice, "position.avgEntryPrice");
  if (p.marketValue !== null) assertDecimal(p.marketValue, "position.marketValue");
}
