import { brokerConformance } from "@tradecron/core/testing";
import { describe, it } from "vitest";
import { IbkrBroker } from "../src/index.js";
import { FakeTws } from "../src/testing/index.js";

// Core's broker contract, on a fresh fake TWS per test, driven by the real @stoqey/ib client. The
// fake's faults are real ones: `unavailable` drops the connection when the next request arrives,
// `accept_then_timeout` places the order and drops the connection before its openOrder, and
// `rate_limited` answers error 100. Reconnects use a short backoff so the suite runs on the real
// clock in a few seconds.
brokerConformance({ describe, it }, async () => {
  const tws = await FakeTws.start({ initialCash: "1000000" });
  const broker = new IbkrBroker({
    port: tws.port,
    clientId: 7,
    heartbeatMs: 0,
    reconnect: { baseMs: 20, maxMs: 100, jitter: 0 },
  });
  return {
    broker,
    cleanup: () => tws.close(),
    setPrice: (symbol, price) => tws.setPrice(symbol, price),
    injectFault: (fault, count) => tws.injectFault(fault, count),
  };
});
