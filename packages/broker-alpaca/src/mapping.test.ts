import { parseOrderIntent } from "@tradecron/core";
import { describe, expect, it } from "vitest";
import { isDuplicateClientOrderId, retryAfterMs } from "./errors.js";
import { brokerOrder, brokerPosition, instantKey, orderBody, orderStatus } from "./mapping.js";

describe("intent to Alpaca order body", () => {
  it("maps every field, a bracket included", () => {
    const intent = parseOrderIntent({
      symbol: "aapl",
      side: "buy",
      qty: "10",
      type: "limit",
      limitPrice: 189.5,
      timeInForce: "day",
      extendedHours: true,
      bracket: { takeProfit: { limitPrice: "200" }, stopLoss: { stopPrice: "180", limitPrice: "179.5" } },
    });
    expect(orderBody(intent, "tc-1")).toEqual({
      symbol: "AAPL",
      side: "buy",
      type: "limit",
      time_in_force: "day",
      client_order_id: "tc-1",
      qty: "10",
      limit_price: "189.5",
      extended_hours: true,
      order_class: "bracket",
      take_profit: { limit_price: "200" },
      stop_loss: { stop_price: "180", limit_price: "179.5" },
    });
    const trailing = orderBody(
      parseOrderIntent({ symbol: "X", side: "sell", qty: 1, type: "trailing_stop", trailPercent: 2 }),
      "t",
    );
    expect(trailing).toMatchObject({ type: "trailing_stop", trail_percent: "2" });
    expect(orderBody(parseOrderIntent({ symbol: "X", side: "buy", notional: "1500" }), "n")).toMatchObject({
      notional: "1500",
    });
  });
});

describe("Alpaca to core", () => {
  it("folds Alpaca's statuses into core's", () => {
    expect(orderStatus("held", "0", "1")).toBe("accepted");
    expect(orderStatus("accepted_for_bidding", "0", "1")).toBe("accepted");
    expect(orderStatus("stopped", "2", "5")).toBe("partially_filled");
    expect(orderStatus("pending_replace", "0", "5")).toBe("new");
    expect(orderStatus("calculated", "5", "5")).toBe("filled");
    expect(orderStatus("calculated", "2", "5")).toBe("done_for_day");
    expect(orderStatus("filled", "5", "5")).toBe("filled");
  });

  it("maps an order with its legs, and negative short positions", () => {
    const order = brokerOrder(
      {
        id: "o1",
        client_order_id: "tch-abc",
        created_at: "2026-01-05T14:30:00.123456789Z",
        updated_at: "2026-01-05T14:30:01Z",
        symbol: "AAPL",
        side: "buy",
        type: "limit",
        time_in_force: "gtc",
        qty: "2.50",
        filled_qty: "0",
        limit_price: "150.00",
        status: "new",
        legs: [
          {
            id: "l1",
            client_order_id: "leg",
            created_at: "2026-01-05T14:30:00Z",
            symbol: "AAPL",
            side: "sell",
            type: "limit",
            time_in_force: "gtc",
            status: "held",
            qty: "2.5",
          },
        ],
      },
      (w) => (w === "tch-abc" ? "the-original-long-id" : w),
    );
    expect(order).toMatchObject({
      clientOrderId: "the-original-long-id",
      qty: "2.5",
      limitPrice: "150",
      submittedAt: 1767623400123,
    });
    expect(order.legs[0]).toMatchObject({ id: "l1", status: "accepted" });
    expect(Object.isFrozen(order)).toBe(true);
    expect(
      brokerPosition({ symbol: "X", qty: "5", side: "short", avg_entry_price: "1", market_value: null }).qty,
    ).toBe("-5");
    expect(
      brokerPosition({ symbol: "X", qty: "-5", side: "short", avg_entry_price: "1", market_value: "-5" }).qty,
    ).toBe("-5");
  });

  it("orders time stamps to the nanosecond", () => {
    expect(instantKey("2026-01-05T14:30:00.000000002Z") > instantKey("2026-01-05T14:30:00.000000001Z")).toBe(
      true,
    );
    expect(instantKey("2026-01-05T09:30:00-05:00")).toBe(instantKey("2026-01-05T14:30:00Z"));
    expect(instantKey("garbage")).toBe(0n);
  });
});

describe("reading Alpaca's errors", () => {
  it("recognises the duplicate client order id refusal in its reported wordings", () => {
    for (const message of [
      "client_order_id must be unique",
      "client order id must be unique",
      "Client Order ID already exists",
    ]) {
      expect(isDuplicateClientOrderId(422, { code: 40010001, message })).toBe(true);
    }
    expect(isDuplicateClientOrderId(422, { code: 42210000, message: "qty must be > 0" })).toBe(false);
    expect(isDuplicateClientOrderId(403, { code: 40310000, message: "client_order_id must be unique" })).toBe(
      false,
    );
  });

  it("computes the wait of a 429 from X-RateLimit-Reset, then Retry-After, then one second", () => {
    const now = 1_767_623_400_000;
    expect(retryAfterMs(new Headers({ "x-ratelimit-reset": String(now / 1000 + 7) }), now)).toBe(7_000);
    expect(retryAfterMs(new Headers({ "retry-after": "3" }), now)).toBe(3_000);
    expect(retryAfterMs(new Headers({ "x-ratelimit-reset": String(now / 1000 - 5) }), now)).toBe(1_000);
    expect(retryAfterMs(new Headers(), now)).toBe(1_000);
  });
});
