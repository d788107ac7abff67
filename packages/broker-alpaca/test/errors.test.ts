import { BrokerAuthError, isRetryable } from "@tradecron/core";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { AlpacaAuthError, AlpacaBroker } from "../src/index.js";
import { FakeAlpaca } from "../src/testing/index.js";
import { eventually, quickOptions } from "./helpers.js";

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const policy = {
  attempts: 3,
  backoff: { baseMs: 1, factor: 1, maxMs: 1, jitter: 0 },
  nonRetryable: [],
} as never;

describe("typed errors", () => {
  it("refuses wrong credentials with a final AlpacaAuthError at connect()", async () => {
    const fake = await FakeAlpaca.start();
    closers.push(() => fake.close());
    const broker = new AlpacaBroker(quickOptions(fake, { secretKey: "not-the-secret" }));
    const error = await broker.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AlpacaAuthError);
    // Core's broker-neutral class: code that catches bad credentials works with every adapter.
    expect(error).toBeInstanceOf(BrokerAuthError);
    expect(error).toMatchObject({ code: "BROKER_AUTH", status: 401, retryable: false });
    expect((error as AlpacaAuthError).details).toMatchObject({ status: 401 });
    expect(isRetryable(error, policy)).toBe(false);
    expect(broker.isConnected()).toBe(false);
  });

  it("reports 5xx and resets on reads as retryable BrokerUnavailableError, and REST health", async () => {
    const fake = await FakeAlpaca.start();
    closers.push(() => fake.close());
    const broker = new AlpacaBroker(quickOptions(fake, { updates: "none" }));
    closers.push(() => broker.disconnect());
    await broker.connect();
    fake.faults.inject({ kind: "unavailable", count: 2 });
    fake.faults.inject({ kind: "reset" });
    for (let i = 0; i < 3; i++) {
      const error = await broker.getPositions().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "BROKER_UNAVAILABLE", retryable: true });
      expect(isRetryable(error, policy)).toBe(true);
    }
    expect(broker.health().rest).toMatchObject({ ok: false, consecutiveFailures: 3 });
    expect(broker.isConnected()).toBe(true); // an outage does not end the session
    await broker.getPositions();
    expect(broker.health().rest.ok).toBe(true);
  });
});

describe("stream liveness", () => {
  it("drops a socket that stops answering pings, and reconnects", async () => {
    // A stream server that authenticates and listens, but never answers a ping (a half-dead link).
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", autoPong: false });
    closers.push(() => new Promise<void>((r) => wss.close(() => r())));
    let connections = 0;
    wss.on("connection", (ws) => {
      connections++;
      ws.on("message", (data: Buffer) => {
        const m = JSON.parse(data.toString());
        const reply =
          m.action === "authenticate"
            ? { stream: "authorization", data: { action: "authenticate", status: "authorized" } }
            : { stream: "listening", data: { streams: ["trade_updates"] } };
        ws.send(Buffer.from(JSON.stringify(reply)));
      });
    });
    await new Promise((r) => wss.once("listening", r));
    const port = (wss.address() as { port: number }).port;
    const fake = await FakeAlpaca.start();
    closers.push(() => fake.close());
    const broker = new AlpacaBroker(
      quickOptions(fake, { streamUrl: `ws://127.0.0.1:${port}/stream`, heartbeatMs: 40 }),
    );
    closers.push(() => broker.disconnect());
    await broker.connect();
    expect(broker.health().updates.stream).toBe("listening");
    await eventually(() => connections >= 2 && broker.health().updates.reconnects >= 1, 3_000, "a reconnect");
  });
});
