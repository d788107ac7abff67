import { describe, expect, it } from "vitest";
import type { BrokerConnectionDetail, BrokerConnectionListener } from "../broker/broker.js";
import { PaperBroker, type PaperBrokerOptions } from "../broker/paper-broker.js";
import { setup } from "../scheduler/test-helpers.js";
import { MemoryStorage } from "../storage/memory-storage.js";
import type { OrderRecord } from "../storage/records.js";
import type { Storage } from "../storage/storage.js";
import { TestClock } from "../testing/test-clock.js";
import type { Notification, Notifier } from "./trading.js";

function trading(
  options: { start?: string; storage?: Storage; risk?: Record<string, unknown>; cash?: string } = {},
) {
  const clock = new TestClock(options.start ?? "2026-01-05T14:30:00Z");
  const broker = new PaperBroker({ clock, initialCash: options.cash ?? "100000" });
  broker.setPrice("AAPL", "190.00");
  broker.setPrice("MSFT", "410.50");
  broker.setPrice("TSLA", "250");
  const notices: Notification[] = [];
  const ctx = setup({
    clock,
    ...(options.storage ? { storage: options.storage } : {}),
    broker,
    prices: (symbol) => broker.getPrice(symbol),
    ...(options.risk ? { risk: options.risk } : {}),
    notifiers: [{ name: "record", notify: async (n) => void notices.push(n) }],
    leaseMs: 3_600_000,
  });
  return { ...ctx, broker, notices };
}

describe("proposals and the approval queue", () => {
  it("queues proposals, approves one (re-checked and submitted), lets one expire, all audited", async () => {
    const { clock, scheduler, broker, notices, storage } = trading();
    scheduler.register("morning", async (ctx) => {
      const a = await ctx.propose({
        symbol: "AAPL",
        side: "buy",
        qty: 10,
        rationale: "breakout above 20-day high",
        confidence: 0.72,
        riskLevel: "low",
        supportingData: { rsi: 61 },
      });
      const b = await ctx.propose({
        symbol: "MSFT",
        side: "buy",
        qty: 5,
        riskLevel: "high",
        confidence: 0.4,
      });
      return [a.status, b.status];
    });
    await scheduler.createSchedule({ id: "morning", job: "morning", trigger: { every: "1h" } });
    await scheduler.start();
    await clock.advance(3_600_000);
    expect(await scheduler.pendingApprovalCount()).toBe(2);
    const high = await scheduler.listApprovals({ status: "pending", riskLevel: "high" });
    expect(high.items.map((a) => (a.intent as { symbol: string }).symbol)).toEqual(["MSFT"]);
    const aapl = (await scheduler.listApprovals({ riskLevel: "low" })).items[0];
    expect(aapl).toMatchObject({
      rationale: "breakout above 20-day high",
      confidence: 0.72,
      supportingData: { rsi: 61 },
    });
    expect(aapl?.expiresAt).toBe(clock.now() + 4 * 3_600_000);
    expect(notices.filter((n) => n.kind === "approvals_requested")).toHaveLength(1);

    const [decision] = await scheduler.approve(aapl?.id as string, { actor: "alice", reason: "looks right" });
    expect(decision).toMatchObject({ ok: true, status: "submitted" });
    const order = await broker.getOrder({ clientOrderId: aapl?.clientOrderId as string });
    expect(order).toMatchObject({ symbol: "AAPL", status: "filled", filledQty: "10", filledAvgPrice: "190" });
    expect((await scheduler.getOrder(aapl?.clientOrderId as string)).approvalId).toBe(aapl?.id);

    await clock.advance(4 * 3_600_000 + 20_000); // the MSFT one passes its expiry; the sweeper runs
    const msft = high.items[0];
    expect((await scheduler.getApproval(msft?.id as string)).status).toBe("expired");
    expect(notices.some((n) => n.kind === "approval_expired")).toBe(true);
    const again = await scheduler.approve(msft?.id as string, { actor: "bob" });
    expect(again[0]).toMatchObject({ ok: false, code: "APPROVAL_NOT_PENDING", status: "expired" });

    const trail = (await storage.listAudit({ subjectType: "approval", limit: 50 })).items.map((e) => [
      e.actor,
      e.action,
    ]);
    expect(trail).toEqual(
      expect.arrayContaining([
        ["alice", "approval.approve"],
        ["alice", "approval.submit"],
        ["system", "approval.expire"],
      ]),
    );
    await scheduler.stop();
  });

  it("approves 100 in one call, each submitted once", async () => {
    const { clock, scheduler, broker } = trading();
    scheduler.register("scan", async (ctx) => {
      for (let i = 0; i < 100; i++)
        await ctx.propose({ symbol: "AAPL", side: "buy", qty: 1, confidence: 0.9 });
    });
    await scheduler.createSchedule({ id: "scan", job: "scan", trigger: { every: "1h" } });
    await scheduler.start();
    await clock.advance(3_600_000);
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await scheduler.listApprovals({ status: "pending", limit: 30, cursor });
      ids.push(...page.items.map((a) => a.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(ids).toHaveLength(100);
    const results = await scheduler.approve(ids, { actor: "alice" });
    expect(results.every((r) => r.ok && r.status === "submitted")).toBe(true);
    expect(await scheduler.pendingApprovalCount()).toBe(0);
    const positions = await broker.getPositions();
    expect(positions).toEqual([expect.objectContaining({ symbol: "AAPL", qty: "100" })]);
    await scheduler.stop();
  });

  it("rejects an approval on re-check when the limits changed after the proposal", async () => {
    const { clock, scheduler, broker } = trading();
    scheduler.register("scan", async (ctx) => {
      await ctx.propose({ symbol: "AAPL", side: "buy", qty: 10, confidence: 0.9 });
    });
    await scheduler.createSchedule({
      id: "scan",
      job: "scan",
      trigger: { every: "1h" },
      risk: { maxOrderNotional: 5000 },
    });
    await scheduler.start();
    await clock.advance(3_600_000);
    const [pending] = (await scheduler.listApprovals({ status: "pending" })).items;
    await scheduler.updateSchedule("scan", { risk: { maxOrderNotional: 1000 } }, { actor: "risk-desk" });
    const [result] = await scheduler.approve(pending?.id as string, { actor: "alice" });
    expect(result).toMatchObject({ ok: false, status: "rejected", code: "RISK_REJECTED" });
    expect(result?.reason).toMatch(/max_order_notional/);
    expect(await broker.getOpenOrders()).toEqual([]);
    expect((await broker.getPositions()).length).toBe(0);
    await scheduler.stop();
  });

  it("rejects one by one or in bulk with a reason, and reports ids that are not pending", async () => {
    const { clock, scheduler } = trading();
    scheduler.register("scan", async (ctx) => {
      for (const symbol of ["AAPL", "MSFT", "TSLA"]) await ctx.propose({ symbol, side: "buy", qty: 1 });
    });
    await scheduler.createSchedule({ id: "scan", job: "scan", trigger: { every: "1h" } });
    await scheduler.start();
    await clock.advance(3_600_000);
    const ids = (await scheduler.listApprovals({ status: "pending" })).items.map((a) => a.id);
    const results = await scheduler.reject([...ids, "ap-unknown"], {
      actor: "bob",
      reason: "too late in the day",
    });
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected", null]);
    expect(results[3]).toMatchObject({ ok: false, code: "NOT_FOUND" });
    expect((await scheduler.getApproval(ids[0] as string)).decisionReason).toBe("too late in the day");
    await expect(scheduler.approve([], { actor: "x" })).rejects.toMatchObject({ field: "ids" });
    await scheduler.stop();
  });
});

describe("approvals whose schedule is gone, and proposals the risk guard refuses", () => {
  it("rejects approving an approval whose schedule was removed, unless asked to submit anyway", async () => {
    const { clock, scheduler, broker, storage } = trading();
    scheduler.register("scan", async (ctx) => {
      await ctx.propose({ symbol: "AAPL", side: "buy", qty: 1 });
      await ctx.propose({ symbol: "MSFT", side: "buy", qty: 1 });
    });
    await scheduler.createSchedule({ id: "scan", job: "scan", trigger: { every: "1h" } });
    await scheduler.start();
    await clock.advance(3_600_000);
    const [first, second] = (await scheduler.listApprovals({ status: "pending" })).items;
    await scheduler.removeSchedule("scan", { actor: "ops" });
    // Before: the order went to the broker although nothing schedules it any more.
    const [refused] = await scheduler.approve(first?.id as string, { actor: "alice" });
    expect(refused).toMatchObject({ ok: false, status: "rejected", code: "SCHEDULE_NOT_FOUND" });
    expect(refused?.reason).toMatch(/schedule 'scan' was removed/);
    expect(await broker.getOpenOrders()).toEqual([]);
    expect((await storage.listOrders({ limit: 10 })).items).toEqual([]);
    expect((await scheduler.getApproval(first?.id as string)).status).toBe("rejected");
    const [forced] = await scheduler.approve(second?.id as string, {
      actor: "alice",
      allowRemovedSchedule: true,
    });
    expect(forced).toMatchObject({ ok: true, status: "submitted" });
    await scheduler.stop();
  });

  it("counts a proposal the risk guard rejects at once in counters.ordersRejected", async () => {
    const { clock, scheduler } = trading({ risk: { denySymbols: ["TSLA"] } });
    scheduler.register("scan", async (ctx) => {
      await ctx.propose({ symbol: "TSLA", side: "buy", qty: 1 });
      await ctx.propose({ symbol: "AAPL", side: "buy", qty: 1 });
    });
    await scheduler.createSchedule({ id: "scan", job: "scan", trigger: { every: "1h" } });
    await scheduler.start();
    await clock.advance(3_600_000);
    expect((await scheduler.listApprovals({ status: "rejected" })).items).toHaveLength(1);
    expect((await scheduler.status()).counters.ordersRejected).toBe(1);
    await scheduler.stop();
  });
});

describe("submitting through the risk guard", () => {
  it("submits directly, rejects what breaks a rule with the rule and reason, and counts both", async () => {
    const { clock, scheduler, events } = trading({
      risk: { denySymbols: ["TSLA"], maxOrderNotional: 20_000 },
    });
    const outcomes: unknown[] = [];
    scheduler.register("exits", async (ctx) => {
      outcomes.push(await ctx.submit({ symbol: "AAPL", side: "buy", qty: 10 }));
      outcomes.push(await ctx.submit({ symbol: "TSLA", side: "buy", qty: 1 }));
      outcomes.push(await ctx.submit({ symbol: "MSFT", side: "buy", qty: 100 }));
    });
    await scheduler.createSchedule({ id: "exits", job: "exits", trigger: { every: "1h" } });
    await scheduler.start();
    await clock.advance(3_600_000);
    expect(outcomes).toMatchObject([
      { status: "submitted", order: { symbol: "AAPL", status: "filled" } },
      { status: "rejected", rule: "deny_symbols" },
      { status: "rejected", rule: "max_order_notional" },
    ]);
    const status = await scheduler.status();
    expect(status.counters).toMatchObject({ ordersSubmitted: 1, ordersRejected: 2 });
    expect(events.of("order:rejected").map((e) => e.rule)).toEqual(["deny_symbols", "max_order_notional"]);
    await scheduler.stop();
  });

  it("queues submissions of a schedule that requires approval", async () => {
    const { clock, scheduler, broker } = trading();
    let outcome: unknown;
    scheduler.register("rebalance", async (ctx) => {
      outcome = await ctx.submit({ symbol: "MSFT", side: "buy", qty: 2 });
    });
    await scheduler.createSchedule({
      id: "rebalance",
      job: "rebalance",
      trigger: { every: "1h" },
      requiresApproval: true,
      approvalExpiry: "30m",
    });
    await scheduler.start();
    await clock.advance(3_600_000);
    expect(outcome).toMatchObject({ status: "queued", approvalStatus: "pending" });
    expect(await broker.getOpenOrders()).toEqual([]);
    const [pending] = (await scheduler.listApprovals({ scheduleId: "rebalance" })).items;
    expect((pending?.expiresAt ?? 0) - (pending?.createdAt ?? 0)).toBe(30 * 60_000);
    await scheduler.stop();
  });

  it("rejects malformed intents with a typed error naming the field, failing the run without retries", async () => {
    const { clock, scheduler, events } = trading();
    scheduler.register("bad", async (ctx) => {
      await ctx.submit({ symbol: "AAPL", side: "buy", qty: 1, notional: 100 });
    });
    await scheduler.createSchedule({ id: "bad", job: "bad", trigger: { every: "1h" } });
    await scheduler.start();
    await clock.advance(3_600_000);
    const [failed] = events.of("run:failed");
    expect(failed?.execution.error).toMatchObject({ code: "VALIDATION", name: "ValidationError" });
    expect(failed?.execution.attempts).toBe(1);
    await scheduler.stop();
  });

  it("skips fires while the broker is down when the schedule requires the connection", async () => {
    const { clock, scheduler, broker, notices } = trading();
    scheduler.register("exits", () => "ran");
    await scheduler.createSchedule({
      id: "exits",
      job: "exits",
      trigger: { every: "1m" },
      requireBrokerConnection: true,
    });
    await scheduler.start();
    await clock.advance(60_000);
    await broker.disconnect();
    await clock.advance(60_000);
    const [latest, first] = (await scheduler.listExecutions({ scheduleId: "exits" })).items;
    expect(first?.status).toBe("succeeded");
    expect(latest).toMatchObject({ status: "skipped", reason: "broker_disconnected" });
    expect(notices.some((n) => n.kind === "broker_disconnected")).toBe(true);
    await scheduler.stop();
  });

  it("cancels open orders on pause-all when asked, and notifies", async () => {
    const { clock, scheduler, broker, notices, storage } = trading();
    scheduler.register("bids", async (ctx) => {
      await ctx.submit({ symbol: "AAPL", side: "buy", qty: 1, type: "limit", limitPrice: 150 });
      await ctx.submit({ symbol: "MSFT", side: "buy", qty: 1, type: "limit", limitPrice: 300 });
    });
    await scheduler.createSchedule({ id: "bids", job: "bids", trigger: { every: "1h" } });
    await scheduler.start();
    await clock.advance(3_600_000);
    expect(await broker.getOpenOrders()).toHaveLength(2);
    await scheduler.pauseAll({ actor: "risk-desk", reason: "flash crash", cancelOpenOrders: true });
    expect(await broker.getOpenOrders()).toHaveLength(0);
    expect(notices.find((n) => n.kind === "paused_all")?.body).toMatch(/2 open order\(s\) cancelled/);
    const audit = (await storage.listAudit({ action: "orders.cancel_all", limit: 5 })).items;
    expect(audit[0]).toMatchObject({ actor: "risk-desk", details: { cancelled: 2 } });
    await clock.flush();
    const stored = (await scheduler.listOrders({ scheduleId: "bids" })).items.map((o) => o.status);
    expect(stored).toEqual(["canceled", "canceled"]);
    await scheduler.stop();
  });

  it("notifies once when a run fails for good", async () => {
    const { clock, scheduler, notices } = trading();
    scheduler.register("snap", () => {
      throw new Error("Connection refused");
    });
    await scheduler.createSchedule({
      id: "snap",
      job: "snap",
      trigger: { every: "1h" },
      retry: { attempts: 3, backoff: { baseMs: "60s", factor: 2 } },
    });
    await scheduler.start();
    await clock.advance(3_600_000 + 180_000);
    const failed = notices.filter((n) => n.kind === "run_failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ severity: "critical", data: { scheduleId: "snap", attempts: 3 } });
    expect(failed[0]?.body).toMatch(/after 3 attempt\(s\): Connection refused/);
    await scheduler.stop();
  });
});

describe("no duplicate orders (DESIGN.md promise 2)", () => {
  it("places each of 1,000 intents once under broker faults and a crash between submit and record", async () => {
    let crashes = 0;
    let upserts = 0;
    const memory = new MemoryStorage();
    // The process "dies" right after the broker accepted an order, before the record is written.
    const storage = new Proxy(memory, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop === "upsertOrder") {
          return async (order: OrderRecord) => {
            if (order.brokerOrderId && ++upserts % 40 === 7 && crashes < 25) {
              crashes++;
              throw new Error("crashed before recording the order");
            }
            return memory.upsertOrder(order);
          };
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const { clock, scheduler, broker } = trading({ storage, cash: "1000000" });
    const intents = 1000;
    const perFire = 50;
    let seed = 7;
    const rand = () => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    scheduler.register("flood", async (ctx) => {
      // A fault may strike before any submit, so retries re-submit intents placed earlier in the
      // fire: with the same client order ids they must find those orders, not place new ones.
      broker.faults.clear();
      for (let i = 0; i < perFire; i++) {
        const r = rand();
        if (r < 0.01) broker.faults.acceptThenTimeOut(1);
        else if (r < 0.015) broker.faults.failNext(1, "submitOrder");
        else if (r < 0.02) broker.faults.rateLimit(1, 1000, "submitOrder");
        await ctx.submit({ symbol: "AAPL", side: "buy", qty: 1 });
      }
      return "done";
    });
    await scheduler.createSchedule({
      id: "flood",
      job: "flood",
      trigger: { every: "10m" },
      retry: { attempts: 30, backoff: { baseMs: "1s", factor: 1 } },
    });
    await scheduler.start();
    await clock.advance((intents / perFire) * 10 * 60_000 + 60_000);
    const runs = (await scheduler.listExecutions({ scheduleId: "flood", limit: 100 })).items;
    expect(runs).toHaveLength(intents / perFire);
    expect(runs.filter((e) => e.status !== "succeeded").map((e) => [e.status, e.attempts, e.error])).toEqual(
      [],
    );
    const brokerOrders = (await broker.getPositions())[0];
    expect(brokerOrders?.qty).toBe(String(intents)); // 1,000 fills of 1 share: no duplicate
    const recorded: OrderRecord[] = [];
    let cursor: string | null = null;
    do {
      const page = await scheduler.listOrders({ limit: 1000, cursor });
      recorded.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(recorded).toHaveLength(intents);
    expect(new Set(recorded.map((o) => o.clientOrderId)).size).toBe(intents);
    expect(recorded.every((o) => o.status === "filled")).toBe(true);
    expect(crashes).toBeGreaterThan(0);
    await scheduler.stop();
  });
});

/** A PaperBroker whose update stream can be made to lose messages, as a dropped socket does. */
class LossyBroker extends PaperBroker {
  dropping = false;
  override onOrderUpdate(listener: Parameters<PaperBroker["onOrderUpdate"]>[0]): () => void {
    return super.onOrderUpdate((u) => {
      if (!this.dropping) listener(u);
    });
  }
}

/**
 * A scheduler (maintenance every 10 s) whose schedule has placed one resting limit buy of AAPL at
 * 189 (the price is 190) through a `Broker` of class `Ctor`. `status()` reads the order's record.
 */
async function oneRestingOrder<B extends PaperBroker>(
  Ctor: new (options: PaperBrokerOptions) => B,
  notifiers: Notifier[] = [],
) {
  const clock = new TestClock();
  const storage = new MemoryStorage();
  const broker = new Ctor({ clock, initialCash: "100000" });
  broker.setPrice("AAPL", "190");
  const { scheduler } = setup({ clock, storage, broker, leaseMs: 30_000, notifiers });
  scheduler.register("rest", async (ctx) =>
    ctx.submit({ symbol: "AAPL", side: "buy", qty: 1, type: "limit", limitPrice: 189 }),
  );
  await scheduler.createSchedule({ id: "rest", job: "rest", trigger: { every: "1h" } });
  await scheduler.start();
  await clock.advance(3_600_000);
  const [order] = (await storage.listOrders({ limit: 1 })).items;
  if (order?.status !== "new") throw new Error(`expected one resting order, found ${order?.status}`);
  const status = async () => (await storage.getOrder(order.clientOrderId))?.status;
  return { clock, storage, broker, scheduler, order, status };
}

describe("keeping order records current (reconcile)", () => {
  it("a restarted scheduler finds the fills and cancels that happened while it was down", async () => {
    const clock = new TestClock();
    const storage = new MemoryStorage();
    const broker = new PaperBroker({ clock, initialCash: "100000" });
    broker.setPrice("AAPL", "190");
    const first = setup({ clock, storage, broker, leaseMs: 3_600_000 });
    first.scheduler.register("rest", async (ctx) => [
      await ctx.submit({ symbol: "AAPL", side: "buy", qty: 1, type: "limit", limitPrice: 189 }),
      await ctx.submit({ symbol: "AAPL", side: "buy", qty: 1, type: "limit", limitPrice: 100 }),
    ]);
    await first.scheduler.createSchedule({ id: "rest", job: "rest", trigger: { every: "1h" } });
    await first.scheduler.start();
    await clock.advance(3_600_000);
    const orders = (await storage.listOrders({ limit: 10 })).items;
    expect(orders.map((o) => o.status)).toEqual(["new", "new"]);
    await first.scheduler.stop();

    // While no scheduler runs: one order fills, the other is cancelled by hand at the broker.
    await broker.connect();
    broker.setPrice("AAPL", "188");
    const byLimit = (p: string) =>
      orders.find((o) => (o.intent as { limitPrice?: string }).limitPrice === p) as OrderRecord;
    await broker.cancelOrder(byLimit("100").brokerOrderId as string);
    await broker.disconnect();

    const second = setup({ clock, storage, broker, leaseMs: 3_600_000, instanceId: "instance-b" });
    second.scheduler.register("rest", async () => null);
    await second.scheduler.start();
    expect((await storage.getOrder(byLimit("189").clientOrderId))?.status).toBe("filled");
    expect((await storage.getOrder(byLimit("100").clientOrderId))?.status).toBe("canceled");
    expect(second.events.of("order:updated").map((e) => e.event)).toEqual(["reconcile", "reconcile"]);
    await second.scheduler.stop();
  });

  it("maintenance catches a fill whose update the broker's stream lost", async () => {
    const { clock, broker, scheduler, status } = await oneRestingOrder(LossyBroker);
    broker.dropping = true;
    broker.setPrice("AAPL", "188"); // filled at the broker; the update never arrives
    expect(await status()).toBe("new");
    await clock.advance(70_000); // maintenance reconciles at most once a minute
    expect(await status()).toBe("filled");
    await scheduler.stop();
  });
});

/** A PaperBroker that announces connection changes with details, as Alpaca and IBKR (TWS 1100/1101/1102) do. */
class AnnouncingBroker extends LossyBroker {
  private readonly detailed = new Set<BrokerConnectionListener>();
  override onConnectionChange(listener: BrokerConnectionListener): () => void {
    this.detailed.add(listener);
    return () => this.detailed.delete(listener);
  }
  announce(connected: boolean, detail: BrokerConnectionDetail): void {
    for (const l of this.detailed) l(connected, detail);
  }
}

describe("connection details", () => {
  it("names the reason in the disconnect notification, and re-reads orders when the broker says data was lost", async () => {
    const notices: Notification[] = [];
    const { clock, broker, scheduler, status } = await oneRestingOrder(AnnouncingBroker, [
      { name: "record", notify: async (n) => void notices.push(n) },
    ]);
    broker.announce(false, {
      reason: "TWS 1100: connectivity between IB and TWS has been lost",
      code: 1100,
      stream: { ok: false },
    });
    await scheduler.flushNotifications();
    const down = notices.find((n) => n.kind === "broker_disconnected");
    expect(down?.body).toMatch(/TWS 1100: connectivity between IB and TWS has been lost/);
    expect(down?.data).toMatchObject({ broker: "paper", code: 1100, reason: expect.stringMatching(/1100/) });

    // While IB was away the order filled; TWS says so only by "data lost" when it comes back.
    broker.dropping = true;
    broker.setPrice("AAPL", "188");
    broker.dropping = false;
    broker.announce(true, {
      reason: "TWS 1101: connectivity restored, data lost",
      code: 1101,
      dataLost: true,
    });
    await clock.advance(15_000); // the next maintenance, well before the once-a-minute pass
    expect(await status()).toBe("filled");
    await scheduler.flushNotifications();
    expect(notices.find((n) => n.kind === "broker_reconnected")?.data).toMatchObject({
      dataLost: true,
      code: 1101,
    });
    await scheduler.stop();
  });

  it("re-reads orders on 'data lost' even when the broker stays connected throughout", async () => {
    const { clock, broker, scheduler, status } = await oneRestingOrder(AnnouncingBroker);
    broker.dropping = true;
    broker.setPrice("AAPL", "188");
    broker.announce(true, { reason: "stream gap", stream: { ok: true, state: "listening" }, dataLost: true });
    await clock.advance(15_000);
    expect(await status()).toBe("filled");
    await scheduler.stop();
  });
});

describe("a broker that is momentarily not connected (broker_connected)", () => {
  it("delays a submission instead of rejecting it: the run retries and places the order once the broker is back", async () => {
    const clock = new TestClock();
    const broker = new PaperBroker({ clock, initialCash: "100000" });
    broker.setPrice("AAPL", "190");
    broker.faults.failNext(1_000, "connect"); // a cold start whose connects time out for a while
    const { scheduler, events } = setup({ clock, broker, leaseMs: 30_000 });
    scheduler.register("buy", async (ctx) => ctx.submit({ symbol: "AAPL", side: "buy", qty: 1 }));
    await scheduler.createSchedule({
      id: "buy",
      job: "buy",
      trigger: { every: "1h" },
      retry: { attempts: 10, backoff: { baseMs: "10s", factor: 1 } },
    });
    await scheduler.start();
    expect(broker.isConnected()).toBe(false);
    await clock.advance(3_600_000 + 1_000); // the fire comes while the broker is still away
    expect(events.of("run:retrying").length).toBeGreaterThan(0);
    broker.faults.clear(); // the next maintenance connects; the next retry places the order
    await clock.advance(120_000);

    const [run] = (await scheduler.listExecutions({ scheduleId: "buy" })).items;
    expect(run).toMatchObject({ status: "succeeded", result: { status: "submitted" } });
    expect(run?.attempts).toBeGreaterThan(1);
    const retried = events.of("run:retrying").map((e) => e.error);
    expect(retried[0]).toMatchObject({ code: "BROKER_UNAVAILABLE", details: { rule: "broker_connected" } });
    expect(events.of("order:rejected")).toEqual([]);
    expect((await scheduler.status()).counters).toMatchObject({ ordersRejected: 0, ordersSubmitted: 1 });
    expect((await broker.getPositions())[0]?.qty).toBe("1");
    await scheduler.stop();
  });

  it("still rejects for good when no broker is configured", async () => {
    const { clock, scheduler } = setup({ leaseMs: 3_600_000 });
    scheduler.register("buy", async (ctx) => ctx.submit({ symbol: "AAPL", side: "buy", qty: 1 }));
    await scheduler.createSchedule({ id: "buy", job: "buy", trigger: { every: "1h" } });
    await scheduler.start();
    await clock.advance(3_600_000);
    const [run] = (await scheduler.listExecutions({ scheduleId: "buy" })).items;
    expect(run).toMatchObject({ status: "succeeded", attempts: 1, result: { status: "rejected" } });
    expect(run?.result).toMatchObject({ rule: expect.stringMatching(/^broker_/) });
    await scheduler.stop();
  });

  it("creates the approval while the broker is away; approving then leaves it pending, approving again submits", async () => {
    const { clock, scheduler, broker, storage } = trading();
    scheduler.register("idea", async (ctx) => ctx.propose({ symbol: "AAPL", side: "buy", qty: 2 }));
    await scheduler.createSchedule({ id: "idea", job: "idea", trigger: { every: "1h" } });
    await scheduler.start();
    broker.faults.failNext(100, "connect");
    await broker.disconnect();
    await clock.advance(3_600_000);
    const [approval] = (await scheduler.listApprovals({ status: "pending" })).items;
    expect(approval).toBeDefined();

    const [first] = await scheduler.approve(approval?.id as string, { actor: "alice" });
    expect(first).toMatchObject({ ok: false, status: "pending", code: "BROKER_UNAVAILABLE" });
    expect(first?.reason).toMatch(/broker_connected/);
    expect((await scheduler.getApproval(approval?.id as string)).status).toBe("pending");
    const audit = (await storage.listAudit({ subjectType: "approval", limit: 10 })).items;
    expect(audit.map((e) => [e.action, e.actor])).toContainEqual(["approval.approve_failed", "alice"]);

    broker.faults.clear();
    await broker.connect();
    const [second] = await scheduler.approve(approval?.id as string, { actor: "alice" });
    expect(second).toMatchObject({ ok: true, status: "submitted" });
    expect((await broker.getPositions())[0]?.qty).toBe("2");
    await scheduler.stop();
  });
});
