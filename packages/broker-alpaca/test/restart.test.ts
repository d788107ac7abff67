// An order that fills while no process is running: the next Scheduler on the same storage finds
// the fill at start (core's reconcile reads the stored open orders back from Alpaca), without
// waiting for anything to ask for the order.

import { MemoryStorage, Scheduler } from "@tradecron/core";
import { TestClock } from "@tradecron/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { AlpacaBroker } from "../src/index.js";
import { FakeAlpaca } from "../src/testing/index.js";
import { quickOptions } from "./helpers.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** Steps the scheduler's clock while real I/O proceeds, until `done` holds (bounded). */
async function until(clock: TestClock, done: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 5_000; i++) {
    if (await done()) return;
    await clock.advance(50);
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`${what} never happened`);
}

describe("a restart of our own process", () => {
  it("catches up at start on an order that filled while no process ran", async () => {
    const fake = await FakeAlpaca.start();
    closers.push(() => fake.close());
    fake.setPrice("AAPL", "100");
    const storage = new MemoryStorage();
    const clock = new TestClock("2026-01-05T15:00:00Z");
    const boot = () => {
      const broker = new AlpacaBroker(quickOptions(fake));
      const scheduler = new Scheduler({ clock, storage, broker });
      scheduler.register("buy", async (ctx) => {
        await ctx.submit({
          symbol: "AAPL",
          side: "buy",
          qty: 2,
          type: "limit",
          limitPrice: "95",
          timeInForce: "gtc",
        });
      });
      return { broker, scheduler };
    };

    const first = boot();
    await first.scheduler.createSchedule({ id: "buy_dip", job: "buy", trigger: { every: "30d" } });
    await first.scheduler.start();
    await first.scheduler.trigger("buy_dip", { actor: "test" });
    await until(clock, async () => (await storage.listOrders({ limit: 10 })).items.length === 1, "the order");
    const [placed] = (await storage.listOrders({ limit: 10 })).items;
    expect(placed).toMatchObject({ status: "new", filledQty: "0" });
    await first.scheduler.stop();
    await first.broker.disconnect();

    fake.setPrice("AAPL", "94"); // fills with nobody listening
    expect(fake.order({ clientOrderId: placed?.clientOrderId as string })).toMatchObject({
      status: "filled",
    });

    const second = boot();
    closers.push(async () => {
      await second.scheduler.stop();
      await second.broker.disconnect();
    });
    await second.scheduler.start(); // connects, then reconciles the stored open orders
    const [record] = (await storage.listOrders({ limit: 10 })).items;
    expect(record).toMatchObject({ status: "filled", filledQty: "2", avgFillPrice: "94" });
  });
});
