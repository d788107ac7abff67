/**
 * The real @stoqey/ib client checks the fake TWS: it reports an extra field as error 505
 * ("unprocessed data left on queue") and a missing one as an underrun, dropping the message. Here
 * it connects to the fake directly (no IbkrBroker in between), receives every message kind the
 * fake sends, and must decode each one with nothing left over and the fields as they were sent.
 */

import { createConnection } from "node:net";
import {
  type Contract,
  EventName,
  type Execution,
  IBApi,
  type Order,
  OrderAction,
  type OrderState,
  OrderType,
  SecType,
} from "@stoqey/ib";
import { afterEach, describe, expect, it } from "vitest";
import { FakeTws, SERVER_VERSION } from "../src/testing/index.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** Resolves with the arguments of the first `event` matching `match`. */
function next<T extends unknown[]>(ib: IBApi, event: EventName, match: (...args: T) => boolean = () => true) {
  return new Promise<T>((resolve) => {
    const on = (...args: T) => {
      if (!match(...args)) return;
      ib.off(event as never, on as never);
      resolve(args);
    };
    ib.on(event as never, on as never);
  });
}

async function client(tws: FakeTws, clientId = 3) {
  const ib = new IBApi({ host: "127.0.0.1", port: tws.port, clientId, maxReqPerSec: 1000 });
  const problems: unknown[] = [];
  ib.on(EventName.error, (error: Error, code: number, reqId: number) =>
    problems.push({ message: error.message, code, reqId }),
  );
  const infos: [number, string][] = [];
  ib.on(EventName.info, (message: string, code: number) => infos.push([code, message]));
  const accounts = next<[string]>(ib, EventName.managedAccounts);
  const id = next<[number]>(ib, EventName.nextValidId);
  const server = next<[number, string]>(ib, EventName.server);
  ib.connect(clientId);
  cleanups.push(() => void ib.disconnect());
  return { ib, problems, infos, accounts: await accounts, nextId: (await id)[0], server: await server };
}

const stock: Contract = { symbol: "AAPL", secType: SecType.STK, exchange: "SMART", currency: "USD" };

describe("the fake TWS as the real client sees it", () => {
  it("negotiates server version 193 and sends managedAccounts, nextValidId and the farm notices on request id -1", async () => {
    const tws = await FakeTws.start({ accounts: ["DU111", "DU222"], nextValidId: 42 });
    cleanups.push(() => tws.close());
    const c = await client(tws);
    expect(c.server[0]).toBe(SERVER_VERSION);
    expect(c.accounts).toEqual(["DU111,DU222"]);
    expect(c.nextId).toBe(42);
    while (c.infos.length < 3) await new Promise((r) => setTimeout(r, 1));
    expect(c.infos.map(([code]) => code)).toEqual([2104, 2106, 2158]);
    expect(c.problems).toEqual([]);
  });

  it("decodes openOrder, orderStatus, execDetails, commissionReport and completedOrder of every order type with no field left over", async () => {
    const tws = await FakeTws.start();
    cleanups.push(() => tws.close());
    tws.setPrice("AAPL", "200");
    const c = await client(tws);
    const orders: Order[] = [
      { action: OrderAction.BUY, orderType: OrderType.MKT, totalQuantity: 3, tif: "DAY", orderRef: "mkt" },
      {
        action: OrderAction.BUY,
        orderType: OrderType.LMT,
        lmtPrice: 150.25,
        totalQuantity: 1,
        tif: "GTC",
        orderRef: "lmt",
        outsideRth: true,
      },
      {
        action: OrderAction.SELL,
        orderType: OrderType.STP,
        auxPrice: 120,
        totalQuantity: 1,
        tif: "GTC",
        orderRef: "stp",
      },
      {
        action: OrderAction.BUY,
        orderType: OrderType.STP_LMT,
        auxPrice: 250,
        lmtPrice: 251,
        totalQuantity: 1,
        tif: "DAY",
        orderRef: "stplmt",
      },
      {
        action: OrderAction.SELL,
        orderType: OrderType.TRAIL,
        trailingPercent: 5,
        totalQuantity: 1,
        tif: "GTC",
        orderRef: "trailpct",
      },
      {
        action: OrderAction.SELL,
        orderType: OrderType.TRAIL,
        auxPrice: 2,
        totalQuantity: 1,
        tif: "GTC",
        orderRef: "trailamt",
      },
    ];
    const opened: [number, Contract, Order, OrderState][] = [];
    c.ib.on(EventName.openOrder, (id: number, contract: Contract, order: Order, state: OrderState) =>
      opened.push([id, contract, order, state]),
    );
    const fill = next<[number, Contract, Execution]>(c.ib, EventName.execDetails);
    const commission = next<[{ execId: string }]>(c.ib, EventName.commissionReport);
    const lastStatus = next<[number, string, number, number, number]>(
      c.ib,
      EventName.orderStatus,
      (id: number, s: string) => id === c.nextId + 5 && s === "Submitted",
    );
    for (const [i, order] of orders.entries())
      c.ib.placeOrder(c.nextId + i, stock, { ...order, transmit: true });
    const [reqId, contract, execution] = await fill;
    expect(reqId).toBe(-1);
    expect(contract).toMatchObject({ symbol: "AAPL", secType: "STK", conId: 265598, currency: "USD" });
    expect(execution).toMatchObject({
      orderId: c.nextId,
      side: "BOT",
      shares: 3,
      price: 200,
      cumQty: 3,
      avgPrice: 200,
      orderRef: "mkt",
      clientId: 3,
    });
    expect((await commission)[0].execId).toBe(execution.execId);
    expect((await lastStatus)[3]).toBe(1); // remaining

    const byRef = new Map(opened.map(([, , o, s]) => [o.orderRef, { o, s }]));
    expect(byRef.get("lmt")?.o).toMatchObject({
      orderType: "LMT",
      lmtPrice: 150.25,
      tif: "GTC",
      outsideRth: true,
      clientId: 3,
    });
    expect(byRef.get("stp")?.o).toMatchObject({ orderType: "STP", auxPrice: 120, action: "SELL" });
    expect(byRef.get("stplmt")?.o).toMatchObject({ orderType: "STP LMT", auxPrice: 250, lmtPrice: 251 });
    expect(byRef.get("trailpct")?.o).toMatchObject({ orderType: "TRAIL", trailingPercent: 5 });
    expect(byRef.get("trailamt")?.o).toMatchObject({ orderType: "TRAIL", auxPrice: 2 });
    expect(byRef.get("mkt")?.s.status).toBe("Filled");
    expect(new Set(opened.map(([, , o]) => o.permId)).size).toBe(orders.length);

    const completed: [Contract, Order, OrderState][] = [];
    c.ib.on(EventName.completedOrder, (ct: Contract, o: Order, s: OrderState) => completed.push([ct, o, s]));
    const end = next(c.ib, EventName.completedOrdersEnd);
    c.ib.reqCompletedOrders(false);
    await end;
    expect(
      completed.map(([ct, o, s]) => [ct.symbol, o.orderRef, o.filledQuantity, s.status, s.completedStatus]),
    ).toEqual([["AAPL", "mkt", 3, "Filled", "Filled Size: 3"]]);
    expect(c.problems).toEqual([]);
  });

  it("answers reqAllOpenOrders, reqExecutions, reqPositions, reqAccountSummary and reqCurrentTime in full", async () => {
    const tws = await FakeTws.start({ initialCash: "50000" });
    cleanups.push(() => tws.close());
    tws.setPrice("MSFT", "400");
    const c = await client(tws);
    c.ib.placeOrder(
      c.nextId,
      { ...stock, symbol: "MSFT" },
      { action: OrderAction.BUY, orderType: OrderType.MKT, totalQuantity: 2, orderRef: "a", transmit: true },
    );
    c.ib.placeOrder(
      c.nextId + 1,
      { ...stock, symbol: "MSFT" },
      {
        action: OrderAction.BUY,
        orderType: OrderType.LMT,
        lmtPrice: 1,
        totalQuantity: 5,
        orderRef: "b",
        transmit: true,
      },
    );
    await next(c.ib, EventName.orderStatus, (id: number) => id === c.nextId + 1);

    const open: string[] = [];
    c.ib.on(EventName.openOrder, (_id: number, _c: Contract, o: Order) => open.push(o.orderRef ?? ""));
    const openEnd = next(c.ib, EventName.openOrderEnd);
    c.ib.reqAllOpenOrders();
    await openEnd;
    expect(open).toEqual(["b"]);

    const execs: Execution[] = [];
    c.ib.on(EventName.execDetails, (reqId: number, _c: Contract, e: Execution) => {
      if (reqId === 77) execs.push(e);
    });
    const execEnd = next(c.ib, EventName.execDetailsEnd, (id: number) => id === 77);
    c.ib.reqExecutions(77, { symbol: "MSFT", side: "BUY" });
    await execEnd;
    expect(execs.map((e) => [e.orderRef, e.shares, e.price])).toEqual([["a", 2, 400]]);

    const positions: [string, string, number, number][] = [];
    c.ib.on(EventName.position, (account: string, ct: Contract, pos: number, avg?: number) =>
      positions.push([account, ct.symbol ?? "", pos, avg ?? 0]),
    );
    const posEnd = next(c.ib, EventName.positionEnd);
    c.ib.reqPositions();
    await posEnd;
    expect(positions).toEqual([["DU1234567", "MSFT", 2, 400]]);

    const summary: Record<string, [string, string]> = {};
    c.ib.on(
      EventName.accountSummary,
      (_r: number, _a: string, tag: string, value: string, currency: string) => {
        summary[tag] = [value, currency];
      },
    );
    const sumEnd = next(c.ib, EventName.accountSummaryEnd);
    c.ib.reqAccountSummary(5, "All", "NetLiquidation,TotalCashValue,BuyingPower,AccountType");
    await sumEnd;
    expect(summary).toEqual({
      NetLiquidation: ["50000", "USD"],
      TotalCashValue: ["49200", "USD"],
      BuyingPower: ["49195", "USD"],
      AccountType: ["INDIVIDUAL", ""],
    });

    const time = next<[number]>(c.ib, EventName.currentTime);
    c.ib.reqCurrentTime();
    expect(Math.abs((await time)[0] - Date.now() / 1000)).toBeLessThan(5);
    expect(c.problems).toEqual([]);
  });

  it("refuses a second connection with the same client id (326 on request id -1) and closes it", async () => {
    const tws = await FakeTws.start();
    cleanups.push(() => tws.close());
    await client(tws, 5);
    const second = new IBApi({ host: "127.0.0.1", port: tws.port, clientId: 5, maxReqPerSec: 1000 });
    const info = next<[string, number]>(second, EventName.info, (_m: string, code: number) => code === 326);
    const closed = next(second, EventName.disconnected);
    second.connect(5);
    expect((await info)[0]).toMatch(/client id is already in use/);
    await closed;
    expect(tws.clientIds()).toEqual([5]);
  });

  it("drops a connection that does not start with the API handshake", async () => {
    const tws = await FakeTws.start();
    cleanups.push(() => tws.close());
    const socket = createConnection({ host: "127.0.0.1", port: tws.port });
    const closed = new Promise((resolve) => socket.on("close", resolve));
    socket.on("error", () => {});
    socket.write("GET / HTTP/1.1\r\n\r\n");
    await closed;
    expect(tws.clientIds()).toEqual([]);
  });
});
