import { BrokerRateLimitedError, BrokerUnavailableError, type OrderUpdate } from "@tradecron/core";
import { describe, expect, it } from "vitest";
import { IbkrBroker, IbkrConfigError } from "../src/index.js";
import { advance, brokerOptions, cleanupsPerTest, order, rejection, settle, until } from "./helpers.js";

const { cleanups, setup } = cleanupsPerTest();

describe("connectivity notices on request id -1", () => {
  it("reports 1100 as disconnected and refuses orders, and 1102 as connected again", async () => {
    const { clock, tws, broker } = await setup();
    const changes: boolean[] = [];
    broker.onConnectionChange((c) => changes.push(c));
    tws.loseLink(1100);
    await until(clock, () => !broker.isConnected(), { what: "1100" });
    const req = order({ symbol: "AAPL", side: "buy", qty: 1, type: "limit", limitPrice: 1 });
    const error = await rejection(clock, broker.submitOrder(req));
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect(error.message).toMatch(/lost its connection to IB/);
    expect(tws.ordersWithRef(req.clientOrderId)).toEqual([]);
    tws.restoreLink({ dataLost: false });
    await until(clock, () => broker.isConnected(), { what: "1102" });
    expect(changes).toEqual([false, true]);
    await settle(clock, broker.submitOrder(req));
    expect(tws.ordersWithRef(req.clientOrderId)).toHaveLength(1);
    expect(tws.stats.sessions).toBe(1); // the socket stayed up throughout
  });

  it("treats 2110 like 1100", async () => {
    const { clock, tws, broker } = await setup();
    tws.loseLink(2110);
    await until(clock, () => !broker.isConnected(), { what: "2110" });
    tws.restoreLink({ dataLost: false });
    await until(clock, () => broker.isConnected(), { what: "1102" });
  });

  it("reconciles after 1101 (restored, data lost), picking up a fill TWS never pushed", async () => {
    const { clock, tws, broker } = await setup();
    tws.setPrice("AAPL", "100");
    const req = order({
      symbol: "AAPL",
      side: "buy",
      qty: 5,
      type: "limit",
      limitPrice: 95,
      timeInForce: "gtc",
    });
    const placed = await settle(clock, broker.submitOrder(req));
    const updates: OrderUpdate[] = [];
    broker.onOrderUpdate((u) => updates.push(u));
    tws.loseLink(1100);
    await until(clock, () => !broker.isConnected());
    tws.setPrice("AAPL", "94"); // fills at IB while TWS is cut off
    tws.restoreLink({ dataLost: true }); // ...and the fill messages are lost
    await until(clock, () => broker.isConnected(), { what: "the reconcile after 1101" });
    expect(updates.map((u) => [u.event, u.order.filledQty])).toEqual([["fill", "5"]]);
    const now = await settle(clock, broker.getOrder({ id: placed.id }));
    expect(now).toMatchObject({ status: "filled", filledQty: "5", filledAvgPrice: "94" });
  });
});

describe("IB's repeated messages", () => {
  it("sends one update per change and counts a fill once when openOrder, orderStatus and executions come three times", async () => {
    const { clock, tws, broker } = await setup();
    tws.setPrice("AAPL", "100");
    tws.repeatMessages(3);
    const updates: OrderUpdate[] = [];
    broker.onOrderUpdate((u) => updates.push(u));
    const req = order({ symbol: "AAPL", side: "buy", qty: 4 });
    await settle(clock, broker.submitOrder(req));
    await until(clock, () => updates.some((u) => u.event === "fill"));
    await advance(clock, 1_000);
    expect(updates.map((u) => u.event)).toEqual(["new", "fill"]);
    expect(updates[1]?.order).toMatchObject({ filledQty: "4", filledAvgPrice: "100" });
    expect(await settle(clock, broker.getPositions())).toEqual([
      { symbol: "AAPL", qty: "4", side: "long", avgEntryPrice: "100", marketValue: null },
    ]);
    // Executions asked for again (a reconcile) are not counted again.
    await settle(clock, broker.getOrder({ clientOrderId: "tc-unknown" }));
    expect((await settle(clock, broker.getOrder({ clientOrderId: req.clientOrderId })))?.filledQty).toBe("4");
    expect(updates).toHaveLength(2);
  });
});

describe("pacing", () => {
  it("never sends TWS more than maxRequestsPerSecond messages", async () => {
    const { clock, tws, broker } = await setup({
      // The adapter sends 10 a second (plus a burst of one); the fake refuses a 14th in any second.
      tws: { maxMessagesPerSecond: 13 },
      broker: { maxRequestsPerSecond: 10 },
    });
    const start = clock.now();
    const received = () => Object.values(tws.stats.received).reduce((a, b) => a + b, 0);
    const before = received();
    const calls = Array.from({ length: 30 }, (_, i) =>
      broker.submitOrder(order({ symbol: "AAPL", side: "buy", qty: 1, type: "limit", limitPrice: 1 + i })),
    );
    const placed = await settle(clock, Promise.all(calls), 50);
    expect(placed).toHaveLength(30);
    // Without pacing, the 30 submits would send their first 60 messages at once.
    expect(tws.stats.pacingViolations).toBe(0);
    const sent = received() - before;
    expect(sent).toBeGreaterThanOrEqual(60); // at least each submit's executions check and its placeOrder
    expect(clock.now() - start).toBeGreaterThanOrEqual(((sent - 2) / 10) * 1_000);
  });

  it("reports TWS's pacing violation (100) as a BrokerRateLimitedError with retryAfterMs, then recovers", async () => {
    const { clock, broker } = await setup({
      tws: { maxMessagesPerSecond: 3 },
      broker: { maxRequestsPerSecond: 40 },
    });
    const results = await settle(
      clock,
      Promise.allSettled(Array.from({ length: 4 }, () => broker.getAccount())),
      50,
    );
    const limited = results
      .filter((r) => r.status === "rejected")
      .map((r) => (r as PromiseRejectedResult).reason);
    expect(limited.length).toBeGreaterThan(0);
    for (const e of limited) {
      expect(e).toBeInstanceOf(BrokerRateLimitedError);
      expect(e.retryAfterMs).toBe(1_000);
      expect(e.details).toMatchObject({ ibCode: 100 });
    }
    await advance(clock, 2_000);
    await settle(clock, broker.getAccount());
  });
});

describe("the account", () => {
  it("rejects an account the login does not manage with IbkrConfigError naming the field, and stops retrying", async () => {
    const { clock, tws, broker } = await setup({ connect: false, broker: { account: "DU9999999" } });
    const error = await rejection(clock, broker.connect());
    expect(error).toBeInstanceOf(IbkrConfigError);
    expect(error).toMatchObject({ code: "BROKER_NOT_CONFIGURED", field: "account", retryable: false });
    expect(error.message).toMatch(/DU9999999 is not one of this login's managed accounts \(DU1234567\)/);
    await advance(clock, 10 * 60_000, 10_000);
    expect(tws.stats.sessions).toBe(1);
    expect(broker.isConnected()).toBe(false);
  });

  it("asks for the account option when the login manages several, and trades the one chosen", async () => {
    const { clock, tws, broker } = await setup({ connect: false, tws: { accounts: ["DU111", "DU222"] } });
    const error = await rejection(clock, broker.connect());
    expect(error).toBeInstanceOf(IbkrConfigError);
    expect(error.message).toMatch(/manages 2 accounts \(DU111, DU222\); set the account option/);
    const chosen = new IbkrBroker(brokerOptions(clock, tws.port, { account: "DU222", clientId: 8 }));
    cleanups.push(() => chosen.disconnect());
    await settle(clock, chosen.connect());
    expect((await settle(clock, chosen.getAccount())).id).toBe("DU222");
    const req = order({ symbol: "AAPL", side: "buy", qty: 1, type: "limit", limitPrice: 1 });
    await settle(clock, chosen.submitOrder(req));
    expect(tws.ordersWithRef(req.clientOrderId)[0]?.account).toBe("DU222");
  });

  it("reports the account summary with decimal amounts", async () => {
    const { clock, tws, broker } = await setup({ tws: { initialCash: "25000.50" } });
    tws.setPrice("KO", "60.25");
    await settle(clock, broker.submitOrder(order({ symbol: "KO", side: "buy", qty: 10 })));
    expect(await settle(clock, broker.getAccount())).toEqual({
      id: "DU1234567",
      currency: "USD",
      cash: "24398",
      buyingPower: "24398",
      equity: "25000.5",
      status: "ACTIVE",
    });
  });
});
