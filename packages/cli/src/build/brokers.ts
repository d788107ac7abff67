/**
 * Brokers by name: the extension point for the broker packages. Each entry turns its config into a
 * Broker, importing its package on first use (a paper-broker service never loads the Alpaca or
 * IBKR adapter). To add one: a member of `BrokerConfigs` and a schema in config/schema.ts, and an
 * entry here.
 */

import { type Broker, PaperBroker, ValidationError, type ValidationIssue } from "@tradecron/core";
import type { AlpacaBrokerConfig, BrokerConfigs, BuildContext } from "../config/schema.js";
import type { ResolvedBroker } from "../config/validate.js";

/** How the CLI builds and treats one broker type. */
export interface BrokerType<C> {
  create(config: C, context: BuildContext): Promise<Broker>;
  /**
   * Why only the running service may trade on it, or null when any process reaches the same
   * account (a broker's REST API). The paper broker's account lives inside one process; an IBKR
   * connection is one per client id. Commands then trade through the service's API.
   */
  serviceOnly: string | null;
}

/** Alpaca's own variable names, which its SDKs (and AlpacaBroker) read by default. */
export const ALPACA_ENV = { keyId: "APCA_API_KEY_ID", secretKey: "APCA_API_SECRET_KEY" } as const;

function alpacaSecrets(config: AlpacaBrokerConfig, env: BuildContext["env"]) {
  const issues: ValidationIssue[] = [];
  const read = (field: "keyId" | "secretKey") => {
    const name = config[field]?.env ?? ALPACA_ENV[field];
    const value = env[name];
    if (value === undefined || value.trim() === "") {
      issues.push({ field: `broker.${field}`, message: `${name} is not set`, code: "VALIDATION" });
    }
    return value;
  };
  const keyId = read("keyId");
  const secretKey = read("secretKey");
  if (issues.length > 0) throw new ValidationError(issues, { component: "broker" });
  return { keyId: keyId as string, secretKey: secretKey as string };
}

/** The named broker types. */
export const BROKER_TYPES: { [K in keyof BrokerConfigs]: BrokerType<BrokerConfigs[K]> } = {
  paper: {
    serviceOnly: "the paper broker's account lives inside the running 'tradecron start' process",
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
  alpaca: {
    serviceOnly: null,
    async create(config, context) {
      const { keyId, secretKey } = alpacaSecrets(config, context.env);
      const { AlpacaBroker } = await import("@tradecron/broker-alpaca");
      try {
        return new AlpacaBroker({
          keyId,
          secretKey,
          paper: config.paper ?? true,
          ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
          ...(config.streamUrl ? { streamUrl: config.streamUrl } : {}),
          ...(config.dataUrl ? { dataUrl: config.dataUrl } : {}),
          ...(config.feed ? { feed: config.feed } : {}),
          ...(config.updates ? { updates: config.updates } : {}),
          ...(config.name ? { name: config.name } : {}),
          ...(context.logger ? { logger: context.logger } : {}),
        });
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        // Under the config's path; AlpacaBroker's messages never carry a credential.
        throw new ValidationError(
          error.issues.map((i) => ({ ...i, field: i.field ? `broker.${i.field}` : "broker" })),
          { component: "broker" },
        );
      }
    },
  },
  ibkr: {
    serviceOnly:
      "the IBKR connection belongs to the running 'tradecron start' process (TWS takes one connection per client id, and only that id can cancel its orders)",
    async create(config, context) {
      const { IbkrBroker } = await import("@tradecron/broker-ibkr");
      const { type: _type, ...options } = config;
      try {
        return new IbkrBroker({ ...options, ...(context.logger ? { logger: context.logger } : {}) });
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        throw new ValidationError(
          error.issues.map((i) => ({ ...i, field: i.field ? `broker.${i.field}` : "broker" })),
          { component: "broker" },
        );
      }
    },
  },
};

/** Builds the configured broker. Throws a ValidationError naming `broker.<field>` for a missing key. */
export async function createBroker(config: ResolvedBroker, context: BuildContext): Promise<Broker> {
  if (config.kind === "factory") return config.create(context);
  const type = BROKER_TYPES[config.config.type] as BrokerType<typeof config.config>;
  return type.create(config.config, context);
}

/**
 * Checks a named broker as `start` will build it, without connecting (`tradecron validate`): the
 * secrets it reads are in `env`, its options are valid. Throws a ValidationError naming
 * `broker.<field>` (and the variable of a missing secret).
 */
export async function checkBroker(config: ResolvedBroker | null, context: BuildContext): Promise<void> {
  if (config?.kind !== "type" || config.config.type === "paper") return;
  // Building connects nothing (connect() does); the broker is dropped at once.
  await createBroker(config, context);
}

/**
 * Why only the running service can trade on the configured broker, or null when commands in
 * another process can (a broker's API; a factory, the user's own, is assumed to be one: documented).
 */
export function serviceOnlyBroker(config: ResolvedBroker | null): string | null {
  if (!config || config.kind === "factory") return null;
  return BROKER_TYPES[config.config.type].serviceOnly;
}
