/**
 * DESIGN.md promise 2 through a real Scheduler on IBKR: 1,000 order intents over ten trading
 * days, with TWS's nightly restarts (ids rolled back, day orders expired, the day's executions
 * forgotten), restarts in the middle of a run, dropped connections, responses lost after TWS
 * took the order, pacing violations, and our own process dying between submit and record and
 * coming back as a new Scheduler and a new IbkrBroker on the same storage. At the end every
 * intent has exactly one order at the fake TWS, and every order is recorded.
 */

import { createHash } from "node:crypto";
import {
  MemoryStorage,
  type OrderIntentInput,
  type OrderRecord,
  Scheduler,
  type Storage,
} from "@tradecron/core";
import type { BrokerFault } from "@tradecron/core/testing";
import { TestClock } from "@tradecron/core/testing";
import { describe, expect, it } from "vitest";
import { IbkrBroker } from "../src/index.js";
import { FakeTws } from "../src/testing/index.js";
import { allOrders, brokerOptions, drive, runsInFlight, tick } from "./helpers.js";

/** A deterministic random source (SHA-256 of a seed and a counter): the same matrix on every run. */
function seeded(seed: string): () => number {
  let n = 0;
  return () => createHash("sha256").update(`${seed}:${n++}`).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * A process: its own view of the shared storage, and a hook that kills the process right after
 * the broker took an order and before the order is recorded. A killed process does nothing
 * more: its storage calls never complete, so its timers and loops stop where they are.
 */
function processStorage(shared: Storage, shouldDie: (order: OrderRecord) => boolean, die: () => void) {
  let dead = false;
  const storage = new Proxy(shared, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function" || prop === "watch") return value;
      return (...args: unknown[]) => {
        if (dead) return new Promise(() => {});
        if (prop === "upsertOrder" && shouldDie(args[0] as OrderRecord)) {
          dead = true;
          die();
          return new Promise(() => {});
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return storage;
}

const SYMBOLS = ["AAPL", "MSFT", "NVDA", "KO"] as const;
const PER_FIRE = 50;
const DAYS = 10;

describe("no duplicate orders through a Scheduler on IBKR (DESIGN.md promise 2)", () => {
  it("places each of 1,000 intents exactly once across TWS restarts, faults and restarts of our own process", async () => {
    const random = seeded("ibkr-matrix-2026-01-05");
    const clock = new TestClock("2026-01-05T00:00:00Z");
    // Completed orders are reported for the current trading day: every retry, takeover and
    // restart here happens the same day (the nightly-restart tests cover earlier days), and it
    // keeps each reconcile as small as a trader's day.
    const tws = await FakeTws.start({ clock, initialCash: "1000000000", completedOrderDays: 1 });
    for (const [i, s] of SYMBOLS.entries()) tws.setPrice(s, String(50 + 40 * i));
    const shared = new MemoryStorage();
    const stats = {
      faults: { unavailable: 0, accept_then_timeout: 0, rate_limited: 0 },
      midRunRestarts: 0,
      kills: 0,
      boots: 0,
    };
    let upserts = 0;
    const rolled = new Set<string>();
    const outcomes = new Map<string, string>();
    const killAt = new Set([137, 512, 801]);
    let submits = 0;
    const restartAt = new Set([260, 655, 905]);

    /** The intents of one fire: mostly market orders, some resting GTC limits, some day limits. */
    const intentOf = (key: string, index: number): OrderIntentInput => {
      const n = [...key].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, index);
      const symbol = SYMBOLS[n % SYMBOLS.length] as string;
      const kind = n % 50;
      if (kind === 0)
        return { symbol, side: "buy", qty: 1, type: "limit", limitPrice: 1, timeInForce: "gtc" };
      if (kind === 1)
        return { symbol, side: "buy", qty: 1, type: "limit", limitPrice: 2, timeInForce: "day" };
      return { symbol, side: "buy", qty: 1 + (n % 3) };
    };

    const current = { scheduler: null as Scheduler | null, broker: null as IbkrBroker | null };
    let killed = false;
    const boot = async () => {
      stats.boots++;
      const broker = new IbkrBroker(
        brokerOptions(clock, tws.port, {
          // Test-time I/O timeouts of an hour: the driver below moves the clock in big steps when idle.
          timeouts: {
            connectMs: 3_600_000,
            requestMs: 3_600_000,
            orderAckMs: 3_600_000,
            cancelMs: 3_600_000,
          },
          reconnect: { baseMs: 1_000, factor: 2, maxMs: 60_000, jitter: 0.3 },
          random,
        }),
      );
      const storage = processStorage(
        shared,
        (o) => o.brokerOrderId !== null && killAt.has(++upserts),
        () => {
          killed = true;
          stats.kills++;
          void broker.disconnect(); // the process is gone: its socket closes
        },
      );
      const scheduler = new Scheduler({
        clock,
        storage,
        broker,
        instanceId: `process-${stats.boots}`,
        leaseMs: 30_000,
      });
      scheduler.register("rebalance", async (ctx) => {
        for (let i = 0; i < PER_FIRE; i++) {
          const intent = intentOf(ctx.fire.idempotencyKey, i);
          const key = `${ctx.fire.idempotencyKey}#${i}`;
          // Each intent rolls for a fault once, the first time any process submits it.
          const roll = rolled.has(key) ? 1 : random();
          rolled.add(key);
          if (roll < 0.04) {
            const fault: BrokerFault =
              roll < 0.015 ? "unavailable" : roll < 0.03 ? "accept_then_timeout" : "rate_limited";
            tws.injectFault(fault, 1);
            stats.faults[fault]++;
          }
          if (restartAt.has(++submits) && tws.isUp) {
            // TWS restarts in the middle of a run, for a minute and a half of test time.
            stats.midRunRestarts++;
            const back = clock.now() + 90_000;
            void tws.goDown().then(async () => {
              while (clock.now() < back) await tick();
              await tws.comeUp({ rollBackIds: true, newDay: false });
            });
          }
          const out = await ctx.submit(intent);
          outcomes.set(key, out.status);
        }
        return "done";
      });
      if (stats.boots === 1) {
        await scheduler.createSchedule({
          id: "rebalance",
          job: "rebalance",
          trigger: { cron: "0 11,15 * * *", timezone: "UTC" },
          retry: { attempts: 30, backoff: { baseMs: "5s", factor: 1.5, maxMs: "1m" } },
        });
      }
      await scheduler.start();
      current.scheduler = scheduler;
      current.broker = broker;
    };
    await boot();

    const start = Date.parse("2026-01-05T00:00:00Z");
    let lastNight = -1;
    await drive(
      clock,
      start + DAYS * 86_400_000 + 3_600_000,
      // Busy while TWS or the connection is down, or a fire is in flight. Idle steps of ten
      // minutes land on the fire times (11:00, 15:00), never past them.
      async () => !tws.isUp || !current.broker?.isConnected() || runsInFlight(shared),
      {
        each: async () => {
          const day = Math.floor((clock.now() - start) / 86_400_000);
          if (
            clock.now() - start - day * 86_400_000 >= 23.75 * 3_600_000 &&
            day !== lastNight &&
            day < DAYS
          ) {
            // The nightly restart, 23:45-00:15 UTC: a new trading day when TWS comes back.
            lastNight = day;
            await tws.goDown();
            await clock.advance(30 * 60_000);
            await tws.comeUp({ rollBackIds: true, newDay: true });
          }
          if (killed) {
            // A supervisor restarts the process; it takes the dead one's fire over after its lease.
            killed = false;
            await tick();
            await boot();
          }
        },
      },
    );
    expect(await runsInFlight(shared)).toBe(false);

    // Every fire ran to success, and recorded one order per intent.
    const executions = (await shared.listExecutions({ scheduleId: "rebalance", limit: 100 })).items;
    expect(executions).toHaveLength(DAYS * 2);
    expect(executions.filter((e) => e.status !== "succeeded").map((e) => [e.status, e.error])).toEqual([]);
    const recorded = await allOrders(shared);
    expect([...outcomes.values()].filter((s) => s !== "submitted")).toEqual([]);
    expect(recorded).toHaveLength(DAYS * 2 * PER_FIRE);
    expect(recorded.filter((o) => o.brokerOrderId === null)).toEqual([]);

    // Zero duplicates at the broker: one order per client order id, and no order id reused as a modification.
    const atTws = tws.orders().filter((o) => o.orderRef.startsWith("tc-"));
    const byRef = new Map<string, number>();
    for (const o of atTws) byRef.set(o.orderRef, (byRef.get(o.orderRef) ?? 0) + 1);
    expect([...byRef.entries()].filter(([, n]) => n > 1)).toEqual([]);
    expect(byRef.size).toBe(DAYS * 2 * PER_FIRE);
    expect(new Set(recorded.map((o) => o.clientOrderId))).toEqual(new Set(byRef.keys()));
    for (const o of recorded)
      expect(o.brokerOrderId).toBe(String(tws.ordersWithRef(o.clientOrderId)[0]?.permId));
    expect(tws.stats.modified).toBe(0);
    // The positions are exactly the fills: nothing bought twice.
    const filledQty = new Map<string, number>();
    for (const o of atTws)
      filledQty.set(o.contract.symbol, (filledQty.get(o.contract.symbol) ?? 0) + Number(o.filled));
    const positions = await tws.exchange.positions("DU1234567");
    expect(Object.fromEntries(positions.map((p) => [p.contract.symbol, Number(p.qty)]))).toEqual(
      Object.fromEntries([...filledQty].filter(([, q]) => q > 0)),
    );

    // The matrix did what it claims.
    expect(stats.kills).toBe(3);
    expect(stats.midRunRestarts).toBe(3);
    expect(stats.faults.unavailable + stats.faults.accept_then_timeout).toBeGreaterThan(15);
    expect(stats.faults.rate_limited).toBeGreaterThan(5);
    expect(executions.some((e) => e.attempts > 1)).toBe(true);
    expect(recorded.some((o) => o.status === "canceled")).toBe(true); // day orders expired overnight
    await current.scheduler?.stop();
    await current.broker?.disconnect();
    await tws.close();
  }, 600_000); // a bound for a loaded machine, not a behaviour: everything in it runs on the TestClock
});
