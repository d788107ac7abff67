// The seed-000 morning routine, live on (the fake) Alpaca paper: a weekday 09:00 New York cron
// proposes trades, a person approves them, they are placed on Alpaca, fills arrive over the
// stream into the order records, and pause-all cancels what is still open with DELETE /v2/orders.

import { MemoryStorage, Scheduler } from "@tradecron/core";
import { TestClock } from "@tradecron/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { AlpacaBroker } from "../src/index.js";
import { FakeAlpaca } from "../src/testing/index.js";
import { eventually, quickOptions } from "./helpers.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** Moves the scheduler's clock in small steps while real I/O proceeds, until `done` holds. */
async function until(clock: TestClock, done: () => Promise<boolean>, stepMs = 50): Promise<void> {
  for (let i = 0; i < 5_000; i++) {
    if (await done()) return;
    await clock.advance(stepMs);
    await new Promise((r) => setImmediate(r));
  }
  throw new Error("never happened");
}

describe("the seed-000 morning routine on Alpaca", () => {
  it("proposes at 09:00 New York, places approved orders on Alpaca, records fills, and pause-all cancels the rest", async () => {
    const fake = await FakeAlpaca.start();
    closers.push(() => fake.close());
    fake.setPrice("AAPL", "190.10");
    fake.setPrice("MSFT", "410.50");
    const broker = new AlpacaBroker(quickOptions(fake));
    closers.push(() => broker.disconnect());
    const clock = new TestClock("2026-01-05T13:59:00Z"); // Monday 08:59 in New York
    const storage = new MemoryStorage();
    const scheduler = new Scheduler({
      clock,
      storage,
      broker,
      prices: broker.priceSource(),
      risk: { maxOrderNotional: 25_000, minConfidence: 0.6 },
    });
    closers.push(() => scheduler.stop());
    scheduler.register("morning-routine", async (ctx) => {
      await ctx.propose({
        symbol: "AAPL",
        side: "buy",
        qty: 10,
        type: "limit",
        limitPrice: "150",
        timeInForce: "gtc",
        confidence: 0.72,
        riskLevel: "low",
        rationale: "pullback to the 50-day average",
      });
      await ctx.propose({ symbol: "MSFT", side: "buy", qty: 2, confidence: 0.8, riskLevel: "medium" });
      await ctx.propose({ symbol: "TSLA", side: "buy", qty: 1, confidence: 0.3 }); // refused: min_confidence
    });
    await scheduler.createSchedule({
      id: "morning",
      job: "morning-routine",
      trigger: { cron: "0 9 * * 1-5", timezone: "America/New_York" },
      requiresApproval: true,
    });
    await scheduler.start();
    expect(broker.isConnected()).toBe(true);
    await clock.advanceTo("2026-01-05T14:00:00Z");
    await until(clock, async () => (await scheduler.pendingApprovalCount()) === 2);

    const pending = (await scheduler.listApprovals({ status: "pending" })).items;
    const decisions = await scheduler.approve(
      pending.map((a) => a.id),
      { actor: "alice", reason: "checked the charts" },
    );
    expect(decisions.map((d) => d.status)).toEqual(["submitted", "submitted"]);
    const atAlpaca = fake.orders();
    expect(atAlpaca.map((o) => [o.symbol, o.qty])).toEqual([
      ["AAPL", "10"],
      ["MSFT", "2"],
    ]);
    expect(new Set(atAlpaca.map((o) => o.client_order_id))).toEqual(
      new Set(pending.map((a) => a.clientOrderId)),
    );

    // The MSFT fill arrives over the stream and lands in the order record.
    const msft = pending.find((a) => (a.intent as { symbol: string }).symbol === "MSFT");
    await eventually(
      async () => (await scheduler.getOrder(msft?.clientOrderId as string)).status === "filled",
    );
    expect(await scheduler.getOrder(msft?.clientOrderId as string)).toMatchObject({
      filledQty: "2",
      avgFillPrice: "410.5",
    });

    // Emergency stop: every fire paused, and the resting AAPL order cancelled with Alpaca's cancel-all.
    await scheduler.pauseAll({ actor: "risk-desk", reason: "flash crash", cancelOpenOrders: true });
    expect(fake.journal.some((e) => e.route === "deleteAllOrders" && e.status === 207)).toBe(true);
    const aapl = pending.find((a) => (a.intent as { symbol: string }).symbol === "AAPL");
    expect(fake.order({ clientOrderId: aapl?.clientOrderId as string })?.status).toBe("canceled");
    await eventually(
      async () => (await scheduler.getOrder(aapl?.clientOrderId as string)).status === "canceled",
    );
    const audit = (await storage.listAudit({ action: "orders.cancel_all", limit: 5 })).items;
    expect(audit[0]).toMatchObject({ actor: "risk-desk", details: { cancelled: 1 } });
  });
});
