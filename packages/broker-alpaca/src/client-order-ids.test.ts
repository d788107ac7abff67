import { clientOrderId, parseOrderIntent } from "@tradecron/core";
import { describe, expect, it } from "vitest";
import { ClientOrderIds, MAX_CLIENT_ORDER_ID_LENGTH, wireClientOrderId } from "./client-order-ids.js";
import { AlpacaBroker } from "./index.js";
import { FakeAlpaca } from "./testing/index.js";

describe("client order ids on the wire", () => {
  it("sends core's ids as they are: they fit 48 characters", () => {
    for (let i = 0; i < 200; i++) {
      const id = clientOrderId(`schedule-${i}@2026-01-05T14:30:00.000Z#attempt`, i);
      expect(id.length).toBeLessThanOrEqual(MAX_CLIENT_ORDER_ID_LENGTH);
      expect(wireClientOrderId(id)).toBe(id);
    }
  });

  it("digests longer or unusual ids into 48 deterministic characters, and maps them back", () => {
    const long = `my-strategy:${"x".repeat(100)}`;
    const wire = wireClientOrderId(long);
    expect(wire).toHaveLength(47); // "tch-" and the 43 characters of a base64url SHA-256
    expect(wire).toBe(wireClientOrderId(long));
    expect(wire).not.toBe(wireClientOrderId(`${long}y`));
    expect(wireClientOrderId("has a space")).toMatch(/^tch-/);
    const ids = new ClientOrderIds();
    expect(ids.toWire(long)).toBe(wire);
    expect(ids.fromWire(wire)).toBe(long);
    expect(ids.fromWire("plain")).toBe("plain");
  });

  it("keeps a long id idempotent and findable across a restart of the adapter", async () => {
    const fake = await FakeAlpaca.start();
    const options = {
      keyId: fake.keyId,
      secretKey: fake.secretKey,
      baseUrl: fake.url,
      updates: "none" as const,
    };
    const long = `rebalance/2026-01-05/${"leg".repeat(20)}`;
    const request = {
      clientOrderId: long,
      intent: parseOrderIntent({ symbol: "AAPL", side: "buy", qty: 1, type: "limit", limitPrice: 1 }),
    };
    const first = new AlpacaBroker(options);
    await first.connect();
    const placed = await first.submitOrder(request);
    expect(placed.clientOrderId).toBe(long);
    await first.disconnect();
    const restarted = new AlpacaBroker(options); // a new process: no memory of the mapping
    await restarted.connect();
    expect((await restarted.getOrder({ clientOrderId: long }))?.id).toBe(placed.id);
    const again = await restarted.submitOrder(request);
    expect(again).toMatchObject({ id: placed.id, clientOrderId: long });
    expect(fake.orders()).toHaveLength(1);
    expect(fake.orders()[0]?.client_order_id).toBe(wireClientOrderId(long));
    await restarted.disconnect();
    await fake.close();
  });
});
