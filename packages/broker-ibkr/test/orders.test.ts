import { EventName, IBApi, OrderAction, OrderType, SecType } from "@stoqey/ib";
import { BrokerRejectedError, type OrderIntentInput, ValidationError } from "@tradecron/core";
import { describe, expect, it } from "vitest";
import { IbkrBroker } from "../src/index.js";
import { brokerOptions, cleanupsPerTest, order, rejection, settle, tick, until } from "./helpers.js";

const { cleanups, setup } = cleanupsPerTest();

describe("order types on the wire", () => {
  const cases: [string, OrderIntentInput, Record<string, unknown>][] = [
    ["market day", { symbol: "AAPL", side: "buy", qty: 2 }, { orderType: "MKT", tif: "DAY" }],
    [
      "limit gtc outside regular hours",
      { symbol: "AAPL", side: "buy", qty: 1, type: "limit", limitPrice: "101.25", extendedHours: true },
      { orderType: "LMT", lmtPrice: "101.25", tif: "DAY", outsideRth: true },
    ],
    [
      "stop",
      { symbol: "AAPL", side: "sell", qty: 1, type: "stop", stopPrice: 90, timeInForce: "gtc" },
      { orderType: "STP", auxPrice: "90", tif: "GTC", action: "SELL" },
    ],
    [
      "stop limit",
      {
        symbol: "AAPL",
        side: "buy",
        qty: 1,
        type: "stop_limit",
        stopPrice: 210,
        limitPrice: 211,
        timeInForce: "ioc",
      },
      { orderType: "STP LMT", auxPrice: "210", lmtPrice: "211", tif: "IOC" },
    ],
    [
      "trailing by percent",
      {
        symbol: "AAPL",
        side: "sell",
        qty: 1,
        type: "trailing_stop",
        trailPercent: "2.5",
        timeInForce: "gtc",
      },
      { orderType: "TRAIL", trailingPercent: "2.5", auxPrice: null },
    ],
    [
      "trailing by amount",
      { symbol: "AAPL", side: "sell", qty: 1, type: "trailing_stop", trailPrice: 3 },
      { orderType: "TRAIL", auxPrice: "3", trailingPercent: null },
    ],
    [
      "market on close",
      { symbol: "AAPL", side: "buy", qty: 1, timeInForce: "cls" },
      { orderType: "MOC", tif: "DAY" },
    ],
    [
      "limit on open",
      { symbol: "AAPL", side: "buy", qty: 1, type: "limit", limitPrice: 1, timeInForce: "opg" },
      { orderType: "LMT", tif: "OPG" },
    ],
    [
      "a share class",
      { symbol: "BRK.B", side: "buy", qty: 1, type: "limit", limitPrice: 1 },
      { symbol: "BRK B" },
    ],
  ];

  for (const [name, intent, expected] of cases) {
    it(`places ${name} as IB expects it, and reports it back in tradecron's terms`, async () => {
      const { clock, tws, broker } = await setup();
      tws.setPrice("AAPL", "200");
      tws.setPrice("BRK.B", "450");
      if (intent.side === "sell")
        await settle(clock, broker.submitOrder(order({ symbol: intent.symbol, side: "buy", qty: 1 })));
      const req = order(intent);
      const placed = await settle(clock, broker.submitOrder(req));
      const [atIb] = tws.ordersWithRef(req.clientOrderId);
      const { symbol, ...fields } = expected;
      expect({ ...atIb, symbol: atIb?.contract.symbol }).toMatchObject({
        ...fields,
        ...(symbol === undefined ? {} : { symbol }),
      });
      expect(placed).toMatchObject({
        clientOrderId: req.clientOrderId,
        symbol: req.intent.symbol,
        side: req.intent.side,
        type: req.intent.type,
        timeInForce: req.intent.timeInForce,
        qty: req.intent.qty,
        limitPrice: req.intent.limitPrice ?? null,
        trailPercent: req.intent.trailPercent ?? null,
        trailPrice: req.intent.trailPrice ?? null,
        extendedHours: req.intent.extendedHours,
      });
      if (req.intent.type === "stop" || req.intent.type === "stop_limit")
        expect(placed.stopPrice).toBe(req.intent.stopPrice);
    });
  }

  it("refuses what it does not place (notional, brackets) as final, before talking to TWS", async () => {
    const { clock, tws, broker } = await setup();
    const sent = Object.values(tws.stats.received).reduce((a, b) => a + b, 0);
    const notional = await rejection(
      clock,
      broker.submitOrder(order({ symbol: "AAPL", side: "buy", notional: 100 })),
    );
    expect(notional).toBeInstanceOf(BrokerRejectedError);
    expect((notional as BrokerRejectedError).field).toBe("intent.notional");
    const bracket = await rejection(
      clock,
      broker.submitOrder(
        order({
          symbol: "AAPL",
          side: "buy",
          qty: 1,
          type: "limit",
          limitPrice: 100,
          bracket: { takeProfit: { limitPrice: 110 }, stopLoss: { stopPrice: 95 } },
        }),
      ),
    );
    expect((bracket as BrokerRejectedError).field).toBe("intent.bracket");
    const malformed = await rejection(
      clock,
      broker.submitOrder({ clientOrderId: "x", intent: { symbol: "AAPL", side: "buy", qty: "-1" } } as never),
    );
    expect(malformed).toBeInstanceOf(BrokerRejectedError);
    expect((malformed as BrokerRejectedError).field).toBe("intent.qty");
    expect(Object.values(tws.stats.received).reduce((a, b) => a + b, 0)).toBe(sent);
  });
});

describe("rejections", () => {
  it("maps 201 to a final BrokerRejectedError with IB's code and message, and answers a resubmit the same way without placing", async () => {
    const { clock, tws, broker } = await setup();
    tws.setPrice("AAPL", "200");
    tws.rejectNext(
      "YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED POSITION YOUR EQUITY WITH LOAN VALUE MUST EXCEED THE INITIAL MARGIN",
    );
    const req = order({ symbol: "AAPL", side: "buy", qty: 10 });
    const error = await rejection(clock, broker.submitOrder(req));
    expect(error).toBeInstanceOf(BrokerRejectedError);
    expect((error as BrokerRejectedError).retryable).toBe(false);
    expect((error as BrokerRejectedError).details).toMatchObject({
      ibCode: 201,
      ibMessage: expect.stringMatching(/^Order rejected - reason:YOUR ORDER IS NOT ACCEPTED/),
      clientOrderId: req.clientOrderId,
    });
    const again = await rejection(clock, broker.submitOrder(req));
    expect(again).toBeInstanceOf(BrokerRejectedError);
    expect(tws.ordersWithRef(req.clientOrderId)).toHaveLength(1);
    expect((await settle(clock, broker.getOrder({ clientOrderId: req.clientOrderId })))?.status).toBe(
      "rejected",
    );
    expect(await settle(clock, broker.getOpenOrders())).toEqual([]);
  });

  it("finds a rejection from an earlier run among completed orders, and does not try again", async () => {
    const { clock, tws, broker } = await setup();
    tws.rejectNext("Invalid value in field # 6024");
    const req = order({ symbol: "AAPL", side: "buy", qty: 1, type: "limit", limitPrice: 1 });
    await rejection(clock, broker.submitOrder(req));
    await settle(clock, broker.disconnect());
    const fresh = new IbkrBroker(brokerOptions(clock, tws.port));
    cleanups.push(() => fresh.disconnect());
    await settle(clock, fresh.connect());
    const error = await rejection(clock, fresh.submitOrder(req));
    expect(error).toBeInstanceOf(BrokerRejectedError);
    expect(error.message).toMatch(/Rejected: Invalid value in field # 6024/);
    expect(tws.ordersWithRef(req.clientOrderId)).toHaveLength(1);
  });

  it("maps an unknown contract (200) to a final BrokerRejectedError", async () => {
    const { clock, broker } = await setup();
    const error = await rejection(clock, broker.submitOrder(order({ symbol: "ZZZZQ", side: "buy", qty: 1 })));
    expect(error).toBeInstanceOf(BrokerRejectedError);
    expect((error as BrokerRejectedError).details).toMatchObject({ ibCode: 200 });
  });
});

describe("orders of other clients", () => {
  it("lists other clients' and TWS's orders, but cancels only its own; a global cancel cancels all", async () => {
    const { clock, tws, broker } = await setup();
    const mine = await settle(
      clock,
      broker.submitOrder(order({ symbol: "AAPL", side: "buy", qty: 1, type: "limit", limitPrice: 1 })),
    );
    const manual = await tws.placeManualOrder({ symbol: "MSFT", side: "buy", qty: "1", limitPrice: "2" });
    const open = await settle(clock, broker.getOpenOrders());
    expect(open.map((o) => o.id).sort()).toEqual([mine.id, String(manual.permId)].sort());
    const refused = await rejection(clock, broker.cancelOrder(String(manual.permId)));
    expect(refused).toBeInstanceOf(BrokerRejectedError);
    expect(refused.message).toMatch(/placed by hand in TWS/);

    expect(await settle(clock, broker.cancelAllOrders())).toEqual({ cancelled: 1, failed: [] });
    expect((await settle(clock, broker.getOpenOrders())).map((o) => o.id)).toEqual([String(manual.permId)]);

    const global = new IbkrBroker(brokerOptions(clock, tws.port, { clientId: 9, cancelAll: "global" }));
    cleanups.push(() => global.disconnect());
    await settle(clock, global.connect());
    expect(await settle(clock, global.cancelAllOrders())).toEqual({ cancelled: 1, failed: [] });
    expect(await settle(clock, broker.getOpenOrders())).toEqual([]);
    expect(tws.exchange.openOrders()).toEqual([]);
  });

  it("finds an order another client placed with the same client order id, instead of placing it twice", async () => {
    const { clock, tws, broker } = await setup();
    // Another instance (client id 12) placed this intent's order and died before recording it.
    const other = new IBApi({ host: "127.0.0.1", port: tws.port, clientId: 12, maxReqPerSec: 100 });
    const ready = new Promise((resolve) => other.once(EventName.nextValidId, resolve));
    other.connect(12);
    await ready;
    const req = order({
      symbol: "AAPL",
      side: "buy",
      qty: 1,
      type: "limit",
      limitPrice: 5,
      timeInForce: "gtc",
    });
    other.placeOrder(
      1,
      { symbol: "AAPL", secType: SecType.STK, exchange: "SMART", currency: "USD" },
      {
        action: OrderAction.BUY,
        orderType: OrderType.LMT,
        lmtPrice: 5,
        totalQuantity: 1,
        tif: "GTC",
        orderRef: req.clientOrderId,
        transmit: true,
      },
    );
    await until(clock, () => tws.ordersWithRef(req.clientOrderId).length === 1);
    other.disconnect();
    await tick();
    const found = await settle(clock, broker.submitOrder(req));
    expect(found.id).toBe(String(tws.ordersWithRef(req.clientOrderId)[0]?.permId));
    expect(tws.ordersWithRef(req.clientOrderId)).toHaveLength(1);
    expect((await settle(clock, broker.getOrder({ clientOrderId: req.clientOrderId })))?.status).toBe("new");
  });
});

describe("accounts of one login", () => {
  it("does not take another account's order for ours when both use the same client order id", async () => {
    const { clock, tws } = await setup({ connect: false, tws: { accounts: ["DU111", "DU222"] } });
    const first = new IbkrBroker(brokerOptions(clock, tws.port, { account: "DU111", clientId: 8 }));
    const second = new IbkrBroker(brokerOptions(clock, tws.port, { account: "DU222", clientId: 9 }));
    cleanups.push(
      () => first.disconnect(),
      () => second.disconnect(),
    );
    await settle(clock, first.connect());
    await settle(clock, second.connect());
    // Two deployments with the same schedule ids derive the same client order ids.
    const req = order({ symbol: "AAPL", side: "buy", qty: 1, type: "limit", limitPrice: 1 });
    const a = await settle(clock, first.submitOrder(req));
    const b = await settle(clock, second.submitOrder(req));
    expect(b.id).not.toBe(a.id);
    expect(
      tws
        .ordersWithRef(req.clientOrderId)
        .map((o) => o.account)
        .sort(),
    ).toEqual(["DU111", "DU222"]);
    expect((await settle(clock, second.submitOrder(req))).id).toBe(b.id);
  });
});

describe("options", () => {
  it("rejects invalid options with a ValidationError naming the field", () => {
    expect(() => new IbkrBroker({ port: 70_000 })).toThrow(ValidationError);
    expect(() => new IbkrBroker({ port: 70_000 })).toThrow(/port/);
    expect(() => new IbkrBroker({ clientId: -1 })).toThrow(/clientId/);
    expect(() => new IbkrBroker({ maxRequestsPerSecond: 60 })).toThrow(/maxRequestsPerSecond: IB allows 50/);
    expect(() => new IbkrBroker({ timeouts: { requestMs: 0 } })).toThrow(/timeouts.requestMs/);
    expect(() => new IbkrBroker({ contracts: { VOD: { currency: "gbp" } } })).toThrow(
      /contracts.VOD.currency/,
    );
    expect(() => new IbkrBroker({ nope: 1 } as never)).toThrow(ValidationError);
  });

  it("fails calls with BrokerUnavailableError before connect, naming what to do", async () => {
    const broker = new IbkrBroker({ port: 1 });
    await expect(broker.getAccount()).rejects.toThrow(/not connected to TWS \(call connect\(\)\)/);
    expect(broker.isConnected()).toBe(false);
  });

  it("reports a refused connection as a retryable BrokerUnavailableError", async () => {
    const { clock, tws, broker } = await setup({ connect: false });
    await tws.goDown();
    const error = await rejection(clock, broker.connect());
    expect(error).toMatchObject({ code: "BROKER_UNAVAILABLE", retryable: true });
    expect(error.message).toMatch(/cannot reach TWS at 127\.0\.0\.1:\d+/);
    await tws.comeUp();
    await until(clock, () => broker.isConnected(), { what: "the background reconnect" });
  });
});
