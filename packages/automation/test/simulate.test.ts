import { describe, expect, it } from "vitest";
import { autoInvest, RecipeConfigError, rebalance, simulate } from "../src/index.js";

const day = (date: string, prices: Record<string, number>) =>
  Object.entries(prices).map(([symbol, p]) => ({ symbol, date, open: p, close: p }));

describe("simulate", () => {
  it("a monthly auto-invest over a quarter matches the hand-computed purchases, cap and positions", async () => {
    const report = await simulate({
      from: "2026-01-01T00:00:00Z",
      to: "2026-03-31T23:00:00Z",
      bars: [
        ...day("2026-01-15", { VTI: 100, BND: 50 }),
        ...day("2026-02-17", { VTI: 110, BND: 48 }),
        ...day("2026-03-16", { VTI: 90, BND: 52 }),
      ],
      setup: (scheduler, env) =>
        autoInvest(scheduler, {
          id: "core",
          legs: [
            { symbol: "VTI", weight: 0.6 },
            { symbol: "BND", weight: 0.4 },
          ],
          amount: 1000,
          cap: 2500,
          fractional: false,
          cadence: { every: "month", day: 15 },
          universe: env.symbols,
        }),
    });
    // By hand: Jan 15: 600/100 = 6 VTI, 400/50 = 8 BND (1000). Feb 17 (the 15th is a Sunday, the
    // 16th a holiday): 600/110 = 5 VTI (550), 400/48 = 8 BND (384). Mar 16: 566 left under the cap:
    // 339.60/90 = 3 VTI (270), 226.40/52 = 4 BND (208). Invested 2412.
    expect(
      report.orders.map((o) => [o.at.slice(0, 10), o.side, o.symbol, o.qty, o.status, o.avgFillPrice]),
    ).toEqual([
      ["2026-01-15", "buy", "VTI", "6", "filled", "100"],
      ["2026-01-15", "buy", "BND", "8", "filled", "50"],
      ["2026-02-17", "buy", "VTI", "5", "filled", "110"],
      ["2026-02-17", "buy", "BND", "8", "filled", "48"],
      ["2026-03-16", "buy", "VTI", "3", "filled", "90"],
      ["2026-03-16", "buy", "BND", "4", "filled", "52"],
    ]);
    expect(Object.fromEntries(report.positions.map((p) => [p.symbol, p.qty]))).toEqual({
      VTI: "14",
      BND: "20",
    });
    expect(report.account).toEqual({ cash: "97588", equity: "99888" });
    expect(report.rolled).toEqual([
      {
        scheduleId: "auto-invest:core",
        period: "2026-02",
        nominal: "2026-02-15",
        date: "2026-02-17",
        because: "weekend",
      },
      {
        scheduleId: "auto-invest:core",
        period: "2026-03",
        nominal: "2026-03-15",
        date: "2026-03-16",
        because: "weekend",
      },
    ]);
    const executed = report.fires.filter((f) => f.outcome === "executed");
    expect(executed.map((f) => [f.local, f.reason])).toEqual([
      ["2026-01-15 10:00", null],
      ["2026-02-17 10:00", null],
      ["2026-03-16 10:00", "cap_partial"],
    ]);
    // 61 sessions from Jan 2 to Mar 31, one fire each; the other 58 were not due.
    expect(report.counts).toMatchObject({
      fires: 61,
      ran: 61,
      executed: 3,
      notDue: 58,
      orders: 6,
      filled: 6,
      failed: 0,
    });
    expect(report.planned.map((p) => [p.symbol, p.qty, p.value, p.price])).toContainEqual([
      "BND",
      "4",
      "208",
      "52",
    ]);
    expect(report.errors).toEqual([]);
  });

  it("a drift rebalance over a month: cash invested, a rolled check, a sell-first rebalance, checks within the bands", async () => {
    const report = await simulate({
      from: "2026-01-01T00:00:00Z",
      to: "2026-01-31T00:00:00Z",
      initialCash: 10_000,
      bars: [
        ...day("2026-01-05", { VTI: 100, BND: 50 }),
        ...day("2026-01-12", { VTI: 105, BND: 50 }),
        ...day("2026-01-20", { VTI: 130, BND: 50 }),
      ],
      setup: (scheduler) =>
        rebalance(scheduler, {
          id: "6040",
          targets: { VTI: 0.6, BND: 0.4 },
          cadence: { every: "week", weekday: "monday" },
        }),
    });
    // By hand: Jan 5 invests the 10 000 (60 VTI, 80 BND). Jan 12: VTI 6 300 of 10 300 is 61 %, in
    // its band. Jan 20 (Monday the 19th is a holiday): VTI 7 800 of 11 800 is 66 %, 6.1 points
    // over: sell 5 VTI (650); BND wants 720 (14.4 shares) but the sale pays for 13. Jan 26: 60.6 %.
    expect(report.orders.map((o) => [o.at.slice(0, 10), o.side, o.symbol, o.qty])).toEqual([
      ["2026-01-05", "buy", "BND", "80"],
      ["2026-01-05", "buy", "VTI", "60"],
      ["2026-01-20", "sell", "VTI", "5"],
      ["2026-01-20", "buy", "BND", "13"],
    ]);
    expect(Object.fromEntries(report.positions.map((p) => [p.symbol, p.qty]))).toEqual({
      VTI: "55",
      BND: "93",
    });
    const acted = report.fires.filter((f) => f.summary && f.reason !== "not_due");
    expect(
      acted.map((f) => [f.local.slice(0, 10), f.outcome, f.reason, f.summary?.details?.trigger]),
    ).toEqual([
      ["2026-01-05", "executed", null, "cash_flow"],
      ["2026-01-12", "skipped", "within_bands", "within_bands"],
      ["2026-01-20", "executed", null, "drift"],
      ["2026-01-26", "skipped", "within_bands", "within_bands"],
    ]);
    expect(report.rolled).toEqual([
      {
        scheduleId: "rebalance:6040",
        period: "2026-01-19",
        nominal: "2026-01-19",
        date: "2026-01-20",
        because: "Martin Luther King, Jr. Day",
      },
    ]);
    expect(
      report.skips
        .filter((s) => s.source !== "scheduler")
        .map((s) => [s.local.slice(0, 10), s.source, s.reason, s.symbol ?? null]),
    ).toEqual([
      ["2026-01-12", "recipe", "within_bands", null],
      ["2026-01-26", "recipe", "within_bands", null],
    ]);
  });

  it("reports the scheduler's skips precisely: holiday, early close, weekend", async () => {
    const report = await simulate({
      from: "2026-11-25T00:00:00Z",
      to: "2026-11-30T00:00:00Z",
      bars: day("2026-11-25", { VTI: 100 }),
      setup: async (scheduler) => {
        await autoInvest(scheduler, {
          id: "daily",
          symbol: "VTI",
          amount: 100,
          cadence: "daily",
          time: "14:00",
        });
      },
    });
    expect(report.skips.map((s) => [s.local, s.reason, s.detail])).toEqual([
      ["2026-11-26 14:00", "holiday", "Thanksgiving Day"],
      ["2026-11-27 14:00", "early_close", "Day after Thanksgiving: closed at 13:00"],
    ]);
    // The cron fires on weekdays only, so the weekend has no fire to skip.
    expect(report.orders.map((o) => o.at)).toEqual(["2026-11-25T19:00:00.000Z"]);
  });

  it("decides proposals as the policy says: a confirmed rebalance is placed when approved", async () => {
    const run = (approvals: "approve" | "reject") =>
      simulate({
        from: "2026-01-05T00:00:00Z",
        to: "2026-01-06T00:00:00Z",
        initialCash: 1000,
        approvals,
        bars: day("2026-01-05", { VTI: 100 }),
        setup: (scheduler) =>
          rebalance(scheduler, { id: "ask", targets: { VTI: 1 }, requireConfirmation: true }),
      });
    const approved = await run("approve");
    expect(approved.approvals.map((a) => [a.symbol, a.status, a.decidedBy])).toEqual([
      ["VTI", "submitted", "simulate"],
    ]);
    expect(approved.positions.map((p) => [p.symbol, p.qty])).toEqual([["VTI", "10"]]);
    const rejected = await run("reject");
    expect(rejected.approvals.map((a) => a.status)).toEqual(["rejected"]);
    expect(rejected.positions).toEqual([]);
  });

  it("a policy function decides each plan once, as one group", async () => {
    const asked: [string, number, string | undefined][] = [];
    const report = await simulate({
      from: "2026-01-05T00:00:00Z",
      to: "2026-01-06T00:00:00Z",
      initialCash: 1000,
      approvals: (approval, group) => {
        asked.push([approval.id, group?.members.length ?? 0, group?.id]);
        return "approve";
      },
      bars: day("2026-01-05", { VTI: 100, BND: 50 }),
      setup: (scheduler) =>
        rebalance(scheduler, { id: "two", targets: { VTI: 0.5, BND: 0.5 }, requireConfirmation: true }),
    });
    expect(report.approvals.map((a) => [a.symbol, a.status]).sort()).toEqual([
      ["BND", "submitted"],
      ["VTI", "submitted"],
    ]);
    expect(asked).toHaveLength(1);
    expect(asked[0]?.[1]).toBe(2);
    expect(asked[0]?.[2]).toMatch(/^apg-/);
  });

  it("reports every fire of a year, longer than the scheduler's default retention", async () => {
    const report = await simulate({
      from: "2025-01-01T00:00:00Z",
      to: "2025-12-31T23:00:00Z",
      bars: [...day("2025-01-02", { VTI: 250 }), ...day("2025-07-01", { VTI: 300 })],
      setup: (scheduler, env) =>
        autoInvest(scheduler, {
          id: "year",
          legs: [{ symbol: "VTI", weight: 1 }],
          amount: 500,
          cap: 1_000_000,
          cadence: { every: "month", day: 1 },
          universe: env.symbols,
        }),
    });
    // One check per NYSE trading day of 2025 (250 of them), a purchase in each of the 12 months:
    // none of January's history is pruned by the 30-day execution retention on the way.
    expect(report.counts.fires).toBe(250);
    expect(report.fires).toHaveLength(250);
    expect(report.counts.executed).toBe(12);
    expect(report.fires[0]?.at.slice(0, 10)).toBe("2025-01-02");
  });

  it("rejects a bad window or bar naming the field", async () => {
    const setup = () => {};
    const bad = (options: object) =>
      simulate({
        from: "2026-01-05T00:00:00Z",
        to: "2026-01-06T00:00:00Z",
        bars: [],
        setup,
        ...options,
      } as never).catch((e: unknown) => e);
    expect(await bad({ to: "2026-01-01T00:00:00Z" })).toMatchObject({
      name: "RecipeConfigError",
      field: "to",
    });
    expect(await bad({ bars: [{ symbol: "VTI", date: "2026-01-04", open: 1, close: 1 }] })).toMatchObject({
      field: "bars.0.date",
      message: expect.stringMatching(/not a session of XNYS/),
    });
    expect(
      await bad({ bars: [{ symbol: "VTI", date: "2026-01-05", open: 10, close: 12, high: 11 }] }),
    ).toMatchObject({ field: "bars.0.high" });
    expect(await bad({ bars: [{ symbol: "VTI", at: "2026-01-05T15:00:00Z", price: -1 }] })).toMatchObject({
      field: "bars.0.price",
    });
    expect(await bad({ from: "yesterday" })).toBeInstanceOf(RecipeConfigError);
    // A recipe's own bad rule surfaces as it would live.
    const error = await simulate({
      from: "2026-01-05T00:00:00Z",
      to: "2026-01-06T00:00:00Z",
      bars: day("2026-01-05", { VTI: 100 }),
      setup: (scheduler, env) =>
        autoInvest(scheduler, {
          id: "x",
          symbol: "QQQ",
          amount: 10,
          cadence: "daily",
          universe: env.symbols,
        }),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      recipe: "autoInvest",
      field: "symbol",
      message: expect.stringMatching(/unknown symbol 'QQQ'/),
    });
  });
});
