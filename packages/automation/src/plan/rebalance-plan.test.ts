import { Decimal } from "@tradecron/core";
import { describe, expect, it } from "vitest";
import { type PortfolioSnapshot, planRebalance, type RebalanceRule } from "./rebalance-plan.js";

const rule = (over: Partial<RebalanceRule> = {}): RebalanceRule => ({
  targets: [
    { symbol: "VTI", weight: "0.6" },
    { symbol: "BND", weight: "0.4" },
  ],
  bands: { absolute: "0.05", relative: "0.25" },
  portfolioDrift: null,
  when: "drift",
  minTrade: "1",
  cashBuffer: { fraction: "0", amount: "0" },
  cashFlows: "first",
  quantityDecimals: 0,
  ...over,
});

const snap = (
  cash: string,
  held: Record<string, [string, string]>,
  extraPrices: Record<string, string> = {},
): PortfolioSnapshot => ({
  cash: new Decimal(cash),
  holdings: new Map(
    Object.entries(held).map(([s, [q, p]]) => [s, { qty: new Decimal(q), price: new Decimal(p) }]),
  ),
  prices: new Map(Object.entries(extraPrices).map(([s, p]) => [s, new Decimal(p)])),
});

describe("planRebalance: bands", () => {
  it("stays put within the bands", () => {
    // 62/38: 2 points off, within 5 points and within 25 % of either target.
    const plan = planRebalance(rule(), snap("0", { VTI: ["62", "100"], BND: ["38", "100"] }));
    expect(plan).toMatchObject({ due: false, reason: "within_bands", orders: [] });
    expect(plan.drift.map((d) => [d.symbol, d.weight, d.deviation, d.band, d.outOfBand])).toEqual([
      ["VTI", "0.62", "0.02", "0.05", false],
      ["BND", "0.38", "-0.02", "0.05", false],
    ]);
  });

  it("5/25: a small target's relative band is the tighter one", () => {
    const r = rule({
      targets: [
        { symbol: "VTI", weight: "0.9" },
        { symbol: "GLD", weight: "0.1" },
      ],
    });
    // GLD at 13 %: 3 points off (inside 5) but 30 % of its target (outside 25 % = 2.5 points).
    const plan = planRebalance(r, snap("0", { VTI: ["87", "100"], GLD: ["13", "100"] }));
    expect(plan.due).toBe(true);
    expect(plan.reason).toBe("drift");
    expect(plan.drift.find((d) => d.symbol === "GLD")).toMatchObject({
      band: "0.025",
      outOfBand: true,
      relative: "0.3",
    });
    expect(plan.orders.map((o) => [o.side, o.symbol, o.qty, o.value])).toEqual([
      ["sell", "GLD", "3", "300"],
      ["buy", "VTI", "3", "300"],
    ]);
  });

  it("sells before buys, and buys no more than the sells and cash pay for", () => {
    // Total 10 000: VTI 7 000 (70 %), BND 3 000 (30 %); targets 6 000 / 4 000.
    const plan = planRebalance(rule(), snap("0", { VTI: ["70", "100"], BND: ["60", "50"] }));
    expect(plan.orders.map((o) => [o.side, o.symbol, o.qty])).toEqual([
      ["sell", "VTI", "10"],
      ["buy", "BND", "20"],
    ]);
  });

  it("a portfolio drift threshold triggers a full rebalance even when every holding is in its band", () => {
    const r = rule({ bands: { absolute: null, relative: null }, portfolioDrift: "0.03" });
    // |0.64-0.6| + |0.36-0.4| = 0.08, halved: 4 %.
    const plan = planRebalance(r, snap("0", { VTI: ["64", "100"], BND: ["36", "100"] }));
    expect(plan).toMatchObject({ due: true, reason: "portfolio_drift", portfolioDrift: "0.04" });
    expect(plan.orders.map((o) => [o.side, o.symbol, o.qty])).toEqual([
      ["sell", "VTI", "4"],
      ["buy", "BND", "4"],
    ]);
  });

  it("when: always rebalances on every check (calendar rebalancing)", () => {
    const plan = planRebalance(
      rule({ when: "always" }),
      snap("0", { VTI: ["61", "100"], BND: ["39", "100"] }),
    );
    expect(plan.reason).toBe("calendar");
    expect(plan.orders.map((o) => [o.side, o.symbol, o.qty])).toEqual([
      ["sell", "VTI", "1"],
      ["buy", "BND", "1"],
    ]);
  });
});

describe("planRebalance: cash", () => {
  it("invests new cash into the underweight holdings first, without selling", () => {
    // 70/30 of 10 000 plus 2 000 of cash: targets 7 200 / 4 800; the cash alone fixes BND.
    const plan = planRebalance(rule(), snap("2000", { VTI: ["70", "100"], BND: ["30", "100"] }));
    expect(plan.reason).toBe("cash_flow");
    expect(plan.orders.map((o) => [o.side, o.symbol, o.qty])).toEqual([
      ["buy", "BND", "18"],
      ["buy", "VTI", "2"],
    ]);
  });

  it("sends a cash flow to the relatively most underweight holding first", () => {
    const r = rule({
      targets: [
        { symbol: "A", weight: "0.4" },
        { symbol: "B", weight: "0.3" },
        { symbol: "C", weight: "0.3" },
      ],
      bands: { absolute: "0.2", relative: null },
    });
    // Targets 4 000 / 3 000 / 3 000: B is 1 000 short (a third of its target), C 200 (a fifteenth).
    const plan = planRebalance(r, snap("200", { A: ["500", "10"], B: ["200", "10"], C: ["280", "10"] }));
    expect(plan.reason).toBe("cash_flow");
    expect(plan.orders.map((o) => [o.side, o.symbol, o.qty])).toEqual([["buy", "B", "20"]]);
  });

  it("cash too small for any order is no cash flow at all", () => {
    // 60 of cash over the target weights: 36 for VTI and 24 for BND; neither buys a share.
    const plan = planRebalance(
      rule({ minTrade: "50" }),
      snap("60", { VTI: ["60", "100"], BND: ["80", "50"] }),
    );
    expect(plan).toMatchObject({ due: false, reason: "within_bands", orders: [] });
    expect(plan.skipped).toEqual([]);
  });

  it("sells when cash flows cannot bring it back into its bands", () => {
    const plan = planRebalance(rule(), snap("100", { VTI: ["80", "100"], BND: ["20", "100"] }));
    expect(plan.reason).toBe("drift");
    expect(plan.orders[0]).toMatchObject({ side: "sell", symbol: "VTI" });
  });

  it("with cash flows ignored, a deposit within the bands is left alone", () => {
    const plan = planRebalance(
      rule({ cashFlows: "ignore" }),
      snap("300", { VTI: ["60", "100"], BND: ["37", "100"] }),
    );
    expect(plan).toMatchObject({ due: false, reason: "within_bands" });
  });

  it("keeps the cash buffer: the larger of a fraction and an amount", () => {
    const r = rule({ cashBuffer: { fraction: "0.0025", amount: "100" } });
    const plan = planRebalance(r, snap("1000", { VTI: ["0", "100"], BND: ["0", "100"] }, {}));
    // 1 000 total, buffer max(2.5, 100) = 100: 900 investable, 540 / 360.
    expect(plan).toMatchObject({ buffer: "100", investable: "900" });
    expect(plan.orders.map((o) => [o.symbol, o.qty, o.value])).toEqual([
      ["BND", "3", "300"],
      ["VTI", "5", "500"],
    ]);
    const spent = plan.orders.reduce((a, o) => a.plus(o.value), new Decimal(0));
    expect(spent.lte(900)).toBe(true);
  });

  it("raises a cash shortfall below the buffer from the overweight holdings", () => {
    const r = rule({ cashBuffer: { fraction: "0", amount: "500" } });
    const plan = planRebalance(r, snap("0", { VTI: ["61", "100"], BND: ["39", "100"] }));
    expect(plan.reason).toBe("cash_flow");
    expect(plan.orders.every((o) => o.side === "sell")).toBe(true);
  });
});

describe("planRebalance: what is left out", () => {
  it("skips trades below the minimum, with the reason", () => {
    const plan = planRebalance(
      rule({ minTrade: "250" }),
      snap("0", { VTI: ["70", "100"], BND: ["60", "50"] }),
    );
    expect(plan.orders.map((o) => o.symbol)).toEqual(["VTI", "BND"]);
    const small = planRebalance(
      rule({ minTrade: "2000", when: "always" }),
      snap("0", { VTI: ["70", "100"], BND: ["60", "50"] }),
    );
    expect(small.orders).toEqual([]);
    expect(small.skipped.map((s) => [s.symbol, s.side, s.reason])).toEqual([
      ["VTI", "sell", "below_minimum"],
      ["BND", "buy", "below_minimum"],
    ]);
  });

  it("sells everything of a symbol whose target is 0", () => {
    const r = rule({
      targets: [
        { symbol: "VTI", weight: "1" },
        { symbol: "OLD", weight: "0" },
      ],
    });
    const plan = planRebalance(r, snap("0", { VTI: ["90", "100"], OLD: ["3.5", "100"] }));
    expect(plan.orders[0]).toMatchObject({ side: "sell", symbol: "OLD", qty: "3.5" });
  });

  it("does nothing without a price for every target", () => {
    const plan = planRebalance(rule(), { cash: new Decimal(1000), holdings: new Map(), prices: new Map() });
    expect(plan).toMatchObject({ due: false, reason: "no_price", missingPrices: ["VTI", "BND"] });
  });

  it("plans fractional quantities when asked", () => {
    const plan = planRebalance(rule({ quantityDecimals: 6 }), snap("1000", {}, { VTI: "300", BND: "70" }));
    expect(plan.orders.map((o) => [o.symbol, o.qty])).toEqual([
      ["BND", "5.714285"],
      ["VTI", "2"],
    ]);
  });
});
