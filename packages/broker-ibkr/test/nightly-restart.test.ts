import { BrokerUnavailableError } from "@tradecron/core";
import { describe, expect, it } from "vitest";
import { IbkrBroker } from "../src/index.js";
import { advance, brokerOptions, cleanupsPerTest, order, rejection, settle, until } from "./helpers.js";

const { cleanups, setup } = cleanupsPerTest();

describe("the nightly restart", () => {
  it("fails calls as unavailable while TWS is down, reconnects with growing backoff, and places the next order above every id it saw", async () => {
    const { clock, tws, broker, errors } = await setup({
      broker: { reconnect: { baseMs: 1_000, factor: 2, maxMs: 60_000, jitter: 0 } },
    });
    tws.setPrice("AAPL", "190");
    const changes: boolean[] = [];
    broker.onConnectionChange((c) => changes.push(c));
    const resting = order({
      symbol: "AAPL",
      side: "buy",
      qty: 1,
      type: "limit",
      limitPrice: 150,
      timeInForce: "gtc",
    });
    const filled = order({ symbol: "AAPL", side: "buy", qty: 2 });
    const before = [
      await settle(clock, broker.submitOrder(resting)),
      await settle(clock, broker.submitOrder(filled)),
    ];
    expect(tws.orders().map((o) => o.orderId)).toEqual([1, 2]);

    await tws.goDown();
    await until(clock, () => !broker.isConnected(), { what: "noticing the drop" });
    const during = order({ symbol: "AAPL", side: "buy", qty: 1 });
    const error = await rejection(clock, broker.submitOrder(during));
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect((error as BrokerUnavailableError).retryable).toBe(true);
    expect(error.message).toMatch(/reconnecting to TWS/);

    // TWS restarts for five minutes (test time): the adapter keeps trying, backing off to a minute.
    await advance(clock, 5 * 60_000);
    const attempts = errors.filter((e) => e.context.includes("reconnecting to TWS")).map((e) => e.at);
    const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] as number));
    expect(attempts.length).toBeGreaterThanOrEqual(8);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThanOrEqual(gaps[i - 1] as number);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(61_000);
    expect(Math.max(...gaps)).toBeGreaterThanOrEqual(59_000);

    await tws.comeUp({ rollBackIds: true, newDay: true });
    await until(clock, () => broker.isConnected(), { what: "the reconnect" });
    expect(changes).toEqual([false, true]);
    expect(tws.clientIds()).toEqual([7]);

    // nextValidId came back as 1; ids 1 and 2 are taken: the next order gets 3, nothing is modified.
    const after = await settle(clock, broker.submitOrder(during));
    expect(tws.ordersWithRef(during.clientOrderId).map((o) => o.orderId)).toEqual([3]);
    expect(tws.stats.modified).toBe(0);
    expect(tws.stats.duplicateIds).toBe(0);
    expect(after.status).toBe("filled");

    // The orders from before the restart are found, not placed again.
    const placed = tws.stats.placed;
    expect((await settle(clock, broker.submitOrder(resting))).id).toBe(before[0]?.id);
    expect((await settle(clock, broker.submitOrder(filled))).id).toBe(before[1]?.id);
    expect(tws.stats.placed).toBe(placed);
    expect((await settle(clock, broker.getOrder({ clientOrderId: filled.clientOrderId })))?.status).toBe(
      "filled",
    );
  });

  it("keeps to its backoff when the host calls connect() every ten seconds during the restart, and never blocks it long", async () => {
    const { clock, tws, broker, errors } = await setup({
      broker: { reconnect: { baseMs: 1_000, factor: 2, maxMs: 60_000, jitter: 0 } },
    });
    await tws.goDown();
    await until(clock, () => !broker.isConnected());
    // What the Scheduler's maintenance does while the broker is down.
    for (let i = 0; i < 18; i++) {
      const started = clock.now();
      const error = await rejection(clock, broker.connect());
      expect(error.message).toMatch(/reconnecting to TWS/);
      expect(clock.now() - started).toBeLessThanOrEqual(5_250);
      await advance(clock, 10_000 - (clock.now() - started));
    }
    const attempts = errors.filter((e) => e.context.includes("reconnecting to TWS")).map((e) => e.at);
    const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] as number));
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThanOrEqual(gaps[i - 1] as number);
    expect(attempts.length).toBeLessThanOrEqual(9); // 3 minutes of backoff, not 18 forced attempts
    await tws.comeUp();
    await until(clock, () => broker.isConnected(), { what: "the reconnect" });
    await settle(clock, broker.connect());
  });

  it("lets a restarted process find earlier orders only among completed orders, and skips ids IB still holds (103)", async () => {
    const { clock, tws, broker } = await setup();
    tws.setPrice("MSFT", "410");
    const earlier = [
      order({ symbol: "MSFT", side: "buy", qty: 1 }),
      order({ symbol: "MSFT", side: "buy", qty: 2 }),
      order({ symbol: "MSFT", side: "buy", qty: 1, type: "limit", limitPrice: 100 }), // a day order
    ];
    const placed = [];
    for (const req of earlier) placed.push(await settle(clock, broker.submitOrder(req)));
    // Our process dies; overnight TWS restarts: day orders expire, executions are forgotten, ids roll back.
    await broker.disconnect();
    await tws.restart({ rollBackIds: true, newDay: true });
    expect(tws.exchange.openOrders()).toEqual([]);

    const fresh = new IbkrBroker(brokerOptions(clock, tws.port));
    cleanups.push(() => fresh.disconnect());
    await settle(clock, fresh.connect());
    for (const [i, req] of earlier.entries()) {
      const found = await settle(clock, fresh.submitOrder(req));
      expect(found.id).toBe(placed[i]?.id);
    }
    expect(
      (await settle(clock, fresh.getOrder({ clientOrderId: earlier[2]?.clientOrderId as string })))?.status,
    ).toBe("canceled");
    expect(tws.stats.placed).toBe(3);

    // The fresh process knows no order ids (completed orders carry none): IB refuses 1 and 2 as
    // duplicates, and the order goes out once, under a free id.
    const next = order({ symbol: "MSFT", side: "sell", qty: 1 });
    await settle(clock, fresh.submitOrder(next));
    const mine = tws.ordersWithRef(next.clientOrderId);
    expect(mine).toHaveLength(1);
    expect(mine[0]?.orderId).toBeGreaterThan(3);
    expect(tws.stats.duplicateIds).toBeGreaterThanOrEqual(2);
    expect(tws.stats.modified).toBe(0);
  });

  it("finds the order after a restart between placeOrder and its openOrder, instead of placing it again", async () => {
    const { clock, tws, broker } = await setup();
    tws.setPrice("AAPL", "190");
    const req = order({
      symbol: "AAPL",
      side: "buy",
      qty: 3,
      type: "limit",
      limitPrice: 100,
      timeInForce: "gtc",
    });
    tws.restartAfterNextOrder();
    const error = await rejection(clock, broker.submitOrder(req));
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect(error.message).toMatch(/may have reached TWS/);
    expect(tws.ordersWithRef(req.clientOrderId)).toHaveLength(1); // TWS did take it

    await advance(clock, 90_000); // down for a minute and a half
    await tws.comeUp({ rollBackIds: true, newDay: false });
    await until(clock, () => broker.isConnected(), { what: "the reconnect" });
    const retried = await settle(clock, broker.submitOrder(req));
    expect(tws.ordersWithRef(req.clientOrderId)).toHaveLength(1);
    expect(retried.id).toBe(String(tws.ordersWithRef(req.clientOrderId)[0]?.permId));
    expect(retried.status).toBe("new");
  });

  it("keeps the same client id across reconnects, so its own orders stay cancellable", async () => {
    const { clock, tws, broker } = await setup({ broker: { reconnect: { baseMs: 500, jitter: 0 } } });
    const req = order({
      symbol: "AAPL",
      side: "buy",
      qty: 1,
      type: "limit",
      limitPrice: 1,
      timeInForce: "gtc",
    });
    const placed = await settle(clock, broker.submitOrder(req));
    for (let i = 0; i < 3; i++) {
      tws.dropConnections();
      await until(clock, () => !broker.isConnected());
      await until(clock, () => broker.isConnected(), { what: `reconnect ${i + 1}` });
    }
    expect(tws.stats.sessions).toBe(4);
    expect(tws.clientIds()).toEqual([7]);
    const cancelled = await settle(clock, broker.cancelOrder(placed.id));
    expect(cancelled?.status).toBe("canceled");
  });

  it("ends a half-open session when the heartbeat goes unanswered, and reconnects", async () => {
    const { clock, tws, broker } = await setup({
      broker: {
        heartbeatMs: 30_000,
        timeouts: { requestMs: 10_000 },
        reconnect: { baseMs: 1_000, jitter: 0 },
      },
    });
    const changes: boolean[] = [];
    broker.onConnectionChange((c) => changes.push(c));
    tws.stallConnections(); // the socket stays open; TWS never answers it again
    await until(clock, () => !broker.isConnected(), { what: "the heartbeat timeout" });
    expect(clock.now() - Date.parse("2026-01-05T14:30:00Z")).toBeGreaterThanOrEqual(40_000);
    await until(clock, () => broker.isConnected(), { what: "the reconnect" });
    expect(changes).toEqual([false, true]);
    expect(tws.stats.sessions).toBe(2);
    await settle(clock, broker.getAccount());
  });

  it("retries while the client id is still held by a dead connection (326), and connects once it is free", async () => {
    const { clock, tws, broker: holder } = await setup();
    const second = new IbkrBroker(
      brokerOptions(clock, tws.port, { reconnect: { baseMs: 1_000, jitter: 0 } }),
    );
    cleanups.push(() => second.disconnect());
    const error = await rejection(clock, second.connect());
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect(error.message).toMatch(/client id 7 is already in use/);
    await advance(clock, 5_000);
    expect(second.isConnected()).toBe(false);
    await settle(clock, holder.disconnect());
    await until(clock, () => second.isConnected(), { what: "connecting once the id is free" });
  });
});
