import { getCalendar, MemoryStorage, PaperBroker, Scheduler } from "@tradecron/core";
import { TestClock } from "@tradecron/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { RecipeConfigError, type Signal, type Strategy, strategyLoop } from "../src/index.js";
import { FAST, history, summaries, world } from "./helpers.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (stops.length > 0) await stops.pop()?.();
});

const fixed = (
  name: string,
  signals: Signal[],
  exits: (positions: string[]) => Signal[] = () => [],
): Strategy => ({
  name,
  evaluate: () => signals,
  checkExits: ({ positions }) => exits(positions.map((p) => p.symbol)),
});

/** Orders by time, then symbol (one run's orders share an instant; their order is in its summary). */
const orders = async (w: ReturnType<typeof world>) =>
  (await w.scheduler.listOrders({ limit: 1000 })).items
    .map((o) => [
      new Date(o.submittedAt).toISOString().slice(11, 19),
      o.side,
      o.symbol,
      (o.intent as { strategy: string }).strategy,
    ])
    .sort((a, b) => (a.join() < b.join() ? -1 : 1));

function priced(start: string) {
  const w = world(start);
  for (const [s, p] of [
    ["AAPL", "200"],
    ["MSFT", "400"],
    ["TSLA", "250"],
    ["NVDA", "120"],
  ] as const)
    w.broker.setPrice(s, p);
  return w;
}

describe("strategyLoop", () => {
  it("trades the confident signals into free slots, one per symbol, and exits on its own cadence", async () => {
    const w = priced("2026-01-05T14:29:30Z");
    let exitAapl = false;
    const loop = await strategyLoop(w.scheduler, {
      id: "bot",
      strategies: [
        fixed("momentum", [
          { symbol: "AAPL", side: "buy", confidence: 0.8 },
          { symbol: "MSFT", side: "buy", confidence: 0.4 },
          { symbol: "TSLA", side: "buy", confidence: 0.9 },
        ]),
        fixed("meanrev", [{ symbol: "NVDA", side: "buy", confidence: 0.7, qty: 3 }], (held) =>
          exitAapl && held.includes("AAPL")
            ? [{ symbol: "AAPL", side: "sell", confidence: 1, rationale: "target hit" }]
            : [],
        ),
      ],
      minConfidence: 0.5,
      maxConcurrentTrades: 2,
      sizing: { qty: 1 },
    });
    await w.scheduler.start();
    stops.push(() => w.scheduler.stop());
    await w.clock.advanceTo("2026-01-05T14:31:10Z");
    // 09:30: TSLA and AAPL take the two slots; NVDA is left out, MSFT is not confident enough.
    expect(await orders(w)).toEqual([
      ["14:30:00", "buy", "AAPL", "momentum"],
      ["14:30:00", "buy", "TSLA", "momentum"],
    ]);
    // The most confident first.
    expect((await summaries(w.scheduler, loop.evaluateScheduleId))[0]?.orders.map((o) => o.symbol)).toEqual([
      "TSLA",
      "AAPL",
    ]);
    exitAapl = true;
    await w.clock.advanceTo("2026-01-05T14:31:40Z");
    expect((await orders(w)).slice(2)).toEqual([["14:31:30", "sell", "AAPL", "meanrev"]]);
    // A slot is free again: the next evaluation takes it for the more confident of AAPL and NVDA.
    await w.clock.advanceTo("2026-01-05T14:32:10Z");
    expect((await orders(w)).filter((o) => o[0] === "14:32:00")).toEqual([
      ["14:32:00", "buy", "AAPL", "momentum"],
    ]);
    const status = await loop.status();
    expect(status).toMatchObject({
      state: "running",
      canRun: true,
      isMarketHours: true,
      brokerConnected: true,
    });
    expect(status.stats).toMatchObject({
      evaluationsRun: 3,
      exitChecksRun: 5,
      tradesExecuted: 4,
      tradesRejected: 0,
      errors: 0,
      monitoredPositions: 2,
      lastEvaluation: "2026-01-05T14:32:00.000Z",
      lastTrade: "2026-01-05T14:32:00.000Z",
    });
    expect(status.stats.signalsGenerated).toBe(3 * 4 + 1);
    expect(status.stats.byStrategy).toEqual({
      momentum: { signals: 9, errors: 0 },
      meanrev: { signals: 4, errors: 0 },
    });
    expect(status.stats.filtered).toEqual({
      below_min_confidence: 3,
      max_concurrent_trades: 3,
      symbol_in_flight: 3,
    });
    const first = (await summaries(w.scheduler, loop.evaluateScheduleId))[0];
    expect(first?.skipped.map((s) => [s.symbol, s.reason])).toEqual([
      ["MSFT", "below_min_confidence"],
      ["NVDA", "max_concurrent_trades"],
    ]);
  });

  it("paused: no entries, exits still run; stopped: nothing; the state survives a restart", async () => {
    const w = priced("2026-01-05T14:29:30Z");
    const storage = w.storage;
    const strategies = [
      fixed("s", [{ symbol: "AAPL", side: "buy", confidence: 0.9, qty: 1 }], (held) =>
        held.includes("AAPL") ? [{ symbol: "AAPL", side: "sell", confidence: 1 }] : [],
      ),
    ];
    const loop = await strategyLoop(w.scheduler, { id: "p", strategies, initialState: "paused" });
    expect(await loop.state()).toBe("paused");
    await w.broker.submitOrder({
      clientOrderId: "manual-1",
      intent: {
        symbol: "AAPL",
        side: "buy",
        qty: "5",
        type: "market",
        timeInForce: "day",
        extendedHours: false,
        riskLevel: "medium",
      },
    });
    await w.scheduler.start();
    await w.clock.advanceTo("2026-01-05T14:32:00Z");
    // The exit loop sold the position; the paused evaluation never bought.
    expect(await orders(w)).toEqual([["14:30:00", "sell", "AAPL", "s"]]);
    expect((await loop.status()).stats).toMatchObject({ evaluationsRun: 0, tradesExecuted: 1 });
    expect(await loop.stop({ actor: "ops" })).toBe("stopped");
    await w.clock.advanceTo("2026-01-05T14:35:00Z");
    expect((await loop.status()).stats.exitChecksRun).toBe(5);
    await w.scheduler.stop();

    const clock = w.clock;
    const again = new Scheduler({ clock, storage, broker: w.broker, instanceId: "b", ...FAST });
    const loop2 = await strategyLoop(again, { id: "p", strategies, initialState: "running" });
    expect(await loop2.state()).toBe("stopped");
    expect((await loop2.status()).stats.exitChecksRun).toBe(5);
    await again.start();
    stops.push(() => again.stop());
    expect(await loop2.start({ actor: "ops" })).toBe("running");
    await clock.advanceTo("2026-01-05T14:36:10Z");
    // Resumed at 14:35:00 sharp: that fire and 14:36's.
    expect((await loop2.status()).stats.evaluationsRun).toBe(2);
    const audit = (await again.listAudit({ actor: "ops" })).items.map((a) => [a.action, a.subjectId]);
    // Newest first. Stopping a paused loop only had the exits to pause.
    expect(audit).toEqual([
      ["schedule.resume", "strategy:p:evaluate"],
      ["schedule.resume", "strategy:p:exits"],
      ["schedule.pause", "strategy:p:exits"],
    ]);
  });

  it("runs only in market hours with the broker connected, and says why it did not", async () => {
    const clock = new TestClock("2026-01-19T14:00:00Z"); // Martin Luther King Jr. Day
    const broker = new PaperBroker({ clock, connected: true, session: getCalendar("XNYS") });
    broker.setPrice("AAPL", "200");
    const scheduler = new Scheduler({ clock, storage: new MemoryStorage(), broker, ...FAST });
    const loop = await strategyLoop(scheduler, {
      id: "h",
      strategies: [fixed("s", [{ symbol: "AAPL", side: "buy", confidence: 0.9, qty: 1 }])],
      evaluateEvery: "5m",
      exitEvery: "5m",
    });
    await scheduler.start();
    stops.push(() => scheduler.stop());
    await clock.advanceTo("2026-01-19T16:00:00Z");
    const holiday = await history(scheduler, loop.evaluateScheduleId);
    expect(holiday.length).toBeGreaterThan(0);
    expect(holiday.every((e) => e.status === "skipped" && e.reason === "market_closed")).toBe(true);
    expect(holiday[0]?.details).toMatchObject({ why: "Martin Luther King, Jr. Day" });
    expect((await loop.status()).canRun).toBe(false);

    clock.jump("2026-01-20T14:50:00Z");
    await broker.disconnect();
    await clock.advanceTo("2026-01-20T15:01:00Z");
    const down = (await history(scheduler, loop.evaluateScheduleId)).filter(
      (e) => e.scheduledAt > Date.parse("2026-01-20T00:00:00Z"),
    );
    expect(down.map((e) => e.reason)).toContain("broker_disconnected");
    expect(await loop.status()).toMatchObject({ canRun: false, brokerConnected: false, isMarketHours: true });
    expect((await scheduler.listOrders({})).items).toEqual([]);
  });

  it("a failing strategy is counted and the others still trade; risk rejections count as rejected", async () => {
    const clock = new TestClock("2026-01-05T14:29:30Z");
    const broker = new PaperBroker({ clock, connected: true });
    for (const [s, p] of [
      ["AAPL", "200"],
      ["MSFT", "400"],
    ] as const)
      broker.setPrice(s, p);
    const scheduler = new Scheduler({
      clock,
      broker,
      risk: { maxOrderNotional: 1000 },
      prices: (s) => broker.getPrice(s),
      ...FAST,
    });
    const loop = await strategyLoop(scheduler, {
      id: "err",
      strategies: [
        {
          name: "broken",
          evaluate: () => {
            throw new Error("feed timeout");
          },
        },
        { name: "garbage", evaluate: () => [{ symbol: "AAPL", side: "buy", confidence: 7 } as Signal] },
        fixed("ok", [
          { symbol: "AAPL", side: "buy", confidence: 0.9, qty: 2 },
          { symbol: "MSFT", side: "buy", confidence: 0.9, qty: 5 },
        ]),
      ],
    });
    await scheduler.start();
    stops.push(() => scheduler.stop());
    await clock.advanceTo("2026-01-05T14:30:30Z");
    const s = (await loop.status()).stats;
    expect(s).toMatchObject({
      evaluationsRun: 1,
      errors: 2,
      tradesExecuted: 1,
      tradesRejected: 1,
      lastError: expect.stringMatching(/garbage: invalid signal: confidence/),
    });
    expect(s.byStrategy).toMatchObject({
      broken: { errors: 1 },
      garbage: { errors: 1 },
      ok: { signals: 2, errors: 0 },
    });
    const run = (await summaries(scheduler, loop.evaluateScheduleId))[0];
    expect(run?.orders.map((o) => [o.symbol, o.status, o.rule ?? null])).toEqual([
      ["AAPL", "submitted", null],
      ["MSFT", "rejected", "max_order_notional"],
    ]);
    expect(run?.details?.errors).toEqual([
      expect.stringMatching(/broken: feed timeout/),
      expect.stringMatching(/garbage/),
    ]);
  });
});

describe("strategyLoop: bad configurations", () => {
  const w = world("2026-01-05T14:29:30Z");
  const s = fixed("s", []);
  it.each([
    [{ strategies: [] }, "strategies", /./],
    [{ strategies: [s, fixed("s", [])] }, "strategies.1.name", /twice/],
    [{ strategies: [{ name: "x" }] }, "strategies.0", /evaluate/],
    [{ strategies: [s], minConfidence: 1.5 }, "minConfidence", /./],
    [{ strategies: [s], maxConcurrentTrades: -1 }, "maxConcurrentTrades", /./],
    [{ strategies: [s], evaluateEvery: "500ms" }, "evaluateEvery", /once a second/],
    [{ strategies: [s], sizing: { qty: -1 } }, "sizing.qty", /greater than 0/],
    [{ strategies: [s], initialState: "sleeping" }, "initialState", /./],
  ])("rejects %j naming the field", async (over, field, message) => {
    const error = await strategyLoop(w.scheduler, { id: "bad", ...over } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecipeConfigError);
    expect(error).toMatchObject({ field, recipe: "strategyLoop" });
    expect((error as Error).message).toMatch(message);
  });
});
