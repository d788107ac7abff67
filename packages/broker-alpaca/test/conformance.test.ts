import { brokerConformance } from "@tradecron/core/testing";
import { describe, it } from "vitest";
import { AlpacaBroker } from "../src/index.js";
import { FakeAlpaca } from "../src/testing/index.js";
import { quickOptions } from "./helpers.js";

// Core's broker contract, run against AlpacaBroker on the fake Alpaca with every hook. The fake
// is told to fail enough requests for the adapter's own protocol to give up: after a POST whose
// outcome is unknown the adapter makes exactly one lookup, so "accept_then_timeout" and
// "unavailable" also fail the next lookup by client order id. The request timeout is what an
// "accept_then_timeout" costs in real time; 2 s keeps answered requests clear of it under load.
brokerConformance(
  { describe, it },
  async () => {
    const fake = await FakeAlpaca.start();
    return {
      broker: new AlpacaBroker(quickOptions(fake, { requestTimeoutMs: 2_000 })),
      cleanup: () => fake.close(),
      setPrice: (symbol, price) => fake.setPrice(symbol, price),
      injectFault: (fault, count) => {
        if (fault === "rate_limited") fake.faults.inject({ kind: "rate_limited", count, resetInMs: 200 });
        else if (fault === "unavailable") {
          fake.faults.inject({ kind: "unavailable", count });
          fake.faults.inject({ kind: "unavailable", count, route: "getOrderByClientOrderId" });
        } else {
          fake.faults.inject({ kind: "accept_then_timeout", count, route: "postOrder" });
          fake.faults.inject({ kind: "unavailable", count, route: "getOrderByClientOrderId" });
        }
      },
    };
  },
  { racers: 20 },
);
