import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  BrokerRateLimitedError,
  BrokerRejectedError,
  BrokerUnavailableError,
  clientOrderId,
  parseOrderIntent,
} from "@tradecron/core";
import { TestClock } from "@tradecron/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { AlpacaBroker, type AlpacaBrokerOptions } from "../src/index.js";
import type { FakeAlpaca, HttpFaultKind } from "../src/testing/index.js";
import { fakeAndBroker, quickOptions } from "./helpers.js";

/**
 * The adapter and the fake share a TestClock that stands still while requests are answered, so
 * no answered request can time out however loaded the machine is. {@link settle} moves it past
 * the request timeout once for every response the fake holds back (a timeout fault), and a few
 * milliseconds per real millisecond otherwise, for the adapter's own short waits: an answered
 * request would need a minute of real time to time out.
 */
const TIMEOUT_MS = 300_000; // the most the option allows
const STEP_MS = 5;
let clock = new TestClock("2026-01-05T15:00:00Z");
let fake: FakeAlpaca | null = null;

/** Options of a second adapter (another process) on the shared clock. */
const otherOptions = (f: FakeAlpaca): AlpacaBrokerOptions =>
  quickOptions(f, { updates: "none", clock, requestTimeoutMs: TIMEOUT_MS });

/** Runs `promise` to its end, moving the shared clock as described above. */
async function settle<T>(promise: Promise<T>): Promise<T> {
  const state = { done: false, jumped: fake?.responsesHeld ?? 0 };
  const mark = () => {
    state.done = true;
  };
  promise.then(mark, mark);
  while (!state.done) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    if (state.done) break;
    const held = fake?.responsesHeld ?? 0;
    if (held > state.jumped) {
      state.jumped = held;
      await clock.advance(TIMEOUT_MS);
    } else {
      await clock.advance(STEP_MS);
    }
  }
  return promise;
}

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
  clock = new TestClock("2026-01-05T15:00:00Z");
  const ctx = await fakeAndBroker({ updates: "none", clock, requestTimeoutMs: TIMEOUT_MS }, { clock });
  fake = ctx.fake;
  close = async () => {
    fake = null;
    await ctx.close();
  };
  await settle(ctx.broker.connect());
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
      const order = await settle(broker.submitOrder(req));
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
    const error = await settle(broker.submitOrder(req)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect((error as BrokerUnavailableError).message).toMatch(/submitting it again is safe/);
    const order = await settle(broker.submitOrder(req));
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
    const error = await settle(broker.submitOrder(req)).catch((e: unknown) => e);
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
    await expect(settle(broker.submitOrder(req))).rejects.toBeInstanceOf(BrokerUnavailableError);
    expect(fake.orders()).toHaveLength(0);
    expect(trail(fake.journal, req.clientOrderId).filter((s) => s.startsWith("postOrder"))).toHaveLength(3);
    await settle(broker.submitOrder(req));
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
    const other = new AlpacaBroker(otherOptions(fake));
    await settle(other.connect());
    const req = resting();
    const first = await settle(other.submitOrder(req));
    const second = await settle(broker.submitOrder(req));
    expect(second.id).toBe(first.id);
    expect(broker.health().submits.duplicatesRefused).toBe(1);
    expect(fake.orders()).toHaveLength(1);
    await other.disconnect();
  });

  it("turns concurrent submits of one id from two processes into one order", async () => {
    const { fake, broker } = await setup();
    const other = new AlpacaBroker(otherOptions(fake));
    await settle(other.connect());
    const req = resting();
    const results = await settle(
      Promise.all([
        ...Array.from({ length: 10 }, () => broker.submitOrder(req)),
        ...Array.from({ length: 10 }, () => other.submitOrder(req)),
      ]),
    );
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
    const poor = await settle(
      broker.submitOrder({
        clientOrderId: "poor-1",
        intent: parseOrderIntent({ symbol: "AAPL", side: "buy", qty: 1e7, type: "limit", limitPrice: 10 }),
      }),
    ).catch((e: unknown) => e);
    expect(poor).toBeInstanceOf(BrokerRejectedError);
    expect((poor as BrokerRejectedError).details).toMatchObject({
      status: 403,
      alpacaCode: 40310000,
      alpacaMessage: "insufficient buying power",
    });
    const sell = await settle(
      broker.submitOrder({
        clientOrderId: "sell-1",
        intent: parseOrderIntent({ symbol: "AAPL", side: "sell", qty: 5, type: "limit", limitPrice: 10 }),
      }),
    ).catch((e: unknown) => e);
    expect((sell as BrokerRejectedError).details).toMatchObject({ status: 403, alpacaCode: 40310000 });
    expect((sell as Error).message).toMatch(/insufficient qty available/);
    const unknown = await settle(
      broker.submitOrder({
        clientOrderId: "unknown-1",
        intent: parseOrderIntent({ symbol: "ZZZZQ", side: "buy", qty: 1 }),
      }),
    ).catch((e: unknown) => e);
    expect((unknown as BrokerRejectedError).details).toMatchObject({ status: 422 });
    expect((unknown as BrokerRejectedError).retryable).toBe(false);
    expect(fake.orders()).toHaveLength(0);
  });
});
