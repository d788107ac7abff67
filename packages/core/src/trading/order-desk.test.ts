import { describe, expect, it } from "vitest";
import type { BrokerOrder, OrderRequest, OrderUpdate } from "../broker/broker.js";
import { PaperBroker } from "../broker/paper-broker.js";
import type { SchedulerEvents } from "../events.js";
import { type OrderIntent, parseOrderIntent } from "../orders/intent.js";
import { newCounters } from "../scheduler/status.js";
import { MemoryStorage } from "../storage/memory-storage.js";
import type { OrderRecord } from "../storage/records.js";
import { driveClock } from "../testing/drive-clock.js";
import { makeOrder } from "../testing/fixtures.js";
import { TestClock } from "../testing/test-clock.js";
import { sleep } from "../time/clock.js";
import { OrderDesk, type OrderDeskDeps } from "./order-desk.js";

/** A storage as slow as a remote database: every order read and write takes `latencyMs` of clock time. */
class SlowStorage extends MemoryStorage {
  upsertsInFlight = 0;
  constructor(
    private readonly clock: TestClock,
    private readonly latencyMs: { read: number; write: number },
  ) {
    super();
  }
  override async getOrder(clientOrderId: string): Promise<OrderRecord | null> {
    await sleep(this.clock, this.latencyMs.read);
    return super.getOrder(clientOrderId);
  }
  /** The stored record, read without the latency (the test's own look). */
  peek(clientOrderId: string): Promise<OrderRecord | null> {
    return super.getOrder(clientOrderId);
  }
  override async upsertOrder(record: OrderRecord): Promise<void> {
    this.upsertsInFlight++;
    try {
      await sleep(this.clock, this.latencyMs.write);
      await super.upsertOrder(record);
    } finally {
      this.upsertsInFlight--;
    }
  }
}

/**
 * A broker that answers a submit as Alpaca does: with the order as accepted, while the fill has
 * already been pushed on the update stream (here synchronously, inside submitOrder, before the
 * answer). Orders are placed in a real PaperBroker.
 */
class StreamAheadBroker extends PaperBroker {
  override async submitOrder(request: OrderRequest): Promise<BrokerOrder> {
    let accepted: BrokerOrder | null = null;
    const off = this.onOrderUpdate((u) => {
      if (u.event === "new" && u.order.clientOrderId === request.clientOrderId) accepted ??= u.order;
    });
    try {
      const order = await super.submitOrder(request);
      return accepted ?? order;
    } finally {
      off();
    }
  }
}

type Emitted = {
  [K in keyof SchedulerEvents]: { name: K; payload: SchedulerEvents[K] };
}[keyof SchedulerEvents];

function desk(options: {
  clock: TestClock;
  storage: MemoryStorage;
  broker: PaperBroker;
  listen?: boolean;
  pendingUpdates?: OrderDeskDeps["pendingUpdates"];
}) {
  const events: Emitted[] = [];
  const reports: { error: Error; context: string }[] = [];
  const d = new OrderDesk({
    storage: options.storage,
    broker: options.broker,
    clock: options.clock,
    counters: newCounters(),
    rules: [],
    prices: null,
    marketHours: null,
    emit: (name, payload) => events.push({ name, payload } as Emitted),
    report: (error, context) => reports.push({ error, context }),
    ...(options.pendingUpdates ? { pendingUpdates: options.pendingUpdates } : {}),
  });
  const applying: Promise<void>[] = [];
  if (options.listen !== false) {
    options.broker.onOrderUpdate((u) => {
      applying.push(d.applyUpdate(u));
    });
  }
  const updated = () =>
    events.flatMap((e) =>
      e.name === "order:updated" ? [`${e.payload.event}:${e.payload.order.status}`] : [],
    );
  return { desk: d, events, reports, updated, settle: () => Promise.all(applying) };
}

const intent = (over: Record<string, unknown> = {}): OrderIntent =>
  parseOrderIntent({ symbol: "AAPL", side: "buy", qty: 10, ...over });

const request = (id: string, i: OrderIntent = intent()) => ({
  intent: i,
  clientOrderId: id,
  scheduleId: "s",
  executionId: "e",
  approvalId: null,
});

function paper<B extends PaperBroker>(
  Ctor: new (o: ConstructorParameters<typeof PaperBroker>[0]) => B,
  clock: TestClock,
) {
  const broker = new Ctor({ clock, initialCash: "100000" });
  broker.setPrice("AAPL", "190.00");
  return broker;
}

describe("order updates that arrive before the order record", () => {
  it("keeps a fill pushed inside submitOrder, before submit has written the record (slow storage)", async () => {
    const clock = new TestClock();
    const storage = new SlowStorage(clock, { read: 5, write: 200 });
    const broker = paper(StreamAheadBroker, clock);
    await broker.connect();
    const { desk: d, events, updated, settle } = desk({ clock, storage, broker });

    const result = await driveClock(clock, d.submit(request("c-1")), { stepMs: 10 });
    await driveClock(clock, settle(), { stepMs: 10 });

    // The broker answered "new" (accepted); the fill came first, on the stream. The record is
    // written as answered, then the fill that waited for it is applied, and submit returns that.
    const submitted = events.flatMap((e) => (e.name === "order:submitted" ? [e.payload.order] : []));
    expect(submitted).toMatchObject([{ clientOrderId: "c-1", status: "new", filledQty: "0" }]);
    expect(result).toMatchObject({ status: "submitted", order: { status: "filled", filledQty: "10" } });
    expect(await storage.peek("c-1")).toMatchObject({
      status: "filled",
      filledQty: "10",
      avgFillPrice: "190",
    });
    expect(updated()).toEqual(["fill:filled"]);
  });

  it("keeps a fill that arrives while the slow upsertOrder is still writing the record", async () => {
    const clock = new TestClock();
    const storage = new SlowStorage(clock, { read: 5, write: 500 });
    const broker = paper(PaperBroker, clock);
    await broker.connect();
    const { desk: d, updated, settle } = desk({ clock, storage, broker });

    const submitting = d.submit(request("c-2", intent({ type: "limit", limitPrice: "189" })));
    for (let i = 0; storage.upsertsInFlight === 0; i++) {
      if (i > 100) throw new Error("submit never wrote its record");
      await clock.advance(10);
    }
    broker.setPrice("AAPL", "188.50"); // crosses the limit: filled while the record is being written
    const result = await driveClock(clock, submitting, { stepMs: 10 });
    await driveClock(clock, settle(), { stepMs: 10 });

    expect(result).toMatchObject({ status: "submitted", order: { status: "new" } });
    expect(await storage.peek("c-2")).toMatchObject({ status: "filled", filledQty: "10" });
    expect(updated()).toEqual(["fill:filled"]);
  });

  it("never moves an order's status backwards: a late 'new' after the fill changes nothing", async () => {
    const clock = new TestClock();
    const storage = new SlowStorage(clock, { read: 50, write: 50 });
    const broker = paper(PaperBroker, clock);
    await broker.connect();
    const { desk: d, updated } = desk({ clock, storage, broker, listen: false });
    const placed = await driveClock(
      clock,
      d.submit(request("c-3", intent({ type: "limit", limitPrice: "1" }))),
      {
        stepMs: 10,
      },
    );
    if (placed.status !== "submitted") throw new Error("not submitted");
    const live = (await broker.getOrder({ clientOrderId: "c-3" })) as BrokerOrder;
    const at = clock.now();
    const filled: OrderUpdate = {
      event: "fill",
      order: { ...live, status: "filled", filledQty: "10", filledAvgPrice: "1" },
      at,
    };
    const stale: OrderUpdate = { event: "new", order: { ...live, status: "new", filledQty: "0" }, at };
    const partial: OrderUpdate = {
      event: "partial_fill",
      order: { ...live, status: "partially_filled", filledQty: "4", filledAvgPrice: "1" },
      at,
    };

    // Out of order and concurrent on a storage with slow reads: partial, fill, then the stale "new".
    await driveClock(
      clock,
      Promise.all([d.applyUpdate(partial), d.applyUpdate(filled), d.applyUpdate(stale)]),
      {
        stepMs: 10,
      },
    );
    expect(await storage.peek("c-3")).toMatchObject({ status: "filled", filledQty: "10" });
    expect(updated()).toEqual(["partial_fill:partially_filled", "fill:filled"]);

    // A fill reported again changes nothing and is not announced twice.
    await driveClock(clock, d.applyUpdate(filled), { stepMs: 10 });
    expect(updated()).toHaveLength(2);
  });

  it("evicts the oldest unmatched update beyond the bound, and reports it", async () => {
    const clock = new TestClock();
    const storage = new MemoryStorage();
    const broker = paper(PaperBroker, clock);
    const { desk: d, reports } = desk({
      clock,
      storage,
      broker,
      listen: false,
      pendingUpdates: { maxEntries: 2 },
    });
    const update = (id: string): OrderUpdate => ({
      event: "fill",
      order: { ...orderOf(id), status: "filled", filledQty: "10" },
      at: clock.now(),
    });
    for (const id of ["x-1", "x-2", "x-3"]) await d.applyUpdate(update(id));

    expect(reports).toHaveLength(1);
    expect(reports[0]?.error).toMatchObject({
      code: "NOT_FOUND",
      details: { clientOrderId: "x-1", event: "fill", maxEntries: 2 },
    });
    expect(reports[0]?.error.message).toMatch(/x-1/);
    // The two newest are still waiting: once their records appear, reconcile applies them.
    for (const id of ["x-1", "x-2", "x-3"]) await storage.upsertOrder(recordOf(id, clock.now()));
    await broker.connect();
    const result = await d.reconcile();
    expect(result.pendingApplied).toBe(2);
    expect((await storage.getOrder("x-1"))?.status).toBe("new");
    expect((await storage.getOrder("x-2"))?.status).toBe("filled");
    expect((await storage.getOrder("x-3"))?.status).toBe("filled");
  });

  it("applies a buffered update once the record appears within 60 s, and forgets it after", async () => {
    const clock = new TestClock();
    const storage = new MemoryStorage();
    const broker = paper(PaperBroker, clock);
    await broker.connect();
    const { desk: d } = desk({ clock, storage, broker, listen: false });
    const fill = (id: string): OrderUpdate => ({
      event: "fill",
      order: { ...orderOf(id), status: "filled", filledQty: "10" },
      at: clock.now(),
    });
    await d.applyUpdate(fill("late-1"));
    await d.applyUpdate(fill("late-2"));
    // Another instance (or a slow write) stores late-1 within the window; late-2 only after it.
    await clock.advance(30_000);
    await storage.upsertOrder(recordOf("late-1", clock.now()));
    expect((await d.reconcile()).pendingApplied).toBe(1);
    await clock.advance(30_001);
    await storage.upsertOrder(recordOf("late-2", clock.now()));
    expect((await d.reconcile()).pendingApplied).toBe(0);
    expect((await storage.getOrder("late-1"))?.status).toBe("filled");
    expect((await storage.getOrder("late-2"))?.status).toBe("new");
  });
});

describe("reconcile", () => {
  it("re-reads stored non-final orders from the broker: fills and cancels missed while not listening", async () => {
    const clock = new TestClock();
    const storage = new MemoryStorage();
    const broker = paper(PaperBroker, clock);
    await broker.connect();
    // Nobody listens to the broker: as after a restart, or a stream that lost updates.
    const { desk: d, updated } = desk({ clock, storage, broker, listen: false });
    const limit = (price: string) => intent({ type: "limit", limitPrice: price });
    await d.submit(request("fills", limit("189")));
    const cancelled = await d.submit(request("cancelled", limit("100")));
    await d.submit(request("rests", limit("50")));
    await storage.upsertOrder(recordOf("unknown-to-broker", clock.now()));
    await storage.upsertOrder({ ...recordOf("other-broker", clock.now()), broker: "alpaca" });
    await storage.upsertOrder({ ...recordOf("done", clock.now()), status: "filled", filledQty: "10" });
    broker.setPrice("AAPL", "188");
    if (cancelled.status !== "submitted") throw new Error("not submitted");
    await broker.cancelOrder(cancelled.order.brokerOrderId as string);

    const result = await d.reconcile();
    expect(result).toEqual({ skipped: false, checked: 4, updated: 2, unknown: 1, pendingApplied: 0 });
    expect((await storage.getOrder("fills"))?.status).toBe("filled");
    expect((await storage.getOrder("cancelled"))?.status).toBe("canceled");
    expect((await storage.getOrder("rests"))?.status).toBe("new");
    expect((await storage.getOrder("unknown-to-broker"))?.status).toBe("new");
    expect(updated()).toEqual(["reconcile:filled", "reconcile:canceled"]);

    // Nothing left to learn: a second pass changes nothing, and does not ask about the unknown one again.
    expect(await d.reconcile()).toEqual({
      skipped: false,
      checked: 1,
      updated: 0,
      unknown: 0,
      pendingApplied: 0,
    });
  });

  it("does nothing while the broker is disconnected", async () => {
    const clock = new TestClock();
    const storage = new MemoryStorage();
    const broker = paper(PaperBroker, clock);
    const { desk: d } = desk({ clock, storage, broker, listen: false });
    await storage.upsertOrder(recordOf("waiting", clock.now()));
    expect(await d.reconcile()).toEqual({
      skipped: true,
      checked: 0,
      updated: 0,
      unknown: 0,
      pendingApplied: 0,
    });
  });
});

function orderOf(id: string): BrokerOrder {
  return {
    id: `b-${id}`,
    clientOrderId: id,
    symbol: "AAPL",
    side: "buy",
    type: "market",
    timeInForce: "day",
    qty: "10",
    notional: null,
    limitPrice: null,
    stopPrice: null,
    trailPercent: null,
    trailPrice: null,
    extendedHours: false,
    status: "new",
    filledQty: "0",
    filledAvgPrice: null,
    submittedAt: 0,
    updatedAt: 0,
    legs: [],
  };
}

function recordOf(id: string, at: number): OrderRecord {
  return makeOrder({
    clientOrderId: id,
    brokerOrderId: `b-${id}`,
    broker: "paper",
    status: "new",
    filledQty: "0",
    submittedAt: at,
    updatedAt: at,
  });
}
