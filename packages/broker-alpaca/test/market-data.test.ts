import { clientOrderId, parseOrderIntent } from "@tradecron/core";
import { afterEach, describe, expect, it } from "vitest";
import { fakeAndBroker } from "./helpers.js";

let close: () => Promise<void> = async () => {};
afterEach(() => close());

describe("clock and latest prices", () => {
  it("reads Alpaca's market clock", async () => {
    const ctx = await fakeAndBroker();
    close = ctx.close;
    await ctx.broker.connect();
    const clock = await ctx.broker.getClock();
    expect(typeof clock.isOpen).toBe("boolean");
    expect(clock.nextOpen).toBeGreaterThan(clock.timestamp - 86_400_000 * 5);
    expect(clock.nextClose).toBeGreaterThan(clock.timestamp);
  });

  it("values orders with the latest trade from the market data API, null when there is none", async () => {
    const ctx = await fakeAndBroker();
    close = ctx.close;
    const { fake, broker } = ctx;
    await broker.connect();
    fake.setPrice("MSFT", "411.07");
    expect(await broker.latestPrice("msft")).toBe("411.07");
    const prices = broker.priceSource();
    expect(await prices("MSFT")).toBe("411.07");
    expect(await prices("NOPE")).toBeNull();
    await expect(broker.latestPrice("bad symbol!")).rejects.toMatchObject({ field: "symbol" });
    const order = await broker.submitOrder({
      clientOrderId: clientOrderId("md", 0),
      intent: parseOrderIntent({ symbol: "MSFT", side: "buy", qty: 1 }),
    });
    expect(order.symbol).toBe("MSFT");
    expect(
      fake.journal.some((e) => e.path === "/v2/stocks/MSFT/trades/latest" && e.query.feed === "iex"),
    ).toBe(true);
  });
});
