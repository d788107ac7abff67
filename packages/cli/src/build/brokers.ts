/**
 * Brokers by name: the extension point for the broker packages. Each entry turns its config into a
 * Broker. To add one (alpaca, ibkr): a member of `BrokerConfigs` and a schema in config/schema.ts,
 * and an entry here that imports the broker package on first use.
 */

import { type Broker, PaperBroker } from "@tradecron/core";
import type { BrokerConfigs, BuildContext } from "../config/schema.js";
import type { ResolvedBroker } from "../config/validate.js";

/** How the CLI builds and treats one broker type. */
export interface BrokerType<C> {
  create(config: C, context: BuildContext): Promise<Broker>;
  /**
   * Whether another process reaches the same account. True for a real broker's API; false for the
   * paper broker, whose account lives inside one process: commands run against storage directly
   * then cannot submit orders for the running instance.
   */
  sharedAccount: boolean;
}

/** The named broker types. */
export const BROKER_TYPES: { [K in keyof BrokerConfigs]: BrokerType<BrokerConfigs[K]> } = {
  paper: {
    sharedAccount: false,
    async create(config) {
      const broker = new PaperBroker({
        ...(config.initialCash === undefined ? {} : { initialCash: config.initialCash }),
        ...(config.currency === undefined ? {} : { currency: config.currency }),
        ...(config.allowShort === undefined ? {} : { allowShort: config.allowShort }),
      });
      for (const [symbol, price] of Object.entries(config.prices ?? {})) broker.setPrice(symbol, price);
      return broker;
    },
  },
};

/** Builds the configured broker. */
export async function createBroker(config: ResolvedBroker, context: BuildContext): Promise<Broker> {
  if (config.kind === "factory") return config.create(context);
  const type = BROKER_TYPES[config.config.type] as BrokerType<typeof config.config>;
  return type.create(config.config, context);
}

/** Whether commands in another process can trade on the configured broker's account. */
export function brokerIsShared(config: ResolvedBroker): boolean {
  // A factory is the user's own broker: assumed to reach a real account (documented).
  return config.kind === "factory" || BROKER_TYPES[config.config.type].sharedAccount;
}
