/**
 * The host as `main.ts` runs it: the configuration from the environment, the broker it names, the
 * server. Tests call this too, so what they start is what the binary starts.
 */

import { createBroker } from "./broker.js";
import { configFromEnv, type HostConfig } from "./config.js";
import { type ExpressHost, type ExpressHostOptions, startExpressHost } from "./server.js";

/** Options of {@link startFromEnv}: what the environment does not say. */
export type StartFromEnvOptions = Pick<ExpressHostOptions, "clock" | "logger" | "schedules" | "router">;

/** A host started from the environment, with the configuration it was read from. */
export interface HostFromEnv {
  config: HostConfig;
  host: ExpressHost;
}

/**
 * Reads `env`, builds the broker and starts the host.
 * @throws ConfigError naming the variable at fault, before anything starts.
 */
export async function startFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  options: StartFromEnvOptions = {},
): Promise<HostFromEnv> {
  const config = configFromEnv(env);
  const broker = createBroker(config.broker, options.logger ? { logger: options.logger } : {});
  const host = await startExpressHost({
    ...options,
    port: config.port,
    host: config.host,
    dataDir: config.dataDir,
    tokens: config.tokens,
    broker,
  });
  return { config, host };
}
