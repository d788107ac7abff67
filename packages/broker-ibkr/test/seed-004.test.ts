/**
 * Seed 004's operations on IBKR paper, as the package README shows them: a daily snapshot at
 * 16:35 UTC, a weekly rebalance on Sunday at 20:00 and a weekly report at 21:00, each with 3
 * attempts at 60 s / 120 s and a notification when a job fails for good, through TWS restarts.
 */

import { MemoryStorage, type Notification, type Notifier, Scheduler } from "@tradecron/core";
import { TestClock } from "@tradecron/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { IbkrBroker } from "../src/index.js";
import { FakeTws } from "../src/testing/index.js";
import { brokerOptions, drive, runsInFlight } from "./helpers.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const RETRY = { attempts: 3, backoff: { baseMs: "60s", factor: 2 } };
const TARGET = { SPY: 10, QQQ: 5 } as const;

async function seed004(start: string) {
  const clock = new TestClock(start);
  const tws = await FakeTws.start({ clock });
  tws.setPrice("SPY", "590");
  tws.setPrice("QQQ", "510");
  const broker = new IbkrBroker(brokerOptions(clock, tws.port, { port: tws.port }));
  const notices: Notification[] = [];
  const notifier: Notifier = { name: "webhook", notify: async (n) => void notices.push(n) };
  const storage = new MemoryStorage();
  // The default risk guard (requireBrokerConnection: true) holds a submit made while TWS restarts
  // with a retryable BrokerUnavailableError, so the retry policy rides through it.
  const scheduler = new Scheduler({ clock, storage, broker, notifiers: [notifier] });
  const snapshots: unknown[] = [];
  scheduler.register("daily-snapshot", async (ctx) => {
    const [account, positions] = await Promise.all([ctx.broker?.getAccount(), ctx.broker?.getPositions()]);
    snapshots.push({ at: ctx.fire.scheduledAt, equity: account?.equity, positions });
    return { equity: account?.equity ?? null };
  });
  scheduler.register("weekly-rebalance", async (ctx) => {
    const held = new Map((await ctx.broker?.getPositions())?.map((p) => [p.symbol, Number(p.qty)]));
    for (const [symbol, qty] of Object.entries(TARGET)) {
      const missing = qty - (held.get(symbol) ?? 0);
      if (missing > 0) await ctx.submit({ symbol, side: "buy", qty: missing });
    }
    return "rebalanced";
  });
  scheduler.register("weekly-report", async () => ({
    orders: (await scheduler.listOrders({ limit: 100 })).items.length,
  }));
  await scheduler.createSchedule({
    id: "daily_snapshot",
    job: "daily-snapshot",
    trigger: { cron: "35 16 * * *", timezone: "UTC" },
    retry: RETRY,
  });
  await scheduler.createSchedule({
    id: "weekly_rebalance",
    job: "weekly-rebalance",
    trigger: { cron: "0 20 * * 0", timezone: "UTC" },
    retry: RETRY,
  });
  await scheduler.createSchedule({
    id: "weekly_report",
    job: "weekly-report",
    trigger: { cron: "0 21 * * 0", timezone: "UTC" },
    retry: RETRY,
  });
  await scheduler.start();
  cleanups.push(async () => {
    await scheduler.stop();
    await broker.disconnect();
    await tws.close();
  });
  // Busy while a fire is in flight or the adapter reconnects to a TWS that is up; while TWS is
  // down with nothing to run, the clock may move in big steps (never past the next fire).
  const busy = async () => (tws.isUp && !broker.isConnected()) || runsInFlight(storage);
  const driveTo = (iso: string, each?: () => Promise<void>) =>
    drive(clock, Date.parse(iso), busy, { scheduler, ...(each ? { each } : {}) });
  return { clock, tws, broker, scheduler, storage, notices, snapshots, driveTo };
}

describe("seed 004 on IBKR", () => {
  it("rides through a TWS restart during the Sunday rebalance with 3 attempts at 60 s / 120 s, placing each order once", async () => {
    // Sunday 4 January 2026.
    const { clock, tws, scheduler, notices, snapshots, driveTo } = await seed004("2026-01-04T16:00:00Z");
    await driveTo("2026-01-04T19:59:00Z");
    expect(snapshots).toHaveLength(1);
    await tws.goDown(); // down from 19:59 to 20:01:30
    const back = Date.parse("2026-01-04T20:01:30Z");
    await driveTo("2026-01-04T21:30:00Z", async () => {
      if (!tws.isUp && clock.now() >= back) await tws.comeUp({ rollBackIds: true, newDay: false });
    });

    const [rebalance] = (await scheduler.listExecutions({ scheduleId: "weekly_rebalance" })).items;
    expect(rebalance).toMatchObject({ status: "succeeded", attempts: 3 });
    for (const symbol of Object.keys(TARGET)) {
      const atTws = tws.orders().filter((o) => o.contract.symbol === symbol);
      expect(atTws).toHaveLength(1);
      expect(atTws[0]?.filled).toBe(String(TARGET[symbol as keyof typeof TARGET]));
    }
    const [report] = (await scheduler.listExecutions({ scheduleId: "weekly_report" })).items;
    expect(report).toMatchObject({ status: "succeeded", result: { orders: 2 } });
    expect(notices.filter((n) => n.kind === "run_failed")).toEqual([]);
    expect(notices.map((n) => n.kind)).toEqual(["broker_disconnected", "broker_reconnected"]);

    // Through the nightly restart (23:45-00:15) to Monday's snapshot, which sees the new positions.
    await driveTo("2026-01-05T23:45:00Z");
    await tws.goDown();
    await driveTo("2026-01-06T00:15:00Z");
    await tws.comeUp({ rollBackIds: true, newDay: true });
    await driveTo("2026-01-06T17:00:00Z");
    expect(snapshots).toHaveLength(3);
    expect(
      (snapshots[2] as { positions: { symbol: string; qty: string }[] }).positions
        .map((p) => [p.symbol, p.qty])
        .sort(),
    ).toEqual([
      ["QQQ", "5"],
      ["SPY", "10"],
    ]);
  }, 30_000);

  it("notifies once when TWS stays away for all three attempts, and places nothing", async () => {
    const { tws, scheduler, notices, driveTo } = await seed004("2026-01-04T19:00:00Z");
    await driveTo("2026-01-04T19:58:00Z");
    await tws.goDown();
    await driveTo("2026-01-04T20:10:00Z");
    const [rebalance] = (await scheduler.listExecutions({ scheduleId: "weekly_rebalance" })).items;
    expect(rebalance).toMatchObject({ status: "failed", attempts: 3, error: { code: "BROKER_UNAVAILABLE" } });
    const failed = notices.filter((n) => n.kind === "run_failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]?.body).toMatch(/after 3 attempt\(s\)/);
    expect(tws.orders()).toEqual([]);
  }, 30_000);
});
