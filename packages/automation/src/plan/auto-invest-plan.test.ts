import { Decimal } from "@tradecron/core";
import { describe, expect, it } from "vitest";
import { type AutoInvestRule, planAutoInvest, splitCents } from "./auto-invest-plan.js";

const rule = (over: Partial<AutoInvestRule>): AutoInvestRule => ({
  legs: [
    { symbol: "VTI", weight: "0.6" },
    { symbol: "BND", weight: "0.4" },
  ],
  mode: "amount",
  amount: "500",
  fractional: true,
  cap: null,
  minOrder: "1",
  quantityDecimals: 6,
  ...over,
});
const prices = (entries: Record<string, string | null>) =>
  new Map(Object.entries(entries).map(([k, v]) => [k, v === null ? null : new Decimal(v)]));

describe("splitCents", () => {
  it("splits to the cent and gives the leftover cents to the largest remainders", () => {
    const parts = splitCents(
      new Decimal("100"),
      ["1", "1", "1"].map((w) => new Decimal(w).div(3)),
    );
    expect(parts.map(String)).toEqual(["33.34", "33.33", "33.33"]);
    expect(splitCents(new Decimal("10.005"), [new Decimal("0.5"), new Decimal("0.5")]).map(String)).toEqual([
      "5",
      "5",
    ]);
  });
});

describe("planAutoInvest: amounts", () => {
  it("splits the amount by weight into notional buys", () => {
    const plan = planAutoInvest(rule({}), "0", prices({ VTI: "250", BND: "72.5" }));
    expect(plan.blocked).toBeNull();
    expect(plan.orders.map((o) => [o.symbol, o.notional, o.value])).toEqual([
      ["VTI", "300", "300"],
      ["BND", "200", "200"],
    ]);
    expect(plan.total).toBe("500");
  });

  it("cuts the last purchase to what the cap leaves, and then reports the cap reached", () => {
    const r = rule({ cap: "1200" });
    const last = planAutoInvest(r, "1000", prices({}));
    expect(last.partial).toBe(true);
    expect(last.budget).toBe("200");
    expect(last.orders.map((o) => o.notional)).toEqual(["120", "80"]);
    expect(last.capRemaining).toBe("0");
    const after = planAutoInvest(r, "1200", prices({}));
    expect(after).toMatchObject({ blocked: "cap_reached", orders: [], total: "0" });
    // Less than the minimum order left is as good as nothing.
    expect(planAutoInvest(r, "1199.5", prices({})).blocked).toBe("cap_reached");
  });

  it("never plans more than the cap, however the cents fall", () => {
    const r = rule({
      legs: [
        { symbol: "A", weight: "0.333" },
        { symbol: "B", weight: "0.333" },
        { symbol: "C", weight: "0.334" },
      ],
      amount: "100",
      cap: "1000.01",
    });
    for (const invested of ["0", "900", "900.02", "999", "999.99"]) {
      const plan = planAutoInvest(r, invested, prices({}));
      expect(new Decimal(plan.total).plus(invested).lte("1000.01")).toBe(true);
    }
  });

  it("buys whole shares at the price when fractional is off, and skips a leg a share is too dear for", () => {
    const plan = planAutoInvest(
      rule({ fractional: false, quantityDecimals: 0 }),
      "0",
      prices({ VTI: "250", BND: "210" }),
    );
    expect(plan.orders.map((o) => [o.symbol, o.qty, o.value])).toEqual([["VTI", "1", "250"]]);
    expect(plan.skipped).toEqual([
      expect.objectContaining({ symbol: "BND", reason: "below_minimum", detail: "200 buys no BND at 210" }),
    ]);
    expect(
      planAutoInvest(rule({ fractional: false }), "0", prices({ VTI: null, BND: "50" })).skipped[0],
    ).toMatchObject({ symbol: "VTI", reason: "no_price" });
  });

  it("skips a leg below the minimum order", () => {
    const plan = planAutoInvest(
      rule({
        amount: "20",
        minOrder: "5",
        legs: [
          { symbol: "VTI", weight: "0.8" },
          { symbol: "BND", weight: "0.2" },
        ],
      }),
      "0",
      prices({}),
    );
    expect(plan.orders.map((o) => o.symbol)).toEqual(["VTI"]);
    expect(plan.skipped[0]).toMatchObject({ symbol: "BND", reason: "below_minimum", value: "4" });
  });
});

describe("planAutoInvest: quantities", () => {
  const qty = (over: Partial<AutoInvestRule> = {}) =>
    rule({
      mode: "quantity",
      amount: null,
      fractional: false,
      quantityDecimals: 0,
      legs: [
        { symbol: "AAPL", quantity: "2" },
        { symbol: "MSFT", quantity: "1" },
      ],
      ...over,
    });

  it("buys the quantities", () => {
    const plan = planAutoInvest(qty(), "0", prices({ AAPL: "200", MSFT: "400" }));
    expect(plan.orders.map((o) => [o.symbol, o.qty, o.value])).toEqual([
      ["AAPL", "2", "400"],
      ["MSFT", "1", "400"],
    ]);
  });

  it("scales the quantities down to the cap at the planning price", () => {
    const plan = planAutoInvest(qty({ cap: "1000" }), "600", prices({ AAPL: "200", MSFT: "400" }));
    // 400 left of 800 wanted: half of each, whole shares: 1 AAPL, 0 MSFT.
    expect(plan.partial).toBe(true);
    expect(plan.orders.map((o) => [o.symbol, o.qty])).toEqual([["AAPL", "1"]]);
    expect(plan.skipped[0]).toMatchObject({ symbol: "MSFT", reason: "cap_reached" });
    expect(new Decimal(plan.total).lte(400)).toBe(true);
    const fractional = planAutoInvest(
      qty({ cap: "1000", fractional: true, quantityDecimals: 6 }),
      "600",
      prices({ AAPL: "200", MSFT: "400" }),
    );
    expect(fractional.orders.map((o) => [o.symbol, o.qty])).toEqual([
      ["AAPL", "1"],
      ["MSFT", "0.5"],
    ]);
    expect(fractional.total).toBe("400");
  });

  it("with a cap, an unpriced leg cannot be valued and is skipped", () => {
    const plan = planAutoInvest(qty({ cap: "5000" }), "0", prices({ AAPL: "200", MSFT: null }));
    expect(plan.orders.map((o) => o.symbol)).toEqual(["AAPL"]);
    expect(plan.skipped[0]).toMatchObject({ symbol: "MSFT", reason: "no_price" });
  });
});
