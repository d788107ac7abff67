import type { Contract, Order, OrderState } from "@stoqey/ib";
import { TestClock } from "@tradecron/core/testing";
import { describe, expect, it } from "vitest";
import { type BookEntry, OrderBook } from "./order-book.js";

const aapl: Contract = { symbol: "AAPL", secType: "STK" as never };
const limit = (extra: Partial<Order> = {}): Order =>
  ({
    action: "BUY",
    orderType: "LMT",
    lmtPrice: 10,
    totalQuantity: 5,
    tif: "GTC",
    orderRef: "tc-1",
    clientId: 7,
    permId: 900,
    account: "DU1",
    ...extra,
  }) as Order;
const state = (status: string, extra: Partial<OrderState> = {}) => ({ status, ...extra }) as OrderState;

/** An orderStatus of client 7. */
const status = (orderId: number, s: string, filled: number, avgFillPrice: number, permId: number) => ({
  orderId,
  status: s,
  filled,
  avgFillPrice,
  permId,
  clientId: 7,
});

function book() {
  const changes: string[] = [];
  const b = new OrderBook(new TestClock(), (e: BookEntry) => changes.push(`${e.status}:${e.filled}`));
  return { b, changes };
}

describe("OrderBook", () => {
  it("reports a repeated openOrder/orderStatus once, and a fill once", () => {
    const { b, changes } = book();
    for (let i = 0; i < 3; i++) {
      b.applyOpenOrder(1, aapl, limit(), state("Submitted"));
      b.applyOrderStatus(status(1, "Submitted", 0, 0, 900));
    }
    for (let i = 0; i < 3; i++) b.applyOrderStatus(status(1, "Filled", 5, 10, 900));
    expect(changes).toEqual(["new:0", "filled:5"]);
  });

  it("counts an execution once by execId, and takes it as the fill when it covers the size", () => {
    const { b, changes } = book();
    b.applyOpenOrder(1, aapl, limit(), state("Submitted"));
    const exec = {
      execId: "e1",
      orderId: 1,
      clientId: 7,
      permId: 900,
      cumQty: 5,
      avgPrice: 9.5,
      orderRef: "tc-1",
    };
    expect(b.applyExecution(aapl, exec)).toBe(true);
    expect(b.applyExecution(aapl, exec)).toBe(false);
    expect(changes).toEqual(["new:0", "filled:5"]);
    expect(b.snapshot(b.byPermId(900) as BookEntry)).toMatchObject({
      status: "filled",
      filledQty: "5",
      filledAvgPrice: "9.5",
    });
  });

  it("never moves a final order back to working on a late or repeated message", () => {
    const { b, changes } = book();
    b.applyOpenOrder(1, aapl, limit(), state("Submitted"));
    b.applyOrderStatus(status(1, "Cancelled", 0, 0, 900));
    b.applyOrderStatus(status(1, "Submitted", 0, 0, 900));
    b.applyOpenOrder(1, aapl, limit(), state("PreSubmitted"));
    expect(changes).toEqual(["new:0", "canceled:0"]);
  });

  it("waits for the orderStatus of a Filled openOrder, so the fill comes with its quantity and price", () => {
    const { b, changes } = book();
    b.applyOpenOrder(1, aapl, limit(), state("Filled"));
    b.applyOrderStatus(status(1, "Filled", 5, 10.25, 900));
    expect(changes).toEqual(["filled:5"]);
    expect(b.snapshot(b.byPermId(900) as BookEntry).filledAvgPrice).toBe("10.25");
  });

  it("tells an order id reused after a TWS restart from the earlier order with that id", () => {
    const { b } = book();
    b.applyOpenOrder(3, aapl, limit({ permId: 900, orderRef: "before" }), state("Submitted"));
    b.applyOpenOrder(3, aapl, limit({ permId: 901, orderRef: "after" }), state("Submitted"));
    expect(b.byPermId(900)?.orderRef).toBe("before");
    expect(b.byPermId(901)?.orderRef).toBe("after");
    b.applyOrderStatus(status(3, "Filled", 5, 10, 901));
    expect(b.byPermId(900)?.status).toBe("new");
    expect(b.byPermId(901)?.status).toBe("filled");
  });

  it("counts a placement as known only once TWS acknowledged it, and tracks the highest order id per client", () => {
    const { b } = book();
    const entry = b.placing({
      clientId: 7,
      orderId: 12,
      orderRef: "tc-2",
      account: "DU1",
      symbol: "AAPL",
      order: limit({ orderRef: "tc-2" }),
    });
    expect(b.byOrderRef("tc-2")).toBeNull();
    expect(b.highestOrderId(7)).toBe(12);
    b.applyOpenOrder(12, aapl, limit({ orderRef: "tc-2", permId: 950 }), state("Submitted"));
    expect(b.byOrderRef("tc-2")).toBe(entry);
    expect(entry.permId).toBe(950);
    expect(b.highestOrderId(8)).toBe(0);
  });

  it("forgets final orders older than the retention, keeping working ones", () => {
    const clock = new TestClock();
    const b = new OrderBook(clock, () => {});
    b.applyOpenOrder(1, aapl, limit({ permId: 1, orderRef: "old" }), state("Submitted"));
    b.applyOrderStatus(status(1, "Filled", 5, 10, 1));
    b.applyExecution(aapl, { execId: "x1", orderId: 1, clientId: 7, permId: 1, cumQty: 5, orderRef: "old" });
    b.applyOpenOrder(2, aapl, limit({ permId: 2, orderRef: "working" }), state("Submitted"));
    expect(b.prune(clock.now() + 1)).toBe(1);
    expect(b.byOrderRef("old")).toBeNull();
    expect(b.byPermId(1)).toBeNull();
    expect(b.byOrderRef("working")?.permId).toBe(2);
    // The execution may be counted again if IB reports it again (it reappears with its order).
    expect(
      b.applyExecution(aapl, {
        execId: "x1",
        orderId: 1,
        clientId: 7,
        permId: 1,
        cumQty: 5,
        orderRef: "old",
      }),
    ).toBe(true);
  });

  it("knows an order from completed orders alone (no order id, no client id), with its rejection", () => {
    const { b } = book();
    b.applyCompletedOrder(
      aapl,
      limit({ permId: 777, orderRef: "tc-3", filledQuantity: 0 }),
      state("Cancelled", { completedStatus: "Rejected: margin" }),
    );
    expect(b.byOrderRef("tc-3")).toMatchObject({
      permId: 777,
      orderId: null,
      clientId: null,
      status: "rejected",
    });
  });
});
