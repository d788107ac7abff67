import { MemoryStorage } from "@tradecron/core";
import { afterEach, describe, expect, it } from "vitest";
import { priceTrigger, RecipeConfigError } from "../src/index.js";
import { history, summaries, world } from "./helpers.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (stops.length > 0) await stops.pop()?.();
});

const orders = async (w: ReturnType<typeof world>) =>
  (await w.scheduler.listOrders({ limit: 100 })).items.map((o) => [
    new Date(o.submittedAt).toISOString(),
    o.side,
    o.symbol,
    o.status,
  ]);

describe("priceTrigger", () => {
  it("fires once when the price crosses above the level, then disables itself", async () => {
    const w = world("2026-01-05T14:00:00Z");
    w.broker.setPrice("AAPL", "104");
    const t = await priceTrigger(w.scheduler, {
      id: "aapl-breakout",
      symbol: "AAPL",
      condition: { crossesAbove: 105 },
      order: { side: "buy", qty: 10 },
    });
    await w.scheduler.start();
    stops.push(() => w.scheduler.stop());
    await w.clock.advanceTo("2026-01-05T15:00:30Z");
    expect(await t.status()).toMatchObject({ armed: true, armedPrice: "104", fired: 0 });
    w.broker.setPrice("AAPL", "106");
    await w.clock.advanceTo("2026-01-05T15:05:00Z");
    expect(await orders(w)).toEqual([["2026-01-05T15:01:00.000Z", "buy", "AAPL", "filled"]]);
    expect(await t.status()).toMatchObject({ fired: 1, done: true, lastFiredAt: "2026-01-05T15:01:00.000Z" });
    expect((await w.scheduler.getSchedule(t.scheduleId)).enabled).toBe(false);
    w.broker.setPrice("AAPL", "104");
    await w.clock.advanceTo("2026-01-05T15:10:00Z");
    w.broker.setPrice("AAPL", "107");
    await w.clock.advanceTo("2026-01-05T16:00:00Z");
    expect(await orders(w)).toHaveLength(1);
  });

  it("armed past the level it waits for a fresh cross, and checks only in regular hours", async () => {
    const w = world("2026-01-05T13:59:30Z");
    w.broker.setPrice("AAPL", "110");
    const t = await priceTrigger(w.scheduler, {
      id: "fresh",
      symbol: "AAPL",
      condition: { crossesAbove: 105 },
      order: { side: "buy", qty: 1 },
    });
    await w.scheduler.start();
    stops.push(() => w.scheduler.stop());
    await w.clock.advanceTo("2026-01-05T15:00:30Z");
    expect(await orders(w)).toEqual([]);
    w.broker.setPrice("AAPL", "104");
    await w.clock.advanceTo("2026-01-05T15:10:30Z");
    w.broker.setPrice("AAPL", "106");
    await w.clock.advanceTo("2026-01-05T15:12:00Z");
    expect(await orders(w)).toEqual([["2026-01-05T15:11:00.000Z", "buy", "AAPL", "filled"]]);
    // 09:00-09:29 New York were outside the session: recorded as skipped, never checked.
    const runs = await history(w.scheduler, t.scheduleId);
    const early = runs.filter((e) => e.scheduledAt < Date.parse("2026-01-05T14:30:00Z"));
    expect(early.length).toBe(30);
    expect(early.every((e) => e.status === "skipped" && e.reason === "market_closed")).toBe(true);
    expect(runs.find((e) => e.status === "succeeded")?.scheduledAt).toBe(Date.parse("2026-01-05T14:30:00Z"));
  });

  it("confirms on N consecutive checks of the mid price from a supplied feed, every time with a cooldown", async () => {
    const w = world("2026-01-05T14:29:00Z");
    const book = { bid: "99", ask: "101" };
    const t = await priceTrigger(w.scheduler, {
      id: "dip",
      symbol: "MSFT",
      source: "mid",
      prices: () => ({ ...book }),
      condition: { below: 95 },
      confirmations: 3,
      fire: "everyTime",
      cooldown: "10m",
      order: { side: "buy", notional: 100 },
    });
    w.broker.setPrice("MSFT", "95");
    await w.scheduler.start();
    stops.push(() => w.scheduler.stop());
    await w.clock.advanceTo("2026-01-05T14:35:30Z");
    Object.assign(book, { bid: "93", ask: "95" }); // mid 94
    await w.clock.advanceTo("2026-01-05T14:37:30Z"); // two checks below: not yet
    expect(await orders(w)).toEqual([]);
    await w.clock.advanceTo("2026-01-05T14:38:30Z");
    expect(await orders(w)).toHaveLength(1);
    await w.clock.advanceTo("2026-01-05T14:49:30Z");
    // 14:38 fired; the cooldown holds until 14:48, then three more checks below confirm it at 14:48.
    expect((await orders(w)).map((o) => o[0]).sort()).toEqual([
      "2026-01-05T14:38:00.000Z",
      "2026-01-05T14:48:00.000Z",
    ]);
    const reasons = (await summaries(w.scheduler, t.scheduleId)).map((s) => s.reason ?? s.outcome);
    expect(reasons).toContain("cooldown");
    expect(reasons).toContain("not_confirmed");
  });

  it("expires, and disables itself", async () => {
    const w = world("2026-01-05T14:29:00Z");
    w.broker.setPrice("AAPL", "100");
    const t = await priceTrigger(w.scheduler, {
      id: "short-lived",
      symbol: "AAPL",
      condition: { above: 200 },
      expiresAt: "2026-01-05T14:35:00Z",
      order: { side: "sell", qty: 1 },
    });
    await w.scheduler.start();
    stops.push(() => w.scheduler.stop());
    await w.clock.advanceTo("2026-01-05T14:40:00Z");
    expect(await t.status()).toMatchObject({ done: true, fired: 0 });
    expect((await w.scheduler.getSchedule(t.scheduleId)).enabled).toBe(false);
    expect((await summaries(w.scheduler, t.scheduleId)).at(-1)?.reason).toBe("expired");
  });

  it("the armed value survives a restart: a cross that happened while down fires on the first check after", async () => {
    const storage = new MemoryStorage();
    const a = world("2026-01-05T14:29:00Z", { storage });
    a.broker.setPrice("AAPL", "104");
    const options = {
      id: "restart",
      symbol: "AAPL",
      condition: { crossesAbove: 105 },
      order: { side: "buy" as const, qty: 1 },
    };
    await priceTrigger(a.scheduler, options);
    await a.scheduler.start();
    await a.clock.advanceTo("2026-01-05T14:33:30Z");
    await a.scheduler.stop();
    a.broker.setPrice("AAPL", "106");
    a.clock.jump("2026-01-05T15:00:10Z");
    const b = world("", { storage, clock: a.clock, broker: a.broker, instanceId: "b" });
    const t = await priceTrigger(b.scheduler, options);
    await b.scheduler.start();
    stops.push(() => b.scheduler.stop());
    await b.clock.advanceTo("2026-01-05T15:01:30Z");
    // The 15:00 check was due 10 s before the restart: it runs late, at once, and sees the cross.
    expect(await orders(b)).toEqual([["2026-01-05T15:00:10.000Z", "buy", "AAPL", "filled"]]);
    expect(await t.status()).toMatchObject({ armedPrice: "104", fired: 1 });
  });
});

describe("priceTrigger: bad rules", () => {
  const w = world("2026-01-05T14:29:00Z");
  const base = { id: "bad", symbol: "AAPL", condition: { above: 1 }, order: { side: "buy", qty: 1 } };
  it.each([
    [{ condition: { near: 100 } }, "condition", /crossesAbove/],
    [{ condition: { above: -3 } }, "condition.above", /greater than 0/],
    [{ order: { side: "buy", qty: 1, notional: 100 } }, "order.notional", /exactly one of qty and notional/],
    [{ order: { side: "hold", qty: 1 } }, "order.side", /./],
    [{ order: { side: "buy", qty: 1, symbol: "MSFT" } }, "order.symbol", /trigger's symbol/],
    [{ cooldown: "1h" }, "cooldown", /everyTime/],
    [{ confirmations: 0 }, "confirmations", /./],
    [{ expiresAt: "2026-01-01T00:00:00Z" }, "expiresAt", /past/],
    [{ source: "close" }, "source", /./],
  ])("rejects %j naming the field", async (over, field, message) => {
    const error = await priceTrigger(w.scheduler, { ...base, ...over } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecipeConfigError);
    expect(error).toMatchObject({ field, recipe: "priceTrigger" });
    expect((error as Error).message).toMatch(message);
  });
});
