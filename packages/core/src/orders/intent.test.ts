import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { clientOrderId, parseOrderIntent } from "./intent.js";

function fieldOf(input: unknown): string | undefined {
  try {
    parseOrderIntent(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).field;
  }
  throw new Error("expected a ValidationError");
}

describe("order intents", () => {
  it("normalises a valid intent: upper-case symbol, exact decimal strings, defaults", () => {
    expect(
      parseOrderIntent({ symbol: "aapl", side: "buy", qty: 10.5, rationale: "breakout", confidence: 0.8 }),
    ).toEqual({
      symbol: "AAPL",
      side: "buy",
      qty: "10.5",
      type: "market",
      timeInForce: "day",
      extendedHours: false,
      riskLevel: "medium",
      rationale: "breakout",
      confidence: 0.8,
    });
    expect(
      parseOrderIntent({ symbol: "BRK.B", side: "sell", qty: "0.30", type: "limit", limitPrice: "412.10" }),
    ).toMatchObject({
      qty: "0.3",
      limitPrice: "412.1",
    });
  });

  it("rejects qty with notional, a negative qty, and neither", () => {
    expect(fieldOf({ symbol: "AAPL", side: "buy", qty: "1", notional: "100" })).toBe("notional");
    expect(fieldOf({ symbol: "AAPL", side: "buy", qty: "-1" })).toBe("qty");
    expect(fieldOf({ symbol: "AAPL", side: "buy" })).toBe("qty");
    expect(fieldOf({ symbol: "AAPL", side: "buy", qty: "abc" })).toBe("qty");
  });

  it("requires the prices each order type needs, and refuses the ones it does not take", () => {
    expect(fieldOf({ symbol: "AAPL", side: "buy", qty: 1, type: "limit" })).toBe("limitPrice");
    expect(fieldOf({ symbol: "AAPL", side: "buy", qty: 1, type: "stop" })).toBe("stopPrice");
    expect(fieldOf({ symbol: "AAPL", side: "buy", qty: 1, type: "stop_limit", stopPrice: 10 })).toBe(
      "limitPrice",
    );
    expect(fieldOf({ symbol: "AAPL", side: "buy", qty: 1, limitPrice: 10 })).toBe("limitPrice");
    expect(fieldOf({ symbol: "AAPL", side: "buy", qty: 1, type: "trailing_stop" })).toBe("trailPercent");
    expect(fieldOf({ symbol: "AAPL", side: "buy", notional: 100, type: "limit", limitPrice: 1 })).toBe(
      "notional",
    );
    expect(fieldOf({ symbol: "AAPL", side: "buy", qty: 1, extendedHours: true })).toBe("extendedHours");
  });

  it("rejects out-of-range metadata and unknown fields", () => {
    expect(fieldOf({ symbol: "AAPL", side: "buy", qty: 1, confidence: 1.5 })).toBe("confidence");
    expect(fieldOf({ symbol: "AAPL", side: "buy", qty: 1, riskLevel: "extreme" })).toBe("riskLevel");
    expect(fieldOf({ symbol: "AAPL", side: "hold", qty: 1 })).toBe("side");
    expect(() => parseOrderIntent({ symbol: "AAPL", side: "buy", qty: 1, leverage: 10 })).toThrow(/leverage/);
  });

  it("derives a deterministic client order id of at most 48 safe characters", () => {
    const a = clientOrderId("morning@2026-01-05T14:00:00.000Z", 0);
    expect(a).toMatch(/^[A-Za-z0-9_-]{1,48}$/);
    expect(clientOrderId("morning@2026-01-05T14:00:00.000Z", 0)).toBe(a);
    expect(clientOrderId("morning@2026-01-05T14:00:00.000Z", 1)).not.toBe(a);
    expect(clientOrderId("morning@2026-01-06T14:00:00.000Z", 0)).not.toBe(a);
  });
});

describe("an intent that is not an object", () => {
  it("is rejected naming the field 'intent'", () => {
    for (const bad of [null, undefined, "buy AAPL", 42]) {
      expect(() => parseOrderIntent(bad)).toThrow(expect.objectContaining({ field: "intent" }));
    }
  });
});
