/**
 * TWS's system messages as the adapter reports them (BrokerConnectionDetail) and as a Scheduler
 * with the default risk guard (`requireBrokerConnection: true`) lives through them: health during
 * 1100, an order held during 1100 and placed once after 1102, the re-sync after 1101, a session
 * that opens while TWS is cut off from IB, and the data farm notices that change nothing.
 * Always the fake TWS driven by the real @stoqey/ib client inside the adapter.
 */

import {
  type BrokerConnectionDetail,
  BrokerUnavailableError,
  MemoryStorage,
  type Notification,
  Scheduler,
} from "@tradecron/core";
import { describe, expect, it } from "vitest";
import type { IbkrBroker, IbkrConnectionDetail } from "../src/index.js";
import type { FakeTws } from "../src/testing/index.js";
import { cleanupsPerTest, drive, order, rejection, runsInFlight, settle, until } from "./helpers.js";

const { cleanups, setup } = cleanupsPerTest();

const RETRY = { attempts: 3, backoff: { baseMs: "60s", factor: 2 } };

/** Records what connection listeners hear. */
function listen(broker: IbkrBroker): [boolean, BrokerConnectionDetail | undefined][] {
  const heard: [boolean, BrokerConnectionDetail | undefined][] = [];
  broker.onConnectionChange((connected, detail) => heard.push([connected, detail]));
  return heard;
}

/** The reconcile requests TWS received so far. */
function reconcileRequests(tws: FakeTws) {
  const r = tws.stats.received;
  return {
    openOrders: r.REQ_ALL_OPEN_ORDERS ?? 0,
    completed: r.REQ_COMPLETED_ORDERS ?? 0,
    executions: r.REQ_EXECUTIONS ?? 0,
  };
}

/** A Scheduler with the default risk guard over the pair's broker, buying `qty` AAPL at 15:00 UTC. */
async function withScheduler(p: Awaited<ReturnType<typeof setup>>, intent: Record<string, unknown>) {
  const storage = new MemoryStorage();
  const notices: Notification[] = [];
  const scheduler = new Scheduler({
    clock: p.clock,
    storage,
    broker: p.broker,
    notifiers: [{ name: "test", notify: async (n) => void notices.push(n) }],
  });
  const submitErrors: unknown[] = [];
  scheduler.register("buy", async (ctx) => {
    try {
      return (await ctx.submit({ symbol: "AAPL", side: "buy", ...intent })).status;
    } catch (error) {
      submitErrors.push(error);
      throw error;
    }
  });
  await scheduler.createSchedule({
    id: "buy_at_three",
    job: "buy",
    trigger: { cron: "0 15 * * *", timezone: "UTC" },
    retry: RETRY,
  });
  await scheduler.start();
  cleanups.push(() => scheduler.stop());
  // Changes after the start (which reports the broker connected, and is not news).
  const events: { kind: string; detail?: BrokerConnectionDetail }[] = [];
  scheduler.on("broker:disconnected", (e) => events.push({ kind: "disconnected", ...e }));
  scheduler.on("broker:connected", (e) => events.push({ kind: "connected", ...e }));
  const busy = async () => (p.tws.isUp && !p.broker.isConnected()) || runsInFlight(storage);
  const driveTo = (iso: string) => drive(p.clock, Date.parse(iso), busy, { scheduler });
  return { scheduler, storage, notices, submitErrors, events, driveTo };
}

describe("1100 / 1102 through a Scheduler with requireBrokerConnection: true (the default)", () => {
  it("reports degraded health and holds the order during 1100, then places it once after 1102", async () => {
    const p = await setup(); // 14:30 UTC
    const { tws, broker, clock } = p;
    tws.setPrice("AAPL", "100");
    const s = await withScheduler(p, { qty: 3 });
    await s.driveTo("2026-01-05T14:59:00Z");
    expect(s.scheduler.health().status).toBe("healthy");

    tws.loseLink(1100);
    await until(clock, () => !broker.isConnected(), { what: "1100" });
    const health = s.scheduler.health();
    expect(health.status).toBe("degraded");
    expect(health.reasons).toContain("broker ibkr is disconnected");
    expect(broker.connectionDetail()).toMatchObject({
      code: 1100,
      reason: expect.stringMatching(
        /^TWS 1100: Connectivity between IB and Trader Workstation has been lost/,
      ),
      rest: { ok: true, state: "connected" },
      stream: { ok: false, state: "lost" },
    });
    expect(s.events).toEqual([
      expect.objectContaining({ kind: "disconnected", detail: expect.objectContaining({ code: 1100 }) }),
    ]);

    // The fire at 15:00: attempt 1 is held (retryable), nothing reaches TWS.
    await s.driveTo("2026-01-05T15:00:30Z");
    expect(s.submitErrors).toHaveLength(1);
    expect(s.submitErrors[0]).toBeInstanceOf(BrokerUnavailableError);
    expect(s.submitErrors[0]).toMatchObject({ retryable: true });
    expect(tws.orders()).toEqual([]);
    const [running] = (await s.scheduler.listExecutions({ scheduleId: "buy_at_three" })).items;
    expect(running).toMatchObject({ status: "running" }); // waiting for its retry

    tws.restoreLink({ dataLost: false });
    await until(clock, () => broker.isConnected(), { what: "1102" });
    expect(broker.connectionDetail()).toMatchObject({
      code: 1102,
      dataLost: false,
      stream: { ok: true, state: "linked" },
    });
    expect(s.scheduler.health().status).toBe("healthy");

    // Attempt 2, a minute after the first, places the order, once.
    await s.driveTo("2026-01-05T15:05:00Z");
    const [done] = (await s.scheduler.listExecutions({ scheduleId: "buy_at_three" })).items;
    expect(done).toMatchObject({ status: "succeeded", attempts: 2, result: "submitted" });
    expect(tws.orders()).toHaveLength(1);
    expect(tws.orders()[0]).toMatchObject({ filled: "3" });
    expect(s.notices.map((n) => n.kind)).toEqual(["broker_disconnected", "broker_reconnected"]);
    expect(s.notices[0]?.body).toMatch(/TWS 1100/);
    expect(s.notices[0]?.data).toMatchObject({ code: 1100, stream: { ok: false, state: "lost" } });
    expect(s.events.map((e) => [e.kind, e.detail?.code])).toEqual([
      ["disconnected", 1100],
      ["connected", 1102],
    ]);
  }, 60_000);

  it("after 1101 re-reads open orders, completed orders and executions before it reports connected, and the order record catches the fill it missed", async () => {
    const p = await setup();
    const { tws, broker, clock } = p;
    tws.setPrice("AAPL", "100");
    const s = await withScheduler(p, { qty: 5, type: "limit", limitPrice: 95, timeInForce: "gtc" });
    await s.driveTo("2026-01-05T15:01:00Z");
    const [placed] = (await s.scheduler.listOrders()).items;
    expect(placed).toMatchObject({ status: "new" });
    const heard = listen(broker);

    tws.loseLink(1100);
    await until(clock, () => !broker.isConnected(), { what: "1100" });
    tws.setPrice("AAPL", "94"); // fills at IB while TWS is cut off; the messages are lost with 1101
    const before = reconcileRequests(tws);
    tws.restoreLink({ dataLost: true });
    await until(clock, () => broker.isConnected(), { what: "the re-sync after 1101" });
    const after = reconcileRequests(tws);
    expect(after.openOrders).toBe(before.openOrders + 1);
    expect(after.completed).toBe(before.completed + 1);
    expect(after.executions).toBe(before.executions + 1);
    expect(heard.map(([c, d]) => [c, d?.code, d?.dataLost])).toEqual([
      [false, 1100, undefined],
      [true, 1101, true],
    ]);
    expect(heard[1]?.[1]).toMatchObject({ stream: { ok: true, state: "linked" } });

    await s.driveTo("2026-01-05T15:03:00Z");
    const [record] = (await s.scheduler.listOrders()).items;
    expect(record).toMatchObject({ status: "filled", filledQty: "5", avgFillPrice: "94" });
    expect(tws.orders()).toHaveLength(1);
    expect(s.notices.at(-1)?.body).toMatch(/TWS 1101.*may have lost order updates/s);
  }, 60_000);
});

describe("the adapter's connection state", () => {
  it("refuses an order whose pre-placement reconcile meets 1100, and places it once after 1102", async () => {
    const { clock, tws, broker } = await setup();
    const req = order({ symbol: "AAPL", side: "buy", qty: 1, type: "limit", limitPrice: 1 });
    const submitting = broker.submitOrder(req); // found the connection ready...
    tws.loseLink(1100); // ...and TWS loses IB before its reconcile is answered
    const error = await rejection(clock, submitting);
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect(error.message).toMatch(/lost its connection to IB \(1100\)/);
    expect((error as BrokerUnavailableError).details).toMatchObject({
      ibCode: 1100,
      connection: { rest: { ok: true }, stream: { ok: false, state: "lost" } },
    });
    expect(tws.stats.received.PLACE_ORDER ?? 0).toBe(0);
    tws.restoreLink({ dataLost: false });
    await until(clock, () => broker.isConnected(), { what: "1102" });
    await settle(clock, broker.submitOrder(req));
    expect(tws.ordersWithRef(req.clientOrderId)).toHaveLength(1);
  });

  it("does not count a session that opens while TWS is cut off from IB as connected until the link is back", async () => {
    const { clock, tws, broker } = await setup({ connect: false });
    tws.loseLink(1100); // TWS sends 1100 right after the handshake
    const heard = listen(broker);
    const error = await rejection(clock, broker.connect());
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect(error.message).toMatch(/lost its connection to IB \(1100\)/);
    expect(broker.isConnected()).toBe(false);
    expect(broker.connectionDetail()).toMatchObject({
      code: 1100,
      rest: { ok: true, state: "connected" },
      stream: { ok: false, state: "lost" },
    });
    const req = order({ symbol: "AAPL", side: "buy", qty: 1, type: "limit", limitPrice: 1 });
    expect(await rejection(clock, broker.submitOrder(req))).toBeInstanceOf(BrokerUnavailableError);
    expect(tws.ordersWithRef(req.clientOrderId)).toEqual([]);
    expect(heard).toEqual([]); // never connected, so no change yet

    tws.restoreLink({ dataLost: false });
    await until(clock, () => broker.isConnected(), { what: "1102" });
    expect(heard.map(([c, d]) => [c, d?.code])).toEqual([[true, 1102]]);
    await settle(clock, broker.submitOrder(req));
    expect(tws.ordersWithRef(req.clientOrderId)).toHaveLength(1);
    expect(tws.stats.sessions).toBe(1);
  });

  it("reports a dropped socket and the reconnect in the detail", async () => {
    const { clock, tws, broker } = await setup();
    const heard = listen(broker);
    tws.dropConnections();
    await until(clock, () => !broker.isConnected(), { what: "the drop" });
    expect(heard[0]?.[0]).toBe(false);
    expect(heard[0]?.[1]).toMatchObject({
      reason: expect.stringMatching(/connection to TWS was lost .*; reconnecting/),
      rest: { ok: false, state: "reconnecting" },
      stream: { ok: false, state: "unknown" },
    });
    await until(clock, () => broker.isConnected(), { what: "the reconnect" });
    expect(heard[1]?.[0]).toBe(true);
    expect(heard[1]?.[1]).toMatchObject({
      reason: expect.stringMatching(/^connected to TWS at 127\.0\.0\.1:\d+ \(client id 7\)$/),
      rest: { ok: true, state: "connected" },
      stream: { ok: true, state: "linked" },
    });
    await broker.disconnect();
    expect(broker.connectionDetail()).toMatchObject({
      reason: "disconnected by the caller",
      rest: { ok: false, state: "disconnected" },
    });
  });

  it("keeps data farm notices (2103-2106, 2157/2158) as information: no connection change, orders still placed", async () => {
    const warnings: string[] = [];
    const logger = {
      trace() {},
      debug() {},
      info() {},
      warn: (o: object | string, line?: string) => void warnings.push(line ?? String(o)),
      error() {},
      fatal() {},
      child() {
        return logger;
      },
    };
    const { clock, tws, broker } = await setup({ broker: { logger } });
    const farms = () => Object.fromEntries(broker.connectionDetail().farms.map((f) => [f.name, f.ok]));
    // The fake, like TWS, reports its farms OK after the handshake.
    await until(clock, () => Object.keys(farms()).length === 3, { what: "the farm notices" });
    expect(farms()).toEqual({ secdefnj: true, usfarm: true, ushmds: true });
    const heard = listen(broker);
    tws.notice(2103, "Market data farm connection is broken:usfarm");
    tws.notice(2105, "HMDS data farm connection is broken:ushmds");
    tws.notice(2157, "Sec-def data farm connection is broken:secdefnj");
    await until(clock, () => !Object.values(farms()).some((ok) => ok), { what: "the broken farms" });
    const detail: IbkrConnectionDetail = broker.connectionDetail();
    expect(detail.farms.find((f) => f.name === "usfarm")).toMatchObject({
      kind: "market data",
      ok: false,
      code: 2103,
    });
    expect(broker.isConnected()).toBe(true);
    expect(detail.stream).toEqual({ ok: true, state: "linked" });
    const req = order({ symbol: "AAPL", side: "buy", qty: 1, type: "limit", limitPrice: 1 });
    await settle(clock, broker.submitOrder(req));
    expect(tws.ordersWithRef(req.clientOrderId)).toHaveLength(1);
    tws.notice(2104, "Market data farm connection is OK:usfarm");
    tws.notice(2106, "HMDS data farm connection is OK:ushmds");
    tws.notice(2158, "Sec-def data farm connection is OK:secdefnj");
    await until(clock, () => Object.values(farms()).every((ok) => ok), { what: "the farms back" });
    expect(heard).toEqual([]);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/market data farm usfarm broken \(TWS 2103/);
  });
});
