/** The Express reference host, as a library (for tests and for the demo). */

export { createApp } from "./app.js";
export { createBroker, paperBroker } from "./broker.js";
export { type BrokerKind, ConfigError, configFromEnv, type HostConfig } from "./config.js";
export { EXAMPLE_SCHEDULES, ensureSchedules, registerJobs } from "./jobs.js";
export { type ExpressHost, type ExpressHostOptions, startExpressHost } from "./server.js";
