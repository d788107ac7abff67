/**
 * TRADECRON_BROKER=alpaca and =ibkr: the host built from the environment, as the binary builds it,
 * against each adapter's local fake of the real protocol (Alpaca's REST + trade_updates stream,
 * TWS's socket protocol). A proposal approved over the host's API must reach the fake as one order.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { FakeAlpaca } from "@tradecron/broker-alpaca/testing";
import { FakeTws } from "@tradecron/broker-ibkr/testing";
import { TestClock } from "@tradecron/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, configFromEnv } from "./config.js";
import { type HostFromEnv, startFromEnv } from "./from-env.js";
import type { ExpressHost } from "./server.js";

let dir: string;
let started: HostFromEnv | null = null;
const cleanups: (() => Promise<void>)[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tc-express-brokers-"));
});
afterEach(async () => {
  await started?.host.stop();
  started = null;
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await rm(dir, { recursive: true, force: true });
});

const base = () => ({ PORT: "0", TRADECRON_DATA_DIR: dir, TRADECRON_DEV_TOKEN: "1" });

interface ApprovalDto {
  id: string;
  clientOrderId: string;
  intent: { symbol: string };
}

/** Runs the morning scan now and approves its AAPL proposal over HTTP; returns that approval. */
async function approveAaplThroughTheHost(host: ExpressHost): Promise<ApprovalDto> {
  const headers = {
    authorization: `Bearer ${host.generatedToken}`,
    "content-type": "application/json",
  };
  const run = await fetch(`${host.url}/scheduler/schedules/morning-scan/trigger`, {
    method: "POST",
    headers,
    body: JSON.stringify({ wait: true }),
  });
  expect(run.status).toBe(200);
  expect(((await run.json()) as { status: string }).status).toBe("succeeded");
  const list = await fetch(`${host.url}/scheduler/approvals?status=pending`, { headers });
  const { items } = (await list.json()) as { items: ApprovalDto[] };
  expect(items.map((a) => a.intent.symbol).sort()).toEqual(["AAPL", "TSLA"]);
  const aapl = items.find((a) => a.intent.symbol === "AAPL") as ApprovalDto;
  const approved = await fetch(`${host.url}/scheduler/approvals/${aapl.id}/approve`, {
    method: "POST",
    headers,
    body: JSON.stringify({ reason: "checked" }),
  });
  expect(approved.status).toBe(200);
  expect(((await approved.json()) as { ok: boolean }).ok).toBe(true);
  return aapl;
}

describe("TRADECRON_BROKER=alpaca", () => {
  it("trades through AlpacaBroker: an approved proposal reaches (the fake) Alpaca once", async () => {
    const fake = await FakeAlpaca.start({ initialCash: "100000" });
    cleanups.push(() => fake.close());
    fake.setPrice("AAPL", "190.10");
    fake.setPrice("TSLA", "251.20");
    started = await startFromEnv(
      {
        ...base(),
        TRADECRON_BROKER: "alpaca",
        APCA_API_KEY_ID: fake.keyId,
        APCA_API_SECRET_KEY: fake.secretKey,
        TRADECRON_ALPACA_BASE_URL: fake.url,
        TRADECRON_ALPACA_DATA_URL: fake.url,
      },
      { clock: new TestClock() },
    );
    const { host, config } = started;
    expect(config.broker).toMatchObject({ kind: "alpaca", paper: true });
    expect(host.scheduler.broker?.name).toBe("alpaca");
    expect(host.scheduler.broker?.isConnected()).toBe(true);

    const aapl = await approveAaplThroughTheHost(host);
    const orders = fake.orders().filter((o) => o.client_order_id === aapl.clientOrderId);
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ symbol: "AAPL", side: "buy", qty: "10" });
    expect(fake.orders()).toHaveLength(1); // TSLA still waits for a person
  });

  it("names the missing key, keeps the keys out of printouts, and stays on paper unless told", () => {
    const env = { ...base(), TRADECRON_BROKER: "alpaca" };
    expect(() => configFromEnv(env)).toThrow(/APCA_API_KEY_ID: is not set/);
    expect(() => configFromEnv({ ...env, APCA_API_KEY_ID: "PKTESTKEY123" })).toThrow(
      /APCA_API_SECRET_KEY: is not set/,
    );
    const keys = { ...env, APCA_API_KEY_ID: "PKTESTKEY123", APCA_API_SECRET_KEY: "s3cret-value-xyz" };
    const config = configFromEnv(keys);
    expect(config.broker).toMatchObject({ kind: "alpaca", paper: true });
    expect(JSON.stringify(config)).not.toContain("s3cret-value-xyz");
    expect(inspect(config, { depth: 5 })).not.toContain("s3cret-value-xyz");
    expect(configFromEnv({ ...keys, TRADECRON_ALPACA_LIVE: "1" }).broker).toMatchObject({ paper: false });
    const live = () => configFromEnv({ ...keys, TRADECRON_ALPACA_BASE_URL: "https://api.alpaca.markets" });
    expect(live).toThrow(ConfigError);
    expect(live).toThrow(/TRADECRON_ALPACA_BASE_URL: points at Alpaca's live host/);
    expect(() => configFromEnv({ ...keys, TRADECRON_ALPACA_LIVE: "yes" })).toThrow(/TRADECRON_ALPACA_LIVE/);
  });

  it("turns the adapter's own key check into a ConfigError naming the variable, without the value", async () => {
    const error = await startFromEnv({
      ...base(),
      TRADECRON_BROKER: "alpaca",
      APCA_API_KEY_ID: "short",
      APCA_API_SECRET_KEY: "s3cret-value-xyz",
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe("APCA_API_KEY_ID");
    expect((error as Error).message).toMatch(/^express-host: APCA_API_KEY_ID: must be 8 to 256/);
    expect((error as Error).message).not.toContain("short");
  });
});

describe("TRADECRON_BROKER=ibkr", () => {
  it("trades through IbkrBroker over the TWS socket protocol: an approved proposal reaches (the fake) TWS once", async () => {
    const tws = await FakeTws.start();
    cleanups.push(() => tws.close());
    tws.setPrice("AAPL", "190.10");
    started = await startFromEnv(
      {
        ...base(),
        TRADECRON_BROKER: "ibkr",
        TRADECRON_IBKR_PORT: String(tws.port),
        TRADECRON_IBKR_CLIENT_ID: "17",
        TRADECRON_IBKR_ACCOUNT: "DU1234567",
      },
      { clock: new TestClock() },
    );
    const { host, config } = started;
    expect(config.broker).toEqual({
      kind: "ibkr",
      host: "127.0.0.1",
      port: tws.port,
      clientId: 17,
      account: "DU1234567",
    });
    expect(host.scheduler.broker?.isConnected()).toBe(true);
    expect(tws.clientIds()).toEqual([17]);

    const aapl = await approveAaplThroughTheHost(host);
    const orders = tws.ordersWithRef(aapl.clientOrderId);
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ contract: { symbol: "AAPL" }, action: "BUY", account: "DU1234567" });
    expect(Number(orders[0]?.totalQuantity)).toBe(10);
    expect(tws.orders()).toHaveLength(1);
  });

  it("requires a client id and a valid port, naming the variable", () => {
    const env = { ...base(), TRADECRON_BROKER: "ibkr" };
    const missing = () => configFromEnv(env);
    expect(missing).toThrow(ConfigError);
    expect(missing).toThrow(/^express-host: TRADECRON_IBKR_CLIENT_ID: is required/);
    expect(() => configFromEnv({ ...env, TRADECRON_IBKR_CLIENT_ID: "1.5" })).toThrow(
      /TRADECRON_IBKR_CLIENT_ID: must be a whole number/,
    );
    for (const port of ["abc", "0", "70000", "74.97"]) {
      const bad = () => configFromEnv({ ...env, TRADECRON_IBKR_CLIENT_ID: "101", TRADECRON_IBKR_PORT: port });
      expect(bad).toThrow(ConfigError);
      expect(bad).toThrow(/^express-host: TRADECRON_IBKR_PORT: must be/);
    }
    const error = (() => {
      try {
        configFromEnv({ ...env, TRADECRON_IBKR_CLIENT_ID: "101", TRADECRON_IBKR_PORT: "abc" });
      } catch (e) {
        return e;
      }
    })();
    expect((error as ConfigError).variable).toBe("TRADECRON_IBKR_PORT");
    expect(configFromEnv({ ...env, TRADECRON_IBKR_CLIENT_ID: "101" }).broker).toEqual({
      kind: "ibkr",
      host: "127.0.0.1",
      port: 7497,
      clientId: 101,
    });
  });
});
