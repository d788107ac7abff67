// A credential must never appear in a log line, an error message, an error's toJSON(), its stack,
// its cause chain, or the broker's own printed form: under wrong credentials, network failures,
// 5xx, 429, ambiguous submits, a stream refusal, and a server that echoes headers back.

import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { clientOrderId, parseOrderIntent } from "@tradecron/core";
import { describe, expect, it } from "vitest";
import { AlpacaBroker } from "../src/index.js";
import { FakeAlpaca } from "../src/testing/index.js";
import { quickOptions, recordingLogger } from "./helpers.js";

const KEY = "test-key-id-42";
const SECRET = "test-secret-0123456789";

/** Every text an error can show, its causes included. */
function texts(error: unknown): string[] {
  const out: string[] = [];
  for (let e: unknown = error, depth = 0; e && depth < 6; depth++) {
    out.push(String(e), inspect(e, { depth: 5 }));
    if (e instanceof Error) out.push(e.message, String(e.stack));
    const json = (e as { toJSON?: () => unknown }).toJSON;
    if (typeof json === "function") out.push(JSON.stringify(json.call(e)));
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

function expectClean(lines: string[]): void {
  for (const line of lines) {
    expect(line).not.toContain(KEY);
    expect(line).not.toContain(SECRET);
  }
}

describe("secrets stay secret", () => {
  it("under every failure the adapter reports", async () => {
    const logs: string[] = [];
    const errors: unknown[] = [];
    const fake = await FakeAlpaca.start({ keyId: KEY, secretKey: SECRET });
    const options = quickOptions(fake, {
      keyId: KEY,
      secretKey: SECRET,
      logger: recordingLogger(logs),
      onError: (e) => errors.push(e),
      requestTimeoutMs: 2_000, // an accept_then_timeout below waits it out; answered requests stay clear of it
    });
    const broker = new AlpacaBroker(options);
    const wrong = new AlpacaBroker({ ...options, secretKey: `${SECRET}-wrong` });
    const attempt = async (p: Promise<unknown>) => p.catch((e: unknown) => errors.push(e));
    await attempt(wrong.connect()); // 401
    await broker.connect();
    fake.setPrice("AAPL", "10");
    const req = (i: number) => ({
      clientOrderId: clientOrderId("secrets", i),
      intent: parseOrderIntent({ symbol: "AAPL", side: "buy", qty: 1 }),
    });
    fake.faults.inject({ kind: "accept_then_timeout", route: "postOrder" });
    fake.faults.inject({ kind: "unavailable", route: "getOrderByClientOrderId" });
    await attempt(broker.submitOrder(req(1)));
    fake.faults.inject({ kind: "rate_limited" });
    await attempt(broker.getAccount());
    fake.faults.inject({ kind: "reset", count: 3 });
    await attempt(broker.getPositions());
    await attempt(broker.getPositions());
    await attempt(broker.getPositions());
    await attempt(broker.submitOrder(req(2)));
    await attempt(
      broker.submitOrder({ clientOrderId: "x", intent: { symbol: "AAPL", side: "buy", qty: -1 } as never }),
    );
    await attempt(broker.submitOrder(req(3)));
    fake.dropStream();
    await broker.disconnect();
    await fake.close();
    await attempt(broker.connect()); // refused connection
    expect(errors.length).toBeGreaterThanOrEqual(8);
    expect(logs.length).toBeGreaterThan(5);
    expectClean([
      ...logs,
      ...errors.flatMap(texts),
      inspect(broker, { depth: 10, showHidden: true }),
      JSON.stringify(broker),
      JSON.stringify(broker.health()),
      String(broker),
    ]);
  }, 30_000); // it waits out a request timeout (2 s) and a few reconnects: room for a loaded machine

  it("redacts a credential that a server echoes back in an error", async () => {
    let seen: IncomingMessage["headers"] = {};
    const server = createServer((req, res) => {
      seen = req.headers;
      res.writeHead(req.url?.startsWith("/v2/account") ? 200 : 422, { "content-type": "application/json" });
      res.end(
        req.url?.startsWith("/v2/account")
          ? JSON.stringify({ id: "acct", status: "ACTIVE", cash: "1" })
          : JSON.stringify({
              code: 42210000,
              message: `bad key ${req.headers["apca-api-key-id"]} / ${req.headers["apca-api-secret-key"]}`,
            }),
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const { port } = server.address() as AddressInfo;
    const logs: string[] = [];
    const broker = new AlpacaBroker({
      keyId: KEY,
      secretKey: SECRET,
      baseUrl: `http://127.0.0.1:${port}`,
      updates: "none",
      logger: recordingLogger(logs),
    });
    await broker.connect();
    const error = await broker
      .submitOrder({
        clientOrderId: "echo-1",
        intent: parseOrderIntent({ symbol: "AAPL", side: "buy", qty: 1 }),
      })
      .catch((e: unknown) => e);
    expect(seen["apca-api-secret-key"]).toBe(SECRET); // it was sent, and echoed back
    expect((error as Error).message).toMatch(/bad key \[redacted\] \/ \[redacted\]/);
    expectClean([...texts(error), ...logs]);
    await broker.disconnect();
    await new Promise<void>((r) => server.close(() => r()));
  });
});
