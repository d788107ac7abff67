import { clientOrderId, parseOrderIntent } from "@tradecron/core";
import { afterEach, describe, expect, it } from "vitest";
import { fakeAndBroker } from "./helpers.js";
import { journalViolations, specViolations } from "./openapi.js";

const run = `spec-${Date.now()}`;
let n = 0;
const req = (intent: Parameters<typeof parseOrderIntent>[0]) => ({
  clientOrderId: clientOrderId(run, n++),
  intent: parseOrderIntent(intent),
});

let close: () => Promise<void> = async () => {};
afterEach(() => close());

describe("Alpaca's OpenAPI spec", () => {
  it("accepts every request the adapter sends and every answer the fake gives, across all endpoints and errors", async () => {
    const ctx = await fakeAndBroker();
    close = ctx.close;
    const { fake, broker } = ctx;
    fake.setPrice("AAPL", "187.31");
    await broker.connect();
    await broker.getAccount();
    await broker.submitOrder(req({ symbol: "AAPL", side: "buy", qty: "3", type: "market" }));
    await broker.submitOrder(req({ symbol: "AAPL", side: "buy", notional: "500", type: "market" }));
    const resting = await broker.submitOrder(
      req({ symbol: "AAPL", side: "buy", qty: "1", type: "limit", limitPrice: "1.5", timeInForce: "gtc" }),
    );
    await broker.submitOrder(
      req({ symbol: "AAPL", side: "buy", qty: "1", type: "stop_limit", stopPrice: "300", limitPrice: "301" }),
    );
    await broker.submitOrder(
      req({ symbol: "AAPL", side: "sell", qty: "1", type: "trailing_stop", trailPercent: "5" }),
    );
    await broker.submitOrder(
      req({
        symbol: "AAPL",
        side: "buy",
        qty: "1",
        type: "limit",
        limitPrice: "2",
        extendedHours: true,
        bracket: { takeProfit: { limitPrice: "3" }, stopLoss: { stopPrice: "1", limitPrice: "0.9" } },
      }),
    );
    const dup = req({ symbol: "AAPL", side: "buy", qty: "1", type: "limit", limitPrice: "1" });
    await broker.submitOrder(dup);
    fake.faults.inject({ kind: "error_after_accept", route: "postOrder" });
    await broker.submitOrder(req({ symbol: "AAPL", side: "buy", qty: "1", type: "limit", limitPrice: "1" }));
    await expect(broker.submitOrder(req({ symbol: "ZZZZQ", side: "buy", qty: "1" }))).rejects.toThrow(
      /not found/,
    );
    await expect(broker.submitOrder(req({ symbol: "AAPL", side: "buy", qty: "100000" }))).rejects.toThrow(
      /buying power/,
    );
    await broker.getOpenOrders();
    await broker.getPositions();
    await broker.getOrder({ id: resting.id });
    await broker.getOrder({ clientOrderId: dup.clientOrderId });
    expect(await broker.getOrder({ clientOrderId: "unknown-id" })).toBeNull();
    expect(await broker.getOrder({ id: "6f1d1b1e-0000-4000-8000-000000000000" })).toBeNull();
    await broker.cancelOrder(resting.id);
    await broker.cancelOrder(resting.id); // already final: 422
    await broker.cancelAllOrders();
    await broker.getClock();
    await broker.getCalendar({ start: "2026-01-01", end: "2026-01-31" });
    fake.faults.inject({ kind: "rate_limited", resetInMs: 50 });
    await expect(broker.getAccount()).rejects.toThrow(/rate limited/);
    await broker.reconcile();

    const { checked, violations } = journalViolations(fake.journal);
    expect(violations).toEqual([]);
    const routes = new Set(fake.journal.map((e) => `${e.method} ${e.route} ${e.status}`));
    // The workload reached every endpoint and the error answers it claims to.
    for (const r of [
      "GET getAccount 200",
      "POST postOrder 200",
      "POST postOrder 403",
      "POST postOrder 422",
      "POST postOrder 500",
      "GET getAllOrders 200",
      "GET getPositions 200",
      "GET getOrderByOrderID 200",
      "GET getOrderByOrderID 404",
      "GET getOrderByClientOrderId 200",
      "GET getOrderByClientOrderId 404",
      "DELETE deleteOrderByOrderID 204",
      "DELETE deleteOrderByOrderID 422",
      "DELETE deleteAllOrders 207",
      "GET getClock 200",
      "GET getCalendar 200",
      "GET getAccount 429",
    ]) {
      expect(routes, r).toContain(r);
    }
    expect(checked).toBeGreaterThan(25);
  });

  it("catches a request or an answer that breaks the spec", () => {
    const ok = {
      method: "GET",
      path: "/v2/orders",
      query: { status: "open", limit: "500" },
      body: null,
      status: 200,
      response: [],
    };
    expect(specViolations(ok)).toEqual([]);
    expect(specViolations({ ...ok, query: { status: "opened" } }).join()).toMatch(/status/);
    expect(specViolations({ ...ok, query: { colour: "red" } }).join()).toMatch(/colour/);
    expect(
      specViolations({
        ...ok,
        response: [{ id: "x", type: "market", time_in_force: "day", notional: 1 }],
      }).join(),
    ).toMatch(/notional|uuid/);
    expect(
      specViolations({
        ...ok,
        response: [{ type: "market", time_in_force: "day", notional: null, status: "bogus" }],
      }).join(),
    ).toMatch(/status/);
    const post = {
      ...ok,
      method: "POST",
      query: {},
      body: { symbol: "AAPL", side: "buy", type: "market", time_in_force: "day", qty: 1 },
    };
    expect(specViolations(post).join()).toMatch(/qty/);
    expect(specViolations({ ...post, body: { ...post.body, qty: "1", type: "fancy" } }).join()).toMatch(
      /type/,
    );
    expect(specViolations({ ...ok, status: 422, response: { message: "no code" } }).join()).toMatch(/code/);
    expect(specViolations({ ...ok, path: "/v2/nowhere" }).join()).toMatch(/not an operation/);
  });
});
