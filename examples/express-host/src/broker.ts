/**
 * The broker the host trades through. The paper broker is the default (no account, no
 * credentials). Alpaca and IBKR adapters are being built in their own packages.
 */

import { type Broker, PaperBroker } from "@tradecron/core";
import type { BrokerKind } from "./config.js";

/** The example symbols' prices on the paper broker. */
export const PAPER_PRICES: Record<string, string> = {
  AAPL: "190.10",
  MSFT: "410.50",
  TSLA: "251.20",
  SPY: "585.30",
};

/** A PaperBroker with $100,000 and a price for every example symbol. */
export function paperBroker(): PaperBroker {
  const broker = new PaperBroker({ initialCash: "100000" });
  for (const [symbol, price] of Object.entries(PAPER_PRICES)) broker.setPrice(symbol, price);
  return broker;
}

/** The broker for `kind`. */
export function createBroker(kind: BrokerKind, env: NodeJS.ProcessEnv = process.env): Broker {
  switch (kind) {
    case "paper":
      return paperBroker();
    case "alpaca":
      // BROKER ADAPTER PLACE (Alpaca): when @tradecron/broker-alpaca lands, construct it here from
      // env (APCA_API_KEY_ID, APCA_API_SECRET_KEY, APCA_API_BASE_URL; never log them) and add the
      // package to this example's dependencies.
      void env;
      throw new Error(
        "express-host: TRADECRON_BROKER=alpaca needs @tradecron/broker-alpaca, which is not released yet",
      );
    case "ibkr":
      // BROKER ADAPTER PLACE (IBKR): when @tradecron/broker-ibkr lands, construct it here from env
      // (TWS/Gateway host, port and a fixed client id) and add the package to the dependencies.
      throw new Error(
        "express-host: TRADECRON_BROKER=ibkr needs @tradecron/broker-ibkr, which is not released yet",
      );
  }
}
