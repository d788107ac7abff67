import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  BrokerRateLimitedError,
  BrokerRejectedError,
  BrokerUnavailableError,
  clientOrderId,
  parseOrderIntent,
} from "@tradecron/core";
import { afterEach, describe, expect, it } from "vitest";
import { AlpacaBroker } from "../src/index.js";
import type { HttpFaultKind } from "../src/testing/index.js";
import { fakeAndBroker, quickOptions } from "./helpers.js";

const run = `submit-${Date.now()}`;
let n = 0;
const resting = () => ({
  clientOrderId: clientOrderId(run, n++),
  intent: parseOrderIntent({
    symbol: "AAPL",
    side: "buy",
    qty: "1",
    type: "limit",
    limitPrice: "5",
    timeInForce: "gtc",
  }),
});

let close: () => Promise<void> = async () => {};
afterEach(() => close());

async function setup() {
  const ctx = await fakeAndBroker({ requestTimeoutMs: 200 });
  close = ctx.close;
  await ctx.broker.connect();
  return ctx;
}

/** The requests the adapter made for one client order id, as `route:status`. */
function trail(
  journal: readonly { route: string | null; body: unknown; query: Record<string, string>; status: number }[],
  id: string,
) {
  return journal
    .filter(
      (e) =>
        (e.body as { client_order_id?: string } | null)?.client_order_id === id ||
        e.query.client_order_id === id,
    )
    .map((e) => `${e.route}:${e.status}`);
}

describe("idempotent submission", () => {
  const absorbed: [HttpFaultKind, string[]][] = [
    ["accept_then_timeout", ["postOrder:0", "getOrderByClientOrderId:200"]],
    ["accept_then_reset", ["postOrder:0", "getOrderByClientOrderId:200"]],
    ["error_after_accept", ["postOrder:500", "getOrderByClientOrderId:200"]],
    ["unavailable", ["postOrder:503", "getOrderByClientOrderId:404", "postOrder:200"]],
    ["timeout", ["postOrder:0", "getOrderByClientOrderId:404", "postOrder:200"]],
    ["reset", ["postOrder:0", "getOrderByClientOrderId:404", "postOrder:200"]],
  ];
  for (const [kind, expected] of absorbed) {
    it(`after ${kind} it looks the order up before any second POST, and ends with exactly one order`, async () => {
      const { fake, broker } = await setup();
      const req = resting();
      fake.faults.inject({ kind, route: "postOrder" });
      const order = await broker.submitOrder(req);
      expect(order.clientOrderId).toBe(req.clientOrderId);
      expect(fake.orders().filter((o) => o.client_order_id === req.clientOrderId)).toHaveLength(1);
      expect(trail(fake.journal, req.clientOrderId)).toEqual(expected);
    });
  }

  it("throws a retryable error when the lookup fails too, and the retry finds the order placed before", async () => {
    const { fake, broker } = await setup();
    const req = resting();
    fake.faults.inject({ kind: "accept_then_timeout", route: "postOrder" });
    fake.faults.inject({ kind: "unavailable", route: "getOrderByClientOrderId" });
    const error = await broker.submitOrder(req).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect((error as BrokerUnavailableError).message).toMatch(/submitting it again is safe/);
    const order = await broker.submitOrder(req);
    expect(fake.orders().filter((o) => o.client_order_id === req.clientOrderId)).toHaveLength(1);
    expect(trail(fake.journal, req.clientOrderId)).toEqual([
      "postOrder:0",
      "getOrderByClientOrderId:503",
      "postOrder:422", // Alpaca refuses the second submit: client_order_id must be unique
      "getOrderByClientOrderId:200",
    ]);
    expect(order.id).toBe(fake.order({ clientOrderId: req.clientOrderId })?.id);
  });

  it("answers a 429 with BrokerRateLimitedError and places nothing", async () => {
    const { fake, broker } = await setup();
    const req = resting();
    fake.faults.inject({ kind: "rate_limited", route: "postOrder", resetInMs: 3_000 });
    const error = await broker.submitOrder(req).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerRateLimitedError);
    const wait = (error as BrokerRateLimitedError).retryAfterMs;
    expect(wait).toBeGreaterThan(1_500); // from X-RateLimit-Reset (Unix seconds), ~3 s ahead
    expect(wait).toBeLessThanOrEqual(4_100);
    expect(fake.orders()).toHaveLength(0);
    expect(trail(fake.journal, req.clientOrderId)).toEqual(["postOrder:429"]);
  });

  it("gives up with a retryable error after three submits with unknown outcome, having placed at most one order", async () => {
    const { fake, broker } = await setup();
    const req = resting();
    fake.faults.inject({ kind: "reset", route: "postOrder", count: 3 });
    await expect(broker.submitOrder(req)).rejects.toBeInstanceOf(BrokerUnavailableError);
    expect(fake.orders()).toHaveLength(0);
    expect(trail(fake.journal, req.clientOrderId).filter((s) => s.startsWith("postOrder"))).toHaveLength(3);
    await broker.submitOrder(req);
    expect(fake.orders()).toHaveLength(1);
  });

  it("does not send a request that cannot reach Alpaca twice: a refused connection fails at once", async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((r) => server.close(() => r())); // nothing listens there now
    const broker = new AlpacaBroker({
      ...quickOptions({
        url: `http://127.0.0.1:${port}`,
        streamUrl: `ws://127.0.0.1:${port}/stream`,
      } as never),
      updates: "none",
    });
    await expect(broker.connect()).rejects.toMatchObject({
      code: "BROKER_UNAVAILABLE",
      details: { sent: false },
    });
    expect(broker.isConnected()).toBe(false);
  });

  it("finds the order when another process placed it first (422 unique, then lookup)", async () => {
    const { fake, broker } = await setup();
    const other = new AlpacaBroker(quickOptions(fake, { updates: "none" }));
    await other.connect();
    const req = resting();
    const first = await other.submitOrder(req);
    const second = await broker.submitOrder(req);
    expect(second.id).toBe(first.id);
    expect(broker.health().submits.duplicatesRefused).toBe(1);
    expect(fake.orders()).toHaveLength(1);
    await other.disconnect();
  });

  it("turns concurrent submits of one id from two processes into one order", async () => {
    const { fake, broker } = await setup();
    const other = new AlpacaBroker(quickOptions(fake, { updates: "none" }));
    await other.connect();
    const req = resting();
    const results = await Promise.all([
      ...Array.from({ length: 10 }, () => broker.submitOrder(req)),
      ...Array.from({ length: 10 }, () => other.submitOrder(req)),
    ]);
    expect(new Set(results.map((o) => o.id)).size).toBe(1);
    expect(fake.orders()).toHaveLength(1);
    await other.disconnect();
  });

  it("rejects a malformed request before any POST, naming the field", async () => {
    const { fake, broker } = await setup();
    const error = await broker
      .submitOrder({ clientOrderId: "x", intent: { symbol: "AAPL", side: "buy", qty: "-1" } as never })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerRejectedError);
    expect((error as BrokerRejectedError).field).toBe("intent.qty");
    expect(fake.journal.filter((e) => e.route === "postOrder")).toHaveLength(0);
  });

  it("keeps Alpaca's code and message for business refusals (403 buying power, 422 validation)", async () => {
    const { fake, broker } = await setup();
    const poor = await broker
      .submitOrder({
        clientOrderId: "poor-1",
        intent: parseOrderIntent({ symbol: "AAPL", side: "buy", qty: 1e7, type: "limit", limitPrice: 10 }),
      })
      .catch((e: unknown) => e);
    expect(poor).toBeInstanceOf(BrokerRejectedError);
    expect((poor as BrokerRejectedError).details).toMatchObject({
      status: 403,
      alpacaCode: 40310000,
      alpacaMessage: "insufficient buying power",
    });
    const sell = await broker
      .submitOrder({
        clientOrderId: "sell-1",
        intent: parseOrderIntent({ symbol: "AAPL", side: "sell", qty: 5, type: "limit", limitPrice: 10 }),
      })
      .catch((e: unknown) => e);
    expect((sell as BrokerRejectedError).details).toMatchObject({ status: 403, alpacaCode: 40310000 });
    expect((sell as Error).message).toMatch(/insufficient qty available/);
    const unknown = await broker
      .submitOrder({
        clientOrderId: "unknown-1",
        intent: parseOrderIntent({ symbol: "ZZZZQ", side: "buy", qty: 1 }),
      })
      .catch((e: unknown) => e);
    expect((unknown as BrokerRejectedError).details).toMatchObject({ status: 422 });
    expect((unknown as BrokerRejectedError).retryable).toBe(false);
    expect(fake.orders()).toHaveLength(0);
  });
});
