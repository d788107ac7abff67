/**
 * Brokers by name: the extension point for the broker packages. Each entry turns its config into a
 * Broker, importing its package on first use (a paper-broker service never loads the Alpaca
 * adapter). To add one: a member of `BrokerConfigs` and a schema in config/schema.ts, and an entry
 * here.
 */

import { type Broker, PaperBroker, ValidationError, type ValidationIssue } from "@tradecron/core";
import type { AlpacaBrokerConfig, BrokerConfigs, BuildContext } from "../config/schema.js";
import { IBKR_NOT_YET, type ResolvedBroker } from "../config/validate.js";
import { CliError, EXIT } from "../errors.js";

/** How the CLI builds and treats one broker type. */
export interface BrokerType<C> {
  create(config: C, context: BuildContext): Promise<Broker>;
  /**
   * Whether another process reaches the same account. True for a real broker's API; false for the
   * paper broker, whose account lives inside one process: commands run against storage directly
   * then cannot submit orders for the running instance (they go through its API instead).
   */
  sharedAccount: boolean;
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
  alpaca: {
    sharedAccount: true,
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
    sharedAccount: true,
    async create() {
      throw new CliError("VALIDATION", IBKR_NOT_YET, EXIT.USAGE, { field: "broker.type" });
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
 * Checks, without building anything, that the secrets a named broker reads are in `env`
 * (`tradecron validate`). Throws a ValidationError naming `broker.<field>` and the variable.
 */
export function checkBrokerSecrets(config: ResolvedBroker | null, env: BuildContext["env"]): void {
  if (config?.kind === "type" && config.config.type === "alpaca") alpacaSecrets(config.config, env);
}

/** Whether commands in another process can trade on the configured broker's account. */
export function brokerIsShared(config: ResolvedBroker): boolean {
  // A factory is the user's own broker: assumed to reach a real account (documented).
  return config.kind === "factory" || BROKER_TYPES[config.config.type].sharedAccount;
}
