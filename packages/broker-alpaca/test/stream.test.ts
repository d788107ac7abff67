import {
  type Broker,
  type BrokerConnectionDetail,
  clientOrderId,
  type OrderUpdate,
  parseOrderIntent,
} from "@tradecron/core";
import { afterEach, describe, expect, it } from "vitest";
import { AlpacaBroker, type AlpacaHealth } from "../src/index.js";
import { FakeAlpaca } from "../src/testing/index.js";
import { eventually, fakeAndBroker, quickOptions } from "./helpers.js";

const run = `stream-${Date.now()}`;
let n = 0;
const buy = (qty = "1", extra: Record<string, unknown> = {}) => ({
  clientOrderId: clientOrderId(run, n++),
  intent: parseOrderIntent({ symbol: "AAPL", side: "buy", qty, type: "market", ...extra }),
});
const resting = () => buy("4", { type: "limit", limitPrice: "50", timeInForce: "gtc" });

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function connected(options: Parameters<typeof fakeAndBroker>[0] = {}, fakeOptions = {}) {
  const ctx = await fakeAndBroker(options, fakeOptions);
  closers.push(ctx.close);
  const updates: OrderUpdate[] = [];
  ctx.broker.onOrderUpdate((u) => updates.push(u));
  await ctx.broker.connect();
  ctx.fake.setPrice("AAPL", "100");
  return { ...ctx, updates };
}

const eventsOf = (updates: OrderUpdate[], id: string) =>
  updates
    .filter((u) => u.order.clientOrderId === id)
    .map((u) => `${u.event}:${u.order.status}:${u.order.filledQty}`);

describe("the trade_updates stream", () => {
  it("pushes new, partial_fill and fill, with the order's state in core's terms", async () => {
    const { fake, broker, updates } = await connected();
    const req = resting();
    const order = await broker.submitOrder(req);
    fake.execute(order.id, { qty: "1", price: "49" });
    fake.execute(order.id, { price: "48" });
    await eventually(() => eventsOf(updates, req.clientOrderId).length === 3);
    expect(eventsOf(updates, req.clientOrderId)).toEqual([
      "new:new:0",
      "partial_fill:partially_filled:1",
      "fill:filled:4",
    ]);
    const last = updates.at(-1) as OrderUpdate;
    expect(last.order.filledAvgPrice).toBe("48.25");
    expect(broker.health().updates.stream).toBe("listening");
  });

  it("delivers a duplicated event once (dedupe on execution_id)", async () => {
    const { fake, broker, updates } = await connected();
    fake.duplicateEvents(5);
    const req = buy();
    await broker.submitOrder(req);
    await eventually(() => eventsOf(updates, req.clientOrderId).includes("fill:filled:1"));
    await new Promise((r) => setTimeout(r, 50));
    expect(eventsOf(updates, req.clientOrderId)).toEqual(["new:new:0", "fill:filled:1"]);
    expect(fake.streamStats.duplicatesSent).toBeGreaterThanOrEqual(2);
    expect(broker.health().updates.duplicatesDropped).toBeGreaterThanOrEqual(2);
  });

  it("never moves an order backwards when events arrive out of order", async () => {
    const { fake, broker, updates } = await connected();
    fake.reorderEvents(1); // the `new` event is delivered after the `fill`
    const req = buy();
    await broker.submitOrder(req);
    await eventually(() => eventsOf(updates, req.clientOrderId).length > 0);
    await new Promise((r) => setTimeout(r, 80));
    expect(eventsOf(updates, req.clientOrderId)).toEqual(["fill:filled:1"]);
    expect(broker.health().updates.staleDropped).toBeGreaterThanOrEqual(1);
  });

  it("reconnects after a dropped stream and reconciles by REST, so a fill during the gap is not missed", async () => {
    const { fake, broker, updates } = await connected();
    const req = resting();
    const order = await broker.submitOrder(req);
    await eventually(() => eventsOf(updates, req.clientOrderId).length === 1);
    const seen: AlpacaHealth["updates"]["stream"][] = [];
    broker.onConnectionChange((connected, health) => {
      expect(connected).toBe(true); // a stream gap does not end the session
      seen.push(health.updates.stream);
    });
    // What core's Trading sees through the Broker contract: the broker-neutral detail.
    const details: (BrokerConnectionDetail | undefined)[] = [];
    (broker as Broker).onConnectionChange?.((_connected, detail) => details.push(detail));
    fake.refuseStream(2); // and the first reconnects are refused, as while Alpaca reaps the old socket
    fake.dropStream();
    fake.execute(order.id, { price: "45" }); // nobody listens: this event is lost
    expect(fake.streamStats.eventsLost).toBeGreaterThanOrEqual(1);
    await eventually(() => eventsOf(updates, req.clientOrderId).includes("fill:filled:4"), 5_000, "the fill");
    const fill = updates.find((u) => u.order.clientOrderId === req.clientOrderId && u.event === "fill");
    expect(fill?.order.filledAvgPrice).toBe("45");
    await eventually(() => broker.health().updates.stream === "listening");
    expect(seen).toContain("reconnecting");
    expect(seen).toContain("refused");
    expect(seen.at(-1)).toBe("listening");
    expect(details.some((d) => d?.stream?.state === "reconnecting")).toBe(true);
    expect(details.at(-1)).toMatchObject({ rest: { ok: true }, stream: { ok: true, state: "listening" } });
    expect(broker.health().updates.reconnects).toBeGreaterThanOrEqual(1);
    expect(broker.isConnected()).toBe(true);
  });

  it("reports connection changes once per connect and disconnect, with the health", async () => {
    const fake = await FakeAlpaca.start();
    closers.push(() => fake.close());
    const broker = new AlpacaBroker(quickOptions(fake));
    closers.push(() => broker.disconnect());
    const seen: [boolean, string][] = [];
    broker.onConnectionChange((c, h) => seen.push([c, h.updates.stream]));
    await broker.connect();
    await broker.connect(); // verifies the account again; no change
    await broker.disconnect();
    expect(seen).toEqual([
      [true, "listening"],
      [false, "off"],
    ]);
  });
});

describe("several instances on one Alpaca account", () => {
  it("with updates 'stream' everywhere: one holds the stream, the other polls, and takes the stream over when the holder leaves", async () => {
    const fake = await FakeAlpaca.start();
    closers.push(() => fake.close());
    fake.setPrice("AAPL", "100");
    const a = new AlpacaBroker(quickOptions(fake));
    const b = new AlpacaBroker(quickOptions(fake));
    closers.push(
      () => b.disconnect(),
      () => a.disconnect(),
    );
    const heardByB: OrderUpdate[] = [];
    b.onOrderUpdate((u) => heardByB.push(u));
    await a.connect();
    await b.connect();
    expect(a.health().updates.stream).toBe("listening");
    expect(b.health().updates).toMatchObject({ stream: "refused", polling: true });
    expect(fake.streamListeners).toBe(1);

    const req = buy();
    await a.submitOrder(req); // placed by A, filled; B learns it by polling
    await eventually(
      () => eventsOf(heardByB, req.clientOrderId).includes("fill:filled:1"),
      3_000,
      "B hears the fill",
    );

    await a.disconnect();
    await eventually(() => b.health().updates.stream === "listening", 3_000, "B takes the stream over");
    expect(b.health().updates.polling).toBe(false);
    const next = buy();
    await b.submitOrder(next);
    await eventually(() => eventsOf(heardByB, next.clientOrderId).includes("fill:filled:1"));
  });

  it("with an ownership rule: the owner streams, the others poll, and ownership can move", async () => {
    const fake = await FakeAlpaca.start();
    closers.push(() => fake.close());
    fake.setPrice("AAPL", "100");
    let leader = "a";
    const rule = (me: string) => ({ isOwner: () => leader === me, checkEveryMs: 50 });
    const a = new AlpacaBroker(quickOptions(fake, { updates: rule("a") }));
    const b = new AlpacaBroker(quickOptions(fake, { updates: rule("b") }));
    closers.push(
      () => b.disconnect(),
      () => a.disconnect(),
    );
    await Promise.all([a.connect(), b.connect()]);
    expect(a.health().updates).toMatchObject({
      mode: "owner-rule",
      owner: true,
      stream: "listening",
      polling: false,
    });
    expect(b.health().updates).toMatchObject({
      mode: "owner-rule",
      owner: false,
      stream: "off",
      polling: true,
    });
    expect(fake.streamStats.refused).toBe(0); // nobody even tried a second stream
    leader = "b";
    await eventually(
      () => b.health().updates.stream === "listening" && a.health().updates.stream === "off",
      3_000,
      "handover",
    );
    expect(fake.streamListeners).toBe(1);
  });

  it("with updates 'poll': never opens a stream and still reports fills and cancels", async () => {
    const { fake, broker, updates } = await connected({ updates: "poll" });
    expect(broker.health().updates).toMatchObject({ mode: "poll", stream: "off", polling: true });
    const req = resting();
    const order = await broker.submitOrder(req);
    fake.execute(order.id, { qty: "1", price: "40" });
    await eventually(() => eventsOf(updates, req.clientOrderId).includes("partial_fill:partially_filled:1"));
    await broker.cancelOrder(order.id);
    await eventually(() => eventsOf(updates, req.clientOrderId).includes("canceled:canceled:1"));
    expect(fake.streamStats.connections).toBe(0);
  });
});
