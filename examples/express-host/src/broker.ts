/**
 * The broker the host trades through: the paper broker by default (no account, no credentials),
 * Alpaca (`@tradecron/broker-alpaca`) or Interactive Brokers (`@tradecron/broker-ibkr`) when
 * TRADECRON_BROKER says so. Each is built from a {@link BrokerConfig} that config.ts validated.
 */

import { AlpacaBroker } from "@tradecron/broker-alpaca";
import { IbkrBroker } from "@tradecron/broker-ibkr";
import { type Broker, type Logger, PaperBroker, type PriceSource, ValidationError } from "@tradecron/core";
import { type BrokerConfig, ConfigError } from "./config.js";

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

/** The environment variable behind each adapter option, for errors that name the option. */
const VARIABLES: Record<string, string> = {
  keyId: "APCA_API_KEY_ID",
  secretKey: "APCA_API_SECRET_KEY",
  baseUrl: "TRADECRON_ALPACA_BASE_URL",
  dataUrl: "TRADECRON_ALPACA_DATA_URL",
  host: "TRADECRON_IBKR_HOST",
  port: "TRADECRON_IBKR_PORT",
  clientId: "TRADECRON_IBKR_CLIENT_ID",
  account: "TRADECRON_IBKR_ACCOUNT",
};

/** An adapter's own validation (stricter than ours in places: Alpaca's key format) as a ConfigError. */
function asConfigError(error: unknown): unknown {
  if (!(error instanceof ValidationError)) return error;
  const issue = error.issues[0];
  const variable = (issue?.field && VARIABLES[issue.field]) ?? null;
  // The adapters' messages never carry a credential's value.
  return new ConfigError(`express-host: ${variable ?? issue?.field}: ${issue?.message}`, variable);
}

/** Options of {@link createBroker}. */
export interface CreateBrokerOptions {
  logger?: Logger;
}

/**
 * The broker for `config`. Nothing connects here: the scheduler connects it at start (and keeps
 * reconnecting), so a TWS that is still starting does not stop the host from coming up.
 * @throws ConfigError naming the variable when the adapter refuses a value.
 */
export function createBroker(config: BrokerConfig, options: CreateBrokerOptions = {}): Broker {
  const logger = options.logger ? { logger: options.logger } : {};
  try {
    switch (config.kind) {
      case "paper":
        return paperBroker();
      case "alpaca":
        return new AlpacaBroker({
          keyId: config.keyId.reveal(),
          secretKey: config.secretKey.reveal(),
          paper: config.paper,
          ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
          ...(config.dataUrl ? { dataUrl: config.dataUrl } : {}),
          ...logger,
        });
      case "ibkr":
        return new IbkrBroker({
          host: config.host,
          port: config.port,
          clientId: config.clientId,
          ...(config.account ? { account: config.account } : {}),
          ...logger,
        });
    }
  } catch (error) {
    throw asConfigError(error);
  }
}

/**
 * Where the risk guard values a market order without a `referencePrice`: the paper broker's prices,
 * Alpaca's latest trades. IBKR gives the host none; the example's proposals carry a
 * `referencePrice` (src/jobs.ts), so they are valued on every broker.
 */
export function priceSourceFor(broker: Broker): PriceSource | undefined {
  if (broker instanceof PaperBroker) return (symbol) => broker.getPrice(symbol);
  if (broker instanceof AlpacaBroker) return broker.priceSource();
  return undefined;
}
