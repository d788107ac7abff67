import pRetry from "p-retry";
import { describe, expect, it } from "vitest";
import { TradecronError, ValidationError } from "../errors.js";
import { Decimal } from "../orders/decimal.js";
import { clientOrderId, type OrderIntentInput, parseOrderIntent } from "../orders/intent.js";
import { brokerConformance } from "../testing/broker-suite.js";
import { driveClock } from "../testing/drive-clock.js";
import { seededRandom } from "../testing/seeded-random.js";
import { TestClock } from "../testing/test-clock.js";
import { sleep } from "../time/clock.js";
import {
  type BrokerOrder,
  BrokerRateLimitedError,
  BrokerRejectedError,
  BrokerUnavailableError,
  type OrderRequest,
  type OrderUpdate,
} from "./broker.js";
import { PaperBroker, type PaperBrokerOptions } from "./paper-broker.js";

brokerConformance({ describe, it }, async () => {
  const broker = new PaperBroker();
  return {
    broker,
    setPrice: (symbol, price) => broker.setPrice(symbol, price),
    injectFault: (fault, count) => {
      if (fault === "unavailable") broker.faults.failNext(count);
      else if (fault === "rate_limited") broker.faults.rateLimit(count, 1_500);
      else broker.faults.acceptThenTimeOut(count);
    },
  };
});

let seq = 0;
function req(intent: OrderIntentInput, id = clientOrderId("paper-test", seq++)): OrderRequest {
  return { clientOrderId: id, intent: parseOrderIntent(intent) };
}

async function connected(options: PaperBrokerOptions = {}): Promise<PaperBroker> {
  const broker = new PaperBroker({ clock: new TestClock(), ...options });
  await broker.connect();
  return broker;
}

function recordUpdates(broker: PaperBroker): OrderUpdate[] {
  const updates: OrderUpdate[] = [];
  broker.onOrderUpdate((u) => updates.push(u));
  return updates;
}

async function rejection(promise: Promise<unknown>): Promise<TradecronError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TradecronError) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

describe("PaperBroker options", () => {
  it("rejects invalid options with a ValidationError naming the field", () => {
    expect(() => new PaperBroker({ initialCash: "-1" })).toThrow(ValidationError);
    expect(() => new PaperBroker({ initialCash: "-1" })).toThrow(/initialCash/);
    expect(() => new PaperBroker({ currency: "usd" })).toThrow(/currency/);
    expect(() => new PaperBroker({ quote: 42 as never })).toThrow(/quote/);
    expect(() => new PaperBroker({ nope: true } as never)).toThrow(ValidationError);
  });

  it("starts with the initial cash and no positions", async () => {
    const broker = await connected({ initialCash: "2500.50", currency: "EUR" });
    expect(await broker.getAccount()).toEqual({
      id: "paper",
      currency: "EUR",
      cash: "2500.5",
      buyingPower: "2500.5",
      equity: "2500.5",
      status: "ACTIVE",
    });
    expect(await broker.getPositions()).toEqual([]);
  });
});

describe("PaperBroker market orders and the ledger", () => {
  it("buys 3 at 0.1 for exactly 0.3", async () => {
    const broker = await connected({ initialCash: "1" });
    broker.setPrice("PENNY", "0.1");
    const order = await broker.submitOrder(req({ symbol: "PENNY", side: "buy", qty: "3" }));
    expect(order).toMatchObject({ status: "filled", filledQty: "3", filledAvgPrice: "0.1" });
    expect((await broker.getAccount()).cash).toBe("0.7");
    expect(await broker.getPositions()).toEqual([
      { symbol: "PENNY", qty: "3", side: "long", avgEntryPrice: "0.1", marketValue: "0.3" },
    ]);
  });

  it("blends the average entry price, keeps it on a partial sale and removes a closed position", async () => {
    const broker = await connected({ initialCash: "10000" });
    broker.setPrice("AAPL", "100");
    await broker.submitOrder(req({ symbol: "AAPL", side: "buy", qty: "10" }));
    broker.setPrice("AAPL", "110");
    await broker.submitOrder(req({ symbol: "AAPL", side: "buy", qty: "10" }));
    expect((await broker.getPositions())[0]).toMatchObject({
      qty: "20",
      avgEntryPrice: "105",
      marketValue: "2200",
    });
    broker.setPrice("AAPL", "120");
    await broker.submitOrder(req({ symbol: "AAPL", side: "sell", qty: "5" }));
    expect((await broker.getPositions())[0]).toMatchObject({ qty: "15", avgEntryPrice: "105" });
    await broker.submitOrder(req({ symbol: "AAPL", side: "sell", qty: "15" }));
    expect(await broker.getPositions()).toEqual([]);
    // 10000 - 1000 - 1100 + 600 + 1800
    expect(await broker.getAccount()).toMatchObject({ cash: "10300", equity: "10300" });
  });

  it("values equity at the last price", async () => {
    const broker = await connected({ initialCash: "1000" });
    broker.setPrice("MSFT", "10");
    await broker.submitOrder(req({ symbol: "MSFT", side: "buy", qty: "4" }));
    broker.setPrice("MSFT", "12.5");
    expect(await broker.getAccount()).toMatchObject({ cash: "960", equity: "1010" });
  });

  it("turns a notional order into a fractional quantity rounded down to 9 decimals", async () => {
    const broker = await connected({ initialCash: "1000" });
    broker.setPrice("BRK.B", "3");
    const order = await broker.submitOrder(req({ symbol: "BRK.B", side: "buy", notional: "100" }));
    expect(order).toMatchObject({ status: "filled", filledQty: "33.333333333", qty: null, notional: "100" });
    expect((await broker.getAccount()).cash).toBe("900.000000001");
  });

  it("rejects a market order for a symbol without a price, naming the field", async () => {
    const broker = await connected();
    const error = await rejection(broker.submitOrder(req({ symbol: "NOPE", side: "buy", qty: "1" })));
    expect(error).toBeInstanceOf(BrokerRejectedError);
    expect(error.field).toBe("intent.symbol");
    expect(error.message).toMatch(/no price is known for NOPE/);
  });

  it("rejects a purchase beyond buying power, and counts open buy orders against it", async () => {
    const broker = await connected({ initialCash: "1000" });
    broker.setPrice("AAPL", "100");
    const error = await rejection(broker.submitOrder(req({ symbol: "AAPL", side: "buy", qty: "11" })));
    expect(error).toBeInstanceOf(BrokerRejectedError);
    expect(error.message).toMatch(/insufficient buying power: needs 1100, has 1000/);
    await broker.submitOrder(req({ symbol: "AAPL", side: "buy", qty: "8", type: "limit", limitPrice: "90" }));
    expect((await broker.getAccount()).buyingPower).toBe("280");
    await expect(broker.submitOrder(req({ symbol: "AAPL", side: "buy", qty: "3" }))).rejects.toThrow(
      BrokerRejectedError,
    );
    expect((await broker.getAccount()).cash).toBe("1000");
  });

  it("rejects a malformed request as a final BrokerRejectedError naming the field", async () => {
    const broker = await connected();
    const bad = { clientOrderId: "x", intent: { symbol: "AAPL", side: "buy", qty: "-1" } } as never;
    const error = await rejection(broker.submitOrder(bad));
    expect(error).toBeInstanceOf(BrokerRejectedError);
    expect(error.field).toBe("intent.qty");
    const noId = { clientOrderId: "", intent: parseOrderIntent({ symbol: "AAPL", side: "buy", qty: 1 }) };
    expect((await rejection(broker.submitOrder(noId))).field).toBe("clientOrderId");
  });
});

describe("PaperBroker short selling", () => {
  it("refuses to sell more than the position (open sells included) unless shorting is on", async () => {
    const broker = await connected({ initialCash: "10000" });
    broker.setPrice("TSLA", "100");
    await broker.submitOrder(req({ symbol: "TSLA", side: "buy", qty: "5" }));
    await broker.submitOrder(
      req({ symbol: "TSLA", side: "sell", qty: "3", type: "limit", limitPrice: "200" }),
    );
    const error = await rejection(broker.submitOrder(req({ symbol: "TSLA", side: "sell", qty: "3" })));
    expect(error).toBeInstanceOf(BrokerRejectedError);
    expect(error.message).toMatch(/insufficient position: sells 3 TSLA, 2 available and shorting is off/);
    expect(error.field).toBe("intent.qty");
  });

  it("opens a short with allowShort: negative quantity, proceeds in cash, twice its value off buying power", async () => {
    const broker = await connected({ initialCash: "1000", allowShort: true });
    broker.setPrice("GME", "20");
    const order = await broker.submitOrder(req({ symbol: "GME", side: "sell", qty: "10" }));
    expect(order.status).toBe("filled");
    expect(await broker.getPositions()).toEqual([
      { symbol: "GME", qty: "-10", side: "short", avgEntryPrice: "20", marketValue: "-200" },
    ]);
    expect(await broker.getAccount()).toMatchObject({ cash: "1200", equity: "1000", buyingPower: "800" });
    broker.setPrice("GME", "15");
    await broker.submitOrder(req({ symbol: "GME", side: "buy", qty: "10" }));
    expect(await broker.getPositions()).toEqual([]);
    expect(await broker.getAccount()).toMatchObject({ cash: "1050", equity: "1050" });
  });

  it("rejects a short beyond buying power", async () => {
    const broker = await connected({ initialCash: "100", allowShort: true });
    broker.setPrice("GME", "20");
    await expect(broker.submitOrder(req({ symbol: "GME", side: "sell", qty: "6" }))).rejects.toThrow(
      /insufficient buying power to short/,
    );
  });
});

describe("PaperBroker resting orders", () => {
  it("fills a buy limit when the price reaches it, at the price", async () => {
    const broker = await connected({ initialCash: "10000" });
    broker.setPrice("AAPL", "100");
    const order = await broker.submitOrder(
      req({ symbol: "AAPL", side: "buy", qty: "10", type: "limit", limitPrice: "95" }),
    );
    expect(order.status).toBe("new");
    broker.setPrice("AAPL", "95.01");
    expect((await broker.getOrder({ id: order.id }))?.status).toBe("new");
    broker.setPrice("AAPL", "94.5");
    expect(await broker.getOrder({ id: order.id })).toMatchObject({
      status: "filled",
      filledAvgPrice: "94.5",
    });
    expect(await broker.getOpenOrders()).toEqual([]);
    expect((await broker.getAccount()).cash).toBe("9055");
  });

  it("fills a marketable limit at submission", async () => {
    const broker = await connected();
    broker.setPrice("AAPL", "100");
    const order = await broker.submitOrder(
      req({ symbol: "AAPL", side: "buy", qty: "1", type: "limit", limitPrice: "101" }),
    );
    expect(order).toMatchObject({ status: "filled", filledAvgPrice: "100" });
  });

  it("fills a sell stop when the price falls to it, and a buy stop when it rises to it", async () => {
    const broker = await connected({ initialCash: "10000" });
    broker.setPrice("AAPL", "100");
    await broker.submitOrder(req({ symbol: "AAPL", side: "buy", qty: "10" }));
    const sellStop = await broker.submitOrder(
      req({ symbol: "AAPL", side: "sell", qty: "10", type: "stop", stopPrice: "90" }),
    );
    const buyStop = await broker.submitOrder(
      req({ symbol: "AAPL", side: "buy", qty: "1", type: "stop", stopPrice: "110" }),
    );
    broker.setPrice("AAPL", "91");
    expect((await broker.getOpenOrders()).map((o) => o.id).sort()).toEqual([sellStop.id, buyStop.id].sort());
    broker.setPrice("AAPL", "89");
    expect(await broker.getOrder({ id: sellStop.id })).toMatchObject({
      status: "filled",
      filledAvgPrice: "89",
    });
    broker.setPrice("AAPL", "111");
    expect(await broker.getOrder({ id: buyStop.id })).toMatchObject({
      status: "filled",
      filledAvgPrice: "111",
    });
  });

  it("triggers a stop_limit at its stop, then rests as a limit until the limit is reached", async () => {
    const broker = await connected({ initialCash: "10000" });
    broker.setPrice("AAPL", "100");
    const order = await broker.submitOrder(
      req({ symbol: "AAPL", side: "buy", qty: "1", type: "stop_limit", stopPrice: "105", limitPrice: "104" }),
    );
    broker.setPrice("AAPL", "104"); // under the stop: not triggered, although within the limit
    expect((await broker.getOrder({ id: order.id }))?.status).toBe("new");
    broker.setPrice("AAPL", "106"); // triggered, above the limit
    expect((await broker.getOrder({ id: order.id }))?.status).toBe("new");
    broker.setPrice("AAPL", "103.5");
    expect(await broker.getOrder({ id: order.id })).toMatchObject({
      status: "filled",
      filledAvgPrice: "103.5",
    });
  });

  it("trails a percent sell stop behind the highest price and fills when the price falls through it", async () => {
    const broker = await connected({ initialCash: "10000" });
    broker.setPrice("NVDA", "100");
    await broker.submitOrder(req({ symbol: "NVDA", side: "buy", qty: "2" }));
    const order = await broker.submitOrder(
      req({ symbol: "NVDA", side: "sell", qty: "2", type: "trailing_stop", trailPercent: "10" }),
    );
    expect(order.stopPrice).toBe("90");
    broker.setPrice("NVDA", "120");
    expect((await broker.getOrder({ id: order.id }))?.stopPrice).toBe("108");
    broker.setPrice("NVDA", "110");
    expect(await broker.getOrder({ id: order.id })).toMatchObject({ status: "new", stopPrice: "108" });
    broker.setPrice("NVDA", "107.99");
    expect(await broker.getOrder({ id: order.id })).toMatchObject({
      status: "filled",
      filledAvgPrice: "107.99",
    });
  });

  it("trails a buy stop by a price amount above the lowest price", async () => {
    const broker = await connected({ initialCash: "10000" });
    broker.setPrice("AMD", "50");
    const order = await broker.submitOrder(
      req({ symbol: "AMD", side: "buy", qty: "1", type: "trailing_stop", trailPrice: "2.5" }),
    );
    broker.setPrice("AMD", "40");
    expect((await broker.getOrder({ id: order.id }))?.stopPrice).toBe("42.5");
    broker.setPrice("AMD", "42.49");
    expect((await broker.getOrder({ id: order.id }))?.status).toBe("new");
    broker.setPrice("AMD", "42.5");
    expect(await broker.getOrder({ id: order.id })).toMatchObject({
      status: "filled",
      filledAvgPrice: "42.5",
    });
  });

  it("rejects a trailing stop when no price is known", async () => {
    const broker = await connected();
    await expect(
      broker.submitOrder(req({ symbol: "X", side: "buy", qty: "1", type: "trailing_stop", trailPrice: "1" })),
    ).rejects.toThrow(BrokerRejectedError);
  });

  it("cancels an ioc limit that cannot fill at once", async () => {
    const broker = await connected();
    broker.setPrice("AAPL", "100");
    const updates = recordUpdates(broker);
    const order = await broker.submitOrder(
      req({ symbol: "AAPL", side: "buy", qty: "1", type: "limit", limitPrice: "90", timeInForce: "ioc" }),
    );
    expect(order.status).toBe("canceled");
    expect(updates.map((u) => u.event)).toEqual(["new", "canceled"]);
  });

  it("expires day orders at the session close, and only when a session is given", async () => {
    const clock = new TestClock("2026-01-05T15:00:00Z");
    const close = Date.parse("2026-01-05T21:00:00Z");
    const session = {
      isOpen: (t: number) => t < close,
      nextOpen: () => new Date("2026-01-06T14:30:00Z"),
      nextClose: () => new Date(close),
    };
    const broker = new PaperBroker({ clock, session, initialCash: "1000" });
    await broker.connect();
    const limit = { symbol: "AAPL", side: "buy", qty: "1", type: "limit", limitPrice: "1" } as const;
    const day = await broker.submitOrder(req(limit));
    const gtc = await broker.submitOrder(req({ ...limit, timeInForce: "gtc" }));
    await clock.advanceTo(close - 1);
    expect((await broker.getOrder({ id: day.id }))?.status).toBe("new");
    await clock.advanceTo(close);
    expect((await broker.getOrder({ id: day.id }))?.status).toBe("expired");
    expect((await broker.getOpenOrders()).map((o) => o.id)).toEqual([gtc.id]);
    expect(await broker.getClock?.()).toEqual({
      timestamp: close,
      isOpen: false,
      nextOpen: Date.parse("2026-01-06T14:30:00Z"),
      nextClose: close,
    });

    const noSession = await connected();
    expect(noSession.getClock).toBeUndefined();
    const kept = await noSession.submitOrder(req(limit));
    expect((await noSession.getOrder({ id: kept.id }))?.status).toBe("new");
  });
});

describe("PaperBroker bracket orders", () => {
  const bracket = {
    symbol: "AAPL",
    side: "buy",
    qty: "10",
    bracket: { takeProfit: { limitPrice: "110" }, stopLoss: { stopPrice: "95" } },
  } as const;

  it("places the take-profit and stop-loss legs after the entry fills", async () => {
    const broker = await connected({ initialCash: "10000" });
    broker.setPrice("AAPL", "100");
    const entry = await broker.submitOrder(req({ ...bracket, type: "limit", limitPrice: "99" }));
    expect(entry.legs).toEqual([]);
    expect(await broker.getOpenOrders()).toHaveLength(1);
    broker.setPrice("AAPL", "99");
    const filled = await broker.getOrder({ id: entry.id });
    expect(filled?.status).toBe("filled");
    expect(filled?.legs.map((l) => [l.side, l.type, l.limitPrice, l.stopPrice, l.status, l.qty])).toEqual([
      ["sell", "limit", "110", null, "new", "10"],
      ["sell", "stop", null, "95", "new", "10"],
    ]);
    expect((await broker.getOpenOrders()).map((o) => o.clientOrderId)).toEqual([
      `${entry.clientOrderId}-tp`,
      `${entry.clientOrderId}-sl`,
    ]);
  });

  it("cancels the stop loss when the take profit fills (one cancels the other)", async () => {
    const broker = await connected({ initialCash: "10000" });
    broker.setPrice("AAPL", "100");
    const entry = await broker.submitOrder(req(bracket));
    const updates = recordUpdates(broker);
    broker.setPrice("AAPL", "111");
    const legs = (await broker.getOrder({ id: entry.id }))?.legs ?? [];
    expect(legs.map((l) => [l.status, l.filledAvgPrice])).toEqual([
      ["filled", "111"],
      ["canceled", null],
    ]);
    expect(updates.map((u) => `${u.event}:${u.order.clientOrderId.slice(-2)}`)).toEqual([
      "fill:tp",
      "canceled:sl",
    ]);
    expect(await broker.getPositions()).toEqual([]);
    expect((await broker.getAccount()).cash).toBe("10110");
  });

  it("cancels the take profit when the stop loss fills", async () => {
    const broker = await connected({ initialCash: "10000" });
    broker.setPrice("AAPL", "100");
    const entry = await broker.submitOrder(req(bracket));
    broker.setPrice("AAPL", "94");
    const legs = (await broker.getOrder({ id: entry.id }))?.legs ?? [];
    expect(legs.map((l) => l.status)).toEqual(["canceled", "filled"]);
    expect((await broker.getAccount()).cash).toBe("9940");
  });

  it("cancels both legs when one is cancelled", async () => {
    const broker = await connected({ initialCash: "10000" });
    broker.setPrice("AAPL", "100");
    const entry = await broker.submitOrder(req(bracket));
    const [tp] = (await broker.getOrder({ id: entry.id }))?.legs ?? [];
    await broker.cancelOrder(tp?.id ?? "");
    expect((await broker.getOrder({ id: entry.id }))?.legs.map((l) => l.status)).toEqual([
      "canceled",
      "canceled",
    ]);
    expect(await broker.getOpenOrders()).toEqual([]);
  });

  it("rejects a bracket whose take profit is not beyond its stop loss", async () => {
    const broker = await connected();
    broker.setPrice("AAPL", "100");
    const error = await rejection(
      broker.submitOrder(
        req({ ...bracket, bracket: { takeProfit: { limitPrice: "90" }, stopLoss: { stopPrice: "95" } } }),
      ),
    );
    expect(error.field).toBe("intent.bracket.takeProfit.limitPrice");
  });
});

describe("PaperBroker orders, updates and connection", () => {
  it("emits new and fill updates, and stops after unsubscribe", async () => {
    const broker = await connected();
    broker.setPrice("AAPL", "100");
    const updates: OrderUpdate[] = [];
    const off = broker.onOrderUpdate((u) => updates.push(u));
    const order = await broker.submitOrder(req({ symbol: "AAPL", side: "buy", qty: "1" }));
    expect(updates.map((u) => [u.event, u.order.status])).toEqual([
      ["new", "new"],
      ["fill", "filled"],
    ]);
    expect(updates[1]?.order.id).toBe(order.id);
    off();
    await broker.submitOrder(req({ symbol: "AAPL", side: "buy", qty: "1" }));
    expect(updates).toHaveLength(2);
  });

  it("keeps working when a listener throws, and reports the error", async () => {
    const errors: string[] = [];
    const broker = await connected({ onError: (e, context) => errors.push(`${context}: ${e.message}`) });
    broker.setPrice("AAPL", "100");
    broker.onOrderUpdate(() => {
      throw new Error("listener bug");
    });
    const order = await broker.submitOrder(req({ symbol: "AAPL", side: "buy", qty: "1" }));
    expect(order.status).toBe("filled");
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^PaperBroker: order update listener .*: listener bug$/);
  });

  it("returns null for unknown orders, and the order unchanged when cancelling a final one", async () => {
    const broker = await connected();
    broker.setPrice("AAPL", "100");
    const order = await broker.submitOrder(req({ symbol: "AAPL", side: "buy", qty: "1" }));
    expect(await broker.getOrder({ id: "nope" })).toBeNull();
    expect(await broker.getOrder({ clientOrderId: "nope" })).toBeNull();
    expect(await broker.cancelOrder("nope")).toBeNull();
    expect((await broker.cancelOrder(order.id))?.status).toBe("filled");
    await expect(broker.getOrder({} as never)).rejects.toThrow(ValidationError);
  });

  it("fails every call with BrokerUnavailableError until connected, and reports connection changes", async () => {
    const broker = new PaperBroker({ clock: new TestClock() });
    const changes: boolean[] = [];
    broker.onConnectionChange((c) => changes.push(c));
    await expect(broker.getAccount()).rejects.toThrow(BrokerUnavailableError);
    await expect(broker.getPositions()).rejects.toThrow(/getPositions failed: not connected/);
    await broker.connect();
    await broker.connect();
    await broker.disconnect();
    await expect(broker.getOpenOrders()).rejects.toThrow(BrokerUnavailableError);
    expect(changes).toEqual([true, false]);
  });
});

describe("PaperBroker prices", () => {
  it("applies a fed stream of ticks in order, synchronous or asynchronous", async () => {
    const broker = await connected();
    const order = await broker.submitOrder(
      req({ symbol: "AAPL", side: "buy", qty: "1", type: "limit", limitPrice: "99" }),
    );
    await broker.feed([
      { symbol: "aapl", price: "101" },
      { symbol: "AAPL", price: 100.5, at: "2026-01-05T14:31:00Z" },
    ]);
    expect(broker.getQuote("AAPL")).toEqual({ price: "100.5", at: Date.parse("2026-01-05T14:31:00Z") });
    async function* ticks() {
      yield { symbol: "AAPL", price: "99.5" };
      yield { symbol: "AAPL", price: "98.75" };
      yield { symbol: "AAPL", price: "120" };
    }
    expect(await broker.feed(ticks())).toBe(3);
    expect(await broker.getOrder({ id: order.id })).toMatchObject({
      status: "filled",
      filledAvgPrice: "98.75",
    });
    expect(broker.getPrice("AAPL")).toBe("120");
  });

  it("rejects an invalid tick with a ValidationError naming the field", async () => {
    const broker = await connected();
    expect(() => broker.setPrice("AAPL", "-1")).toThrow(/price/);
    await expect(broker.feed([{ symbol: "AAPL", price: "abc" }])).rejects.toThrow(ValidationError);
    expect(broker.getPrice("AAPL")).toBeNull();
  });

  it("asks the quote function at submission and on refresh", async () => {
    let price: string | null = "50";
    const asked: string[] = [];
    const broker = await connected({
      quote: async (symbol) => {
        asked.push(symbol);
        return price;
      },
    });
    const market = await broker.submitOrder(req({ symbol: "QQQ", side: "buy", qty: "2" }));
    expect(market.filledAvgPrice).toBe("50");
    const limit = await broker.submitOrder(
      req({ symbol: "QQQ", side: "sell", qty: "2", type: "limit", limitPrice: "55" }),
    );
    price = "56";
    await broker.refreshPrices();
    expect((await broker.getOrder({ id: limit.id }))?.status).toBe("filled");
    price = null; // no answer: the last known price stands
    await broker.submitOrder(req({ symbol: "QQQ", side: "buy", qty: "1" }));
    expect(broker.getPrice("QQQ")).toBe("56");
    expect(asked).toEqual(["QQQ", "QQQ", "QQQ", "QQQ"]);
  });

  it("reports a failing quote function as a retryable BrokerUnavailableError", async () => {
    const broker = await connected({
      quote: () => {
        throw new Error("feed down");
      },
    });
    await expect(broker.submitOrder(req({ symbol: "QQQ", side: "buy", qty: "1" }))).rejects.toThrow(
      BrokerUnavailableError,
    );
  });
});

describe("PaperBroker idempotent submit", () => {
  it("returns the in-flight order to a duplicate that arrives while the first is still being placed", async () => {
    let release: (price: string) => void = () => {};
    let quotes = 0;
    const broker = await connected({
      quote: () => {
        quotes++;
        return new Promise<string>((resolve) => {
          release = resolve;
        });
      },
    });
    const request = req({ symbol: "AAPL", side: "buy", qty: "1" });
    const first = broker.submitOrder(request);
    const duplicate = broker.submitOrder(request);
    await new Promise((resolve) => setImmediate(resolve));
    expect(quotes).toBe(1); // the duplicate joined the first placement instead of starting its own
    release("100");
    const [a, b] = await Promise.all([first, duplicate]);
    expect(b.id).toBe(a.id);
    expect((await broker.getAccount()).cash).toBe("99900");
  });

  it("joins a duplicate to a placement that is rejected, with the same rejection", async () => {
    const broker = await connected();
    const request = req({ symbol: "NOPRICE", side: "buy", qty: "1" });
    const results = await Promise.allSettled([broker.submitOrder(request), broker.submitOrder(request)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(await broker.getOrder({ clientOrderId: request.clientOrderId })).toBeNull();
  });

  it("returns the first order to duplicates submitted during injected latency", async () => {
    const clock = new TestClock();
    const broker = new PaperBroker({ clock, initialCash: "1000" });
    await broker.connect();
    broker.setPrice("AAPL", "100");
    broker.faults.delay(100);
    const request = req({ symbol: "AAPL", side: "buy", qty: "1" });
    const first = broker.submitOrder(request);
    await clock.advance(50);
    const second = broker.submitOrder(request);
    let settled = false;
    void first.finally(() => {
      settled = true;
    });
    await clock.advance(49);
    expect(settled).toBe(false);
    await clock.advance(51);
    const [a, b] = await Promise.all([first, second]);
    expect(b.id).toBe(a.id);
    broker.faults.clear();
    expect((await broker.getAccount()).cash).toBe("900");
  });
});

describe("PaperBroker fault injection", () => {
  it("fails the next n calls with BrokerUnavailableError, then recovers", async () => {
    const broker = await connected();
    broker.faults.failNext(2);
    expect(broker.faults.pending).toBe(2);
    await expect(broker.getAccount()).rejects.toThrow(BrokerUnavailableError);
    await expect(broker.getPositions()).rejects.toThrow(
      /getPositions failed \(injected fault: unavailable\)/,
    );
    await broker.getAccount();
    expect(broker.faults.pending).toBe(0);
  });

  it("fails only the targeted method", async () => {
    const broker = await connected();
    broker.faults.failNext(1, "getOrder");
    await broker.getAccount();
    await broker.getOpenOrders();
    await expect(broker.getOrder({ id: "x" })).rejects.toThrow(BrokerUnavailableError);
    expect(await broker.getOrder({ id: "x" })).toBeNull();
  });

  it("fails connect when targeted, leaving the broker disconnected", async () => {
    const broker = new PaperBroker({ clock: new TestClock() });
    broker.faults.failNext(1, "connect");
    await expect(broker.connect()).rejects.toThrow(BrokerUnavailableError);
    expect(broker.isConnected()).toBe(false);
    await broker.connect();
    expect(broker.isConnected()).toBe(true);
  });

  it("rate limits with the requested retryAfterMs", async () => {
    const broker = await connected();
    broker.faults.rateLimit(1, 2_000, "submitOrder");
    await broker.getAccount();
    const error = await rejection(
      broker.submitOrder(req({ symbol: "A", side: "buy", qty: "1", type: "limit", limitPrice: "1" })),
    );
    expect(error).toBeInstanceOf(BrokerRateLimitedError);
    expect((error as BrokerRateLimitedError).retryAfterMs).toBe(2_000);
    expect(await broker.getOpenOrders()).toEqual([]);
  });

  it("places the order and then loses the response under acceptThenTimeOut", async () => {
    const broker = await connected();
    broker.setPrice("AAPL", "100");
    broker.faults.acceptThenTimeOut(1);
    const request = req({ symbol: "AAPL", side: "buy", qty: "1" });
    await expect(broker.getAccount()).resolves.toBeDefined(); // only submits consume it
    await expect(broker.submitOrder(request)).rejects.toThrow(/timed out after the order was accepted/);
    const placed = await broker.getOrder({ clientOrderId: request.clientOrderId });
    expect(placed?.status).toBe("filled");
    expect((await broker.submitOrder(request)).id).toBe(placed?.id);
    expect((await broker.getAccount()).cash).toBe("99900");
  });

  it("consumes queued faults in the order they were added, one per call", async () => {
    const broker = await connected();
    broker.faults.rateLimit(1, 10).failNext(1);
    await expect(broker.getAccount()).rejects.toThrow(BrokerRateLimitedError);
    await expect(broker.getAccount()).rejects.toThrow(BrokerUnavailableError);
    await broker.getAccount();
  });

  it("delays every call on the injected clock", async () => {
    const clock = new TestClock();
    const broker = new PaperBroker({ clock });
    await broker.connect();
    broker.faults.delay(1_000);
    let done = false;
    const call = broker.getAccount().then(() => {
      done = true;
    });
    await clock.advance(999);
    expect(done).toBe(false);
    await clock.advance(1);
    await call;
    expect(done).toBe(true);
  });

  it("clears queued faults and the delay", async () => {
    const broker = await connected();
    broker.faults.failNext(5).acceptThenTimeOut(2).delay(10_000).clear();
    expect(broker.faults.pending).toBe(0);
    await broker.getAccount(); // would hang on the TestClock if the delay were still set
  });

  it("validates fault arguments", () => {
    const broker = new PaperBroker();
    expect(() => broker.faults.failNext(0)).toThrow(/n/);
    expect(() => broker.faults.failNext(1, "fly" as never)).toThrow(/method/);
    expect(() => broker.faults.rateLimit(1, -5)).toThrow(/retryAfterMs/);
    expect(() => broker.faults.delay(Number.NaN)).toThrow(ValidationError);
  });
});

describe("PaperBroker fault matrix", () => {
  it("never doubles an order across 1,000 intents retried through random faults, and settles every intent", async () => {
    const random = seededRandom(20260105);
    const clock = new TestClock();
    const broker = new PaperBroker({ clock, initialCash: "1000000" });
    await broker.connect();
    broker.setPrice("AAPL", "187.31");
    broker.setPrice("MSFT", "411.07");

    type Outcome = { kind: "placed"; order: BrokerOrder } | { kind: "rejected"; error: BrokerRejectedError };
    const outcomes = new Map<string, Outcome>();
    const attempts = new Map<string, number>();
    const injected = { lost: 0, unavailable: 0, rateLimited: 0 };

    const submitWithRetry = (request: OrderRequest) =>
      pRetry(
        async () => {
          attempts.set(request.clientOrderId, (attempts.get(request.clientOrderId) ?? 0) + 1);
          // The fault applies to this attempt: each attempt rolls its own.
          const roll = random();
          if (roll < 0.15) {
            broker.faults.acceptThenTimeOut(1);
            injected.lost++;
          } else if (roll < 0.3) {
            broker.faults.failNext(1, "submitOrder");
            injected.unavailable++;
          } else if (roll < 0.4) {
            broker.faults.rateLimit(1, 250 + Math.floor(random() * 1_000), "submitOrder");
            injected.rateLimited++;
          }
          return broker.submitOrder(request);
        },
        {
          retries: 30,
          minTimeout: 0,
          shouldRetry: async ({ error, attemptNumber }) => {
            if (error instanceof BrokerRejectedError) return false;
            const wait =
              error instanceof BrokerRateLimitedError
                ? error.retryAfterMs
                : 50 * 2 ** Math.min(attemptNumber, 5);
            await sleep(clock, wait);
            return true;
          },
        },
      );

    for (let i = 0; i < 1_000; i++) {
      const oversized = random() < 0.05;
      const intent: OrderIntentInput = {
        symbol: random() < 0.5 ? "AAPL" : "MSFT",
        side: "buy",
        qty: oversized ? "100000" : String(1 + Math.floor(random() * 3)),
        // Oversized orders are market orders, rejected for buying power; limits at 1 rest.
        type: oversized || random() < 0.8 ? "market" : "limit",
      };
      if (intent.type === "limit") intent.limitPrice = "1";
      const request = req(intent, clientOrderId(`matrix:${i}`, 0));
      // Some intents are submitted twice at once, as by two instances racing on one fire.
      const racers = random() < 0.1 ? 2 : 1;
      const results = await driveClock(
        clock,
        Promise.allSettled(Array.from({ length: racers }, () => submitWithRetry(request))),
      );
      for (const result of results) {
        const previous = outcomes.get(request.clientOrderId);
        if (previous) expect(previous.kind).toBe(result.status === "fulfilled" ? "placed" : "rejected");
        if (result.status === "fulfilled") {
          if (previous?.kind === "placed") expect(result.value.id).toBe(previous.order.id);
          outcomes.set(request.clientOrderId, { kind: "placed", order: result.value });
        } else {
          expect(result.reason).toBeInstanceOf(BrokerRejectedError);
          outcomes.set(request.clientOrderId, { kind: "rejected", error: result.reason });
        }
      }
    }

    // Every intent ended in a known final state, and the broker agrees with it.
    expect(outcomes.size).toBe(1_000);
    let filledValue = new Decimal(0);
    let placed = 0;
    for (const [id, outcome] of outcomes) {
      const atBroker = await broker.getOrder({ clientOrderId: id });
      if (outcome.kind === "rejected") {
        expect(atBroker).toBeNull();
        expect(outcome.error.retryable).toBe(false);
        continue;
      }
      placed++;
      expect(atBroker?.id).toBe(outcome.order.id);
      expect(["filled", "new"]).toContain(atBroker?.status);
      if (atBroker?.status === "filled") {
        filledValue = filledValue.plus(new Decimal(atBroker.filledQty).times(atBroker.filledAvgPrice ?? 0));
      }
    }
    // Zero duplicates: one open order per resting intent, and cash moved exactly once per fill.
    const open = await broker.getOpenOrders();
    expect(new Set(open.map((o) => o.clientOrderId)).size).toBe(open.length);
    expect((await broker.getAccount()).cash).toBe(new Decimal(1_000_000).minus(filledValue).toString());
    // The matrix did what it claims: faults of every kind, retries, and both outcomes.
    expect(injected.lost).toBeGreaterThan(100);
    expect(injected.unavailable).toBeGreaterThan(100);
    expect(injected.rateLimited).toBeGreaterThan(50);
    expect(placed).toBeGreaterThan(900);
    expect(1_000 - placed).toBeGreaterThan(10);
    expect(Math.max(...attempts.values())).toBeGreaterThan(3);
  });
});
