// Alpaca's official JavaScript SDK (@alpacahq/alpaca-trade-api 4.0.2, a client no one here wrote)
// drives the fake exactly as it would drive Alpaca: REST through its generated APIs and
// ergonomic builders, trade updates through its websocket client. If the fake drifted from
// Alpaca's protocol, the SDK's parsing, typed errors or stream handshake would fail here.

import { randomUUID } from "node:crypto";
import {
  AuthError,
  NotFoundError,
  OrdersApi,
  PermissionError,
  streaming,
  trading,
  ValidationError,
} from "@alpacahq/alpaca-trade-api";
import { afterEach, describe, expect, it } from "vitest";
import { FakeAlpaca } from "../src/testing/index.js";
import { eventually, KEY_ID, SECRET } from "./helpers.js";
import { journalViolations } from "./openapi.js";

let fake: FakeAlpaca;
const streams: streaming.TradingStream[] = [];
afterEach(async () => {
  for (const s of streams.splice(0)) s.disconnect();
  await fake.close();
});

function sdk(secret = SECRET) {
  const config = new trading.Configuration({ keyId: KEY_ID, secret, basePath: fake.url });
  return {
    orders: new OrdersApi(config),
    account: new trading.AccountsApi(config),
    positions: new trading.PositionsApi(config),
    clock: new trading.ClockApi(config),
    calendar: new trading.CalendarApi(config),
  };
}

function stream(secret = SECRET): streaming.TradingStream {
  const s = new streaming.TradingStream({
    credentials: { keyId: KEY_ID, secret },
    url: fake.streamUrl,
    reconnect: false,
  });
  streams.push(s);
  return s;
}

describe("Alpaca's official SDK against the fake", () => {
  it("places, reads and cancels orders, and sees the account and positions move", async () => {
    fake = await FakeAlpaca.start();
    fake.setPrice("AAPL", "190.25");
    const api = sdk();
    const before = await api.account.getAccount();
    expect(before.status).toBe("ACTIVE");
    expect(before.cash).toBe("100000");

    const marketId = `sdk-${randomUUID()}`;
    const market = await api.orders.market({ symbol: "AAPL", qty: 2, side: "buy", clientOrderId: marketId });
    expect(market.clientOrderId).toBe(marketId);
    expect(market.status).toBe("new");
    await eventually(
      async () => (await api.orders.getOrderByOrderID({ orderId: market.id as string })).status === "filled",
    );
    const filled = await api.orders.getOrderByClientOrderId({ clientOrderId: marketId });
    expect(filled).toMatchObject({
      id: market.id,
      filledQty: "2",
      filledAvgPrice: "190.25",
      status: "filled",
    });

    const limit = await api.orders.limit({
      symbol: "AAPL",
      qty: 1,
      side: "buy",
      limitPrice: "100",
      timeInForce: "gtc",
    });
    const bracket = await api.orders.bracket({
      symbol: "AAPL",
      qty: 1,
      side: "buy",
      limitPrice: 150,
      takeProfit: { limitPrice: 200 },
      stopLoss: { stopPrice: 140 },
    });
    expect(bracket.orderClass).toBe("bracket");
    expect(bracket.legs).toHaveLength(2);
    const open = await api.orders.getAllOrders({ status: "open", nested: true });
    expect(open.map((o) => o.id).sort()).toEqual([limit.id, bracket.id].sort());

    const positions = await api.positions.getAllOpenPositions();
    expect(positions).toHaveLength(1);
    expect(positions[0]).toMatchObject({ symbol: "AAPL", qty: "2", side: "long" });
    expect((await api.account.getAccount()).cash).toBe("99619.5");

    await api.orders.deleteOrderByOrderID({ orderId: limit.id as string });
    expect((await api.orders.getOrderByOrderID({ orderId: limit.id as string })).status).toBe("canceled");
    const cancelled = await api.orders.deleteAllOrders();
    expect(cancelled.map((c) => [c.id, c.status])).toEqual([[bracket.id, 200]]);
    expect(await api.orders.getAllOrders({ status: "open" })).toEqual([]);

    const clock = await api.clock.legacyClock();
    expect(typeof clock.isOpen).toBe("boolean");
    const days = await api.calendar.legacyCalendar({
      start: new Date("2026-01-01T12:00:00Z"),
      end: new Date("2026-01-09T12:00:00Z"),
    });
    const dates = days.map((d) =>
      (d.date instanceof Date ? d.date.toISOString() : String(d.date)).slice(0, 10),
    );
    expect(dates).toEqual([
      "2026-01-02",
      "2026-01-05",
      "2026-01-06",
      "2026-01-07",
      "2026-01-08",
      "2026-01-09",
    ]);
    expect(journalViolations(fake.journal).violations).toEqual([]);
  });

  it("gets Alpaca's refusals as the SDK's typed errors: duplicate id, buying power, unknown order, bad credentials", async () => {
    fake = await FakeAlpaca.start();
    const api = sdk();
    const clientOrderId = `sdk-${randomUUID()}`;
    await api.orders.limit({ symbol: "AAPL", qty: 1, side: "buy", limitPrice: 10, clientOrderId });
    const duplicate = await api.orders
      .limit({ symbol: "AAPL", qty: 1, side: "buy", limitPrice: 10, clientOrderId })
      .catch((e: unknown) => e);
    expect(duplicate).toBeInstanceOf(ValidationError);
    expect(duplicate).toMatchObject({ status: 422, code: 40010001 });
    expect((duplicate as Error).message).toMatch(/client_order_id must be unique/);

    const poor = await api.orders
      .limit({ symbol: "AAPL", qty: 1_000_000, side: "buy", limitPrice: 10 })
      .catch((e: unknown) => e);
    expect(poor).toBeInstanceOf(PermissionError);
    expect(poor).toMatchObject({ status: 403, code: 40310000 });

    const missing = await api.orders.getOrderByOrderID({ orderId: randomUUID() }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);

    const wrong = await sdk("wrong-secret")
      .account.getAccount()
      .catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(AuthError);
    expect(journalViolations(fake.journal).violations).toEqual([]);
  });

  it("receives trade updates over the SDK's websocket client: new, fill, canceled", async () => {
    fake = await FakeAlpaca.start();
    fake.setPrice("MSFT", "411.07");
    const updates: streaming.TradeUpdate[] = [];
    const s = stream();
    s.onTradeUpdate((u) => updates.push(u));
    const listening = new Promise<unknown>((resolve) => s.on(streaming.EVENT.SUBSCRIPTION, resolve));
    s.onConnect(() => s.subscribeTradeUpdates());
    s.connect();
    expect((await s.whenAuthenticated()).authenticated).toBe(true);
    expect(await listening).toEqual(["trade_updates"]);

    const api = sdk();
    const market = await api.orders.market({ symbol: "MSFT", qty: 3, side: "buy" });
    const resting = await api.orders.limit({
      symbol: "MSFT",
      qty: 1,
      side: "buy",
      limitPrice: 1,
      timeInForce: "gtc",
    });
    await api.orders.deleteOrderByOrderID({ orderId: resting.id as string });
    await eventually(() => updates.length >= 4, 3_000, "four trade updates");
    const of = (id: unknown) =>
      updates.filter((u) => u.order.id === id).map((u) => [u.event, u.order.status]);
    expect(of(market.id)).toEqual([
      ["new", "new"],
      ["fill", "filled"],
    ]);
    expect(of(resting.id)).toEqual([
      ["new", "new"],
      ["canceled", "canceled"],
    ]);
    const fill = updates.find((u) => u.event === "fill") as streaming.TradeUpdate;
    expect(fill).toMatchObject({ price: "411.07", qty: "3", positionQty: "3" });
    expect(fill.executionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(fill.timestamp).toBeInstanceOf(Date);
  });

  it("is refused on the stream with a wrong secret, and refused a second stream on the account", async () => {
    fake = await FakeAlpaca.start();
    const bad = stream("wrong-secret");
    bad.connect();
    expect(await bad.whenAuthenticated()).toMatchObject({ authenticated: false });
    const first = stream();
    first.onConnect(() => first.subscribeTradeUpdates());
    first.connect();
    expect((await first.whenAuthenticated()).authenticated).toBe(true);
    const second = stream();
    second.connect();
    expect((await second.whenAuthenticated()).authenticated).toBe(false);
    expect(fake.streamStats.refused).toBe(1);
  });
});
