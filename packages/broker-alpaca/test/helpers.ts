/** Shared set-up: a fresh fake Alpaca and an AlpacaBroker pointed at it. */

import type { Logger } from "@tradecron/core";
import { AlpacaBroker, type AlpacaBrokerOptions } from "../src/index.js";
import { FakeAlpaca, type FakeAlpacaOptions } from "../src/testing/index.js";

/** Obviously fake credentials (the fake's defaults). */
export const KEY_ID = "test-key-id";
export const SECRET = "test-secret";

/**
 * Options that make the adapter quick in tests (short backoffs and polling). The request timeout
 * is long: on a loaded machine an answered request can take a second, and a test that wants a
 * timeout injects one (a `timeout` fault) and sets its own.
 */
export function quickOptions(fake: FakeAlpaca, extra: AlpacaBrokerOptions = {}): AlpacaBrokerOptions {
  return {
    keyId: KEY_ID,
    secretKey: SECRET,
    baseUrl: fake.url,
    streamUrl: fake.streamUrl,
    dataUrl: fake.url,
    requestTimeoutMs: 10_000,
    reconnect: { baseMs: 20, maxMs: 200, jitter: 0.5 },
    pollIntervalMs: 200,
    ...extra,
  };
}

/** A fake and a broker on it; `close` disconnects and stops both. */
export async function fakeAndBroker(
  brokerOptions: AlpacaBrokerOptions = {},
  fakeOptions: FakeAlpacaOptions = {},
): Promise<{ fake: FakeAlpaca; broker: AlpacaBroker; close: () => Promise<void> }> {
  const fake = await FakeAlpaca.start(fakeOptions);
  const broker = new AlpacaBroker(quickOptions(fake, brokerOptions));
  return {
    fake,
    broker,
    close: async () => {
      await broker.disconnect();
      await fake.close();
    },
  };
}

/** Waits (real time, bounded) until `check` holds. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 3_000,
  what = "condition",
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A logger that keeps every line (level, object, message) as JSON text. */
export function recordingLogger(lines: string[] = [], bindings: Record<string, unknown> = {}): Logger {
  const at = (level: string) => (obj: object | string, msg?: string) => {
    lines.push(
      JSON.stringify({ level, ...bindings, ...(typeof obj === "string" ? { msg: obj } : { ...obj, msg }) }),
    );
  };
  return {
    trace: at("trace"),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    fatal: at("fatal"),
    child: (more) => recordingLogger(lines, { ...bindings, ...more }),
  };
}
