import { BrokerRejectedError, Decimal, parseOrderIntent } from "@tradecron/core";
import { describe, expect, it } from "vitest";
import { contractFor, describeIbOrder, ibOrderFor, statusOf } from "./order-mapping.js";

const defaults = {
  currency: "USD",
  contracts: { VOD: { exchange: "SMART", primaryExchange: "LSE", currency: "GBP" } },
};

describe("intent to IB order", () => {
  it("puts the client order id in orderRef and maps each type and time in force", () => {
    const ib = (input: Parameters<typeof parseOrderIntent>[0]) =>
      ibOrderFor("tc-x", parseOrderIntent(input), "DU1");
    expect(ib({ symbol: "AAPL", side: "buy", qty: 2 })).toMatchObject({
      orderRef: "tc-x",
      account: "DU1",
      orderType: "MKT",
      tif: "DAY",
      totalQuantity: 2,
      action: "BUY",
      transmit: true,
    });
    expect(
      ib({ symbol: "AAPL", side: "sell", qty: 1, type: "limit", limitPrice: "1.5", timeInForce: "gtc" }),
    ).toMatchObject({ orderType: "LMT", lmtPrice: 1.5, tif: "GTC", action: "SELL" });
    expect(ib({ symbol: "AAPL", side: "sell", qty: 1, type: "stop", stopPrice: 9 })).toMatchObject({
      orderType: "STP",
      auxPrice: 9,
    });
    expect(
      ib({ symbol: "AAPL", side: "buy", qty: 1, type: "stop_limit", stopPrice: 9, limitPrice: 10 }),
    ).toMatchObject({ orderType: "STP LMT", auxPrice: 9, lmtPrice: 10 });
    expect(
      ib({ symbol: "AAPL", side: "sell", qty: 1, type: "trailing_stop", trailPercent: 3 }),
    ).toMatchObject({ orderType: "TRAIL", trailingPercent: 3 });
    expect(ib({ symbol: "AAPL", side: "sell", qty: 1, type: "trailing_stop", trailPrice: 2 })).toMatchObject({
      orderType: "TRAIL",
      auxPrice: 2,
    });
    expect(ib({ symbol: "AAPL", side: "buy", qty: 1, timeInForce: "cls" })).toMatchObject({
      orderType: "MOC",
      tif: "DAY",
    });
    expect(
      ib({ symbol: "AAPL", side: "buy", qty: 1, type: "limit", limitPrice: 1, timeInForce: "cls" }),
    ).toMatchObject({ orderType: "LOC" });
    expect(ib({ symbol: "AAPL", side: "buy", qty: 1, timeInForce: "opg" })).toMatchObject({
      orderType: "MKT",
      tif: "OPG",
    });
    expect(
      ib({ symbol: "AAPL", side: "buy", qty: 1, type: "limit", limitPrice: 1, extendedHours: true }),
    ).toMatchObject({ outsideRth: true });
  });

  it("refuses notional orders, brackets and auction stops as final, naming the field", () => {
    const fail = (input: Parameters<typeof parseOrderIntent>[0]) => {
      try {
        ibOrderFor("tc-x", parseOrderIntent(input), "DU1");
      } catch (error) {
        expect(error).toBeInstanceOf(BrokerRejectedError);
        return (error as BrokerRejectedError).field;
      }
      throw new Error("expected a rejection");
    };
    expect(fail({ symbol: "AAPL", side: "buy", notional: 100 })).toBe("intent.notional");
    expect(
      fail({ symbol: "AAPL", side: "sell", qty: 1, type: "stop", stopPrice: 1, timeInForce: "cls" }),
    ).toBe("intent.timeInForce");
  });

  it("builds SMART/USD stock contracts, IB's spelling of share classes, and per-symbol overrides", () => {
    expect(contractFor("BRK.B", defaults)).toEqual({
      symbol: "BRK B",
      secType: "STK",
      exchange: "SMART",
      currency: "USD",
    });
    expect(contractFor("VOD", defaults)).toEqual({
      symbol: "VOD",
      secType: "STK",
      exchange: "SMART",
      primaryExch: "LSE",
      currency: "GBP",
    });
  });
});

describe("IB order to tradecron terms", () => {
  it("reads back type, prices and time in force", () => {
    const base = {
      action: "SELL",
      tif: "GTC",
      totalQuantity: 3,
      lmtPrice: undefined,
      auxPrice: undefined,
      trailStopPrice: undefined,
      trailingPercent: undefined,
      outsideRth: false,
    };
    expect(describeIbOrder({ ...base, orderType: "STP LMT", auxPrice: 9, lmtPrice: 8.5 })).toMatchObject({
      type: "stop_limit",
      stopPrice: "9",
      limitPrice: "8.5",
      side: "sell",
      timeInForce: "gtc",
      qty: "3",
    });
    expect(
      describeIbOrder({ ...base, orderType: "TRAIL", trailingPercent: 2, trailStopPrice: 97 }),
    ).toMatchObject({ type: "trailing_stop", trailPercent: "2", trailPrice: null, stopPrice: "97" });
    expect(describeIbOrder({ ...base, orderType: "LOC", lmtPrice: 5, tif: "DAY" })).toMatchObject({
      type: "limit",
      timeInForce: "cls",
    });
    expect(describeIbOrder({ ...base, orderType: "REL", lmtPrice: 5 })).toMatchObject({
      type: "limit",
      limitPrice: "5",
    });
  });

  it("maps IB statuses, with partial and complete fills", () => {
    const d = (n: number) => new Decimal(n);
    expect(statusOf("PreSubmitted", d(0))).toBe("accepted");
    expect(statusOf("Submitted", d(0))).toBe("new");
    expect(statusOf("Submitted", d(2), "", 5)).toBe("partially_filled");
    expect(statusOf("Submitted", d(5), "", 5)).toBe("filled");
    expect(statusOf("PendingCancel", d(0))).toBe("pending_cancel");
    expect(statusOf("ApiCancelled", d(0))).toBe("canceled");
    expect(statusOf("Inactive", d(0))).toBe("rejected");
    expect(statusOf("Cancelled", d(0), "Rejected: margin")).toBe("rejected");
    expect(statusOf("PendingSubmit", d(0))).toBe("pending_new");
  });
});
