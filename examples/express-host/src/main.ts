#!/usr/bin/env node
/**
 * `tradecron-express-host`: runs the Express host until SIGTERM/SIGINT, then stops gracefully.
 * Configured by environment variables (see README); prints where the dashboard is and, when it
 * made one up for this run, the sign-in token.
 */

import { consoleLogger } from "@tradecron/core";
import { ConfigError } from "./config.js";
import { startFromEnv } from "./from-env.js";

async function main(): Promise<void> {
  const { config, host } = await startFromEnv(process.env, { logger: consoleLogger({ level: "info" }) });
  process.stdout.write(`express-host: listening on ${host.url} (data in ${config.dataDir})\n`);
  process.stdout.write(`express-host: dashboard ${host.dashboardUrl}\n`);
  const broker = host.scheduler.broker;
  if (broker) {
    const where =
      config.broker.kind === "alpaca"
        ? config.broker.paper
          ? "paper"
          : "LIVE"
        : config.broker.kind === "ibkr"
          ? `${config.broker.host}:${config.broker.port}, client id ${config.broker.clientId}`
          : "in this process";
    const state = broker.isConnected() ? "connected" : "not connected yet (retrying; see /scheduler/health)";
    process.stdout.write(`express-host: broker ${broker.name} (${where}): ${state}\n`);
  }
  if (host.generatedToken) {
    process.stdout.write(`express-host: sign-in token for this run (admin): ${host.generatedToken}\n`);
  }
  const stop = (signal: string) => {
    process.stdout.write(`express-host: ${signal}, stopping\n`);
    host.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
