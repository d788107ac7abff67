/** The Express reference host, as a library (for tests and for the demo). */

export { createApp } from "./app.js";
export { type CreateBrokerOptions, createBroker, paperBroker, priceSourceFor } from "./broker.js";
export {
  type AlpacaHostConfig,
  type BrokerConfig,
  type BrokerKind,
  ConfigError,
  configFromEnv,
  type HostConfig,
  type IbkrHostConfig,
  Secret,
} from "./config.js";
export { type HostFromEnv, type StartFromEnvOptions, startFromEnv } from "./from-env.js";
export { EXAMPLE_SCHEDULES, ensureSchedules, registerJobs } from "./jobs.js";
export { type ExpressHost, type ExpressHostOptions, startExpressHost } from "./server.js";
