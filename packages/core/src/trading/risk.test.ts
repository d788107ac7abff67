import { describe, expect, it } from "vitest";
import {
  type BrokerOrder,
  type BrokerPosition,
  BrokerRateLimitedError,
  BrokerUnavailableError,
} from "../broker/broker.js";
import { Decimal } from "../orders/decimal.js";
import { parseOrderIntent } from "../orders/intent.js";
import { DEFAULT_RETRY } from "../schedule/policies.js";
import { isRetryable } from "../scheduler/retry.js";
import { evaluateRisk, intentNotional, parseRiskLimits, type RiskContext, rulesFromLimits } from "./risk.js";

function context(
  overrides: Partial<Omit<RiskContext, "intent" | "positions">> & {
    intent?: unknown;
    positions?: BrokerPosition[];
  } = {},
): RiskContext {
  const { intent: rawIntent, positions = [], ...rest } = overrides;
  const intent = parseOrderIntent(rawIntent ?? { symbol: "AAPL", side: "buy", qty: 10, referencePrice: 190 });
  return {
    scheduleId: "s",
    notional: intentNotional(intent, intent.referencePrice ?? null),
    dailyNotional: async () => new Decimal(0),
    brokerConnected: true,
    account: async () => null,
    openOrders: async () => [] as BrokerOrder[],
    marketOpen: async () => true,
    now: 0,
    ...rest,
    intent,
    positions: async () => positions,
  };
}

const rules = (limits: unknown) => rulesFromLimits(parseRiskLimits(limits));

describe("risk guard rules", () => {
  it("passes an order within every limit", async () => {
    const outcome = await evaluateRisk(
      rules({ maxOrderNotional: 5000, maxDailyNotional: 10_000, minConfidence: 0.5, allowSymbols: ["aapl"] }),
      context({ intent: { symbol: "AAPL", side: "buy", qty: 10, referencePrice: 190, confidence: 0.7 } }),
    );
    expect(outcome).toEqual({ ok: true });
  });

  it("rejects the first rule broken, naming it and saying why", async () => {
    const outcome = await evaluateRisk(rules({ maxOrderNotional: "1000" }), context());
    expect(outcome).toEqual({
      ok: false,
      rule: "max_order_notional",
      reason: "notional 1900.00 exceeds the per-order maximum 1000",
    });
  });

  it("counts what was already traded today against the daily maximum", async () => {
    const ctx = context({ dailyNotional: async () => new Decimal("9000") });
    expect(await evaluateRisk(rules({ maxDailyNotional: 10_000 }), ctx)).toMatchObject({
      rule: "max_daily_notional",
    });
  });

  it("fails safe when a notional limit is set but the order cannot be valued", async () => {
    const ctx = context({ intent: { symbol: "AAPL", side: "buy", qty: 10 } });
    expect(await evaluateRisk(rules({ maxOrderNotional: 1e9 }), ctx)).toMatchObject({
      ok: false,
      rule: "max_order_notional",
    });
  });

  it("applies minimum confidence, symbol lists and the maximum risk level", async () => {
    expect(await evaluateRisk(rules({ minConfidence: 0.6 }), context())).toMatchObject({
      rule: "min_confidence",
    });
    expect(await evaluateRisk(rules({ denySymbols: ["AAPL"] }), context())).toMatchObject({
      rule: "deny_symbols",
    });
    expect(await evaluateRisk(rules({ allowSymbols: ["MSFT"] }), context())).toMatchObject({
      rule: "allow_symbols",
    });
    const high = context({ intent: { symbol: "AAPL", side: "buy", qty: 1, riskLevel: "high" } });
    expect(await evaluateRisk(rules({ maxRiskLevel: "medium" }), high)).toMatchObject({
      rule: "max_risk_level",
    });
  });

  it("limits new positions but lets existing ones be added to or reduced", async () => {
    const held = (symbol: string): BrokerPosition => ({
      symbol,
      qty: "1",
      side: "long",
      avgEntryPrice: "1",
      marketValue: null,
    });
    const two = [held("MSFT"), held("NVDA")];
    expect(await evaluateRisk(rules({ maxOpenPositions: 2 }), context({ positions: two }))).toMatchObject({
      rule: "max_open_positions",
    });
    const adding = context({ positions: [...two, held("AAPL")] });
    expect(await evaluateRisk(rules({ maxOpenPositions: 2 }), adding)).toEqual({ ok: true });
  });

  it("treats a disconnected broker as transient: a retryable BrokerUnavailableError naming the rule", async () => {
    const error = await evaluateRisk(rules({}), context({ brokerConnected: false })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect(error).toMatchObject({ retryable: true, details: { rule: "broker_connected" } });
    expect(isRetryable(error, DEFAULT_RETRY)).toBe(true);
  });

  it("rejects for good when no broker is configured (nothing to wait for)", async () => {
    expect(
      await evaluateRisk(rules({}), context({ brokerConnected: false, brokerConfigured: false })),
    ).toEqual({ ok: false, rule: "broker_connected", reason: "no broker is configured" });
  });

  it("passes on a retryable broker error a rule meets, instead of rejecting on it", async () => {
    const down = context({ account: async () => Promise.reject(new BrokerUnavailableError("timed out")) });
    const needsAccount = {
      name: "cash_buffer",
      async check(c: RiskContext) {
        await c.account();
        return { ok: true as const };
      },
    };
    await expect(evaluateRisk([needsAccount], down)).rejects.toBeInstanceOf(BrokerUnavailableError);
    const throttled = context({
      openOrders: async () => Promise.reject(new BrokerRateLimitedError("429", 1_000)),
    });
    await expect(evaluateRisk(rules({ maxOpenOrders: 5 }), throttled)).rejects.toBeInstanceOf(
      BrokerRateLimitedError,
    );
  });

  it("requires a connected broker by default and the market open when asked", async () => {
    expect(
      await evaluateRisk(rules({ requireBrokerConnection: false }), context({ brokerConnected: false })),
    ).toEqual({
      ok: true,
    });
    expect(
      await evaluateRisk(rules({ marketHoursOnly: true }), context({ marketOpen: async () => false })),
    ).toMatchObject({
      rule: "market_hours",
    });
  });

  it("skips the rules about the moment of submission when checking a proposal", async () => {
    const ctx = context({ brokerConnected: false, marketOpen: async () => false });
    const r = rules({ marketHoursOnly: true, maxOrderNotional: 5000 });
    expect(await evaluateRisk(r, ctx, "propose")).toEqual({ ok: true });
    await expect(evaluateRisk(r, ctx, "submit")).rejects.toBeInstanceOf(BrokerUnavailableError);
    expect(await evaluateRisk(r, { ...ctx, brokerConnected: true }, "submit")).toMatchObject({
      ok: false,
      rule: "market_hours",
    });
  });

  it("treats a custom rule that throws as a rejection", async () => {
    const outcome = await evaluateRisk(
      [
        {
          name: "pdt_check",
          check() {
            throw new Error("compliance service down");
          },
        },
      ],
      context(),
    );
    expect(outcome).toEqual({ ok: false, rule: "pdt_check", reason: "rule failed: compliance service down" });
  });

  it("rejects malformed limits naming the field", () => {
    expect(() => parseRiskLimits({ maxOrderNotional: "lots" })).toThrow(/risk\.maxOrderNotional/);
    expect(() => parseRiskLimits({ minConfidence: 2 })).toThrow(/risk\.minConfidence/);
  });
});
