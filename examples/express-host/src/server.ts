/**
 * Starting and stopping the Express host: FileStorage and the paper broker by default (Alpaca or
 * IBKR when configured), the
 * example jobs and schedules, the app on a port. `startExpressHost` is what `main.ts` runs and
 * what another program (the demo) can call to serve the dashboard while it runs.
 */

import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type Broker,
  type Clock,
  type Logger,
  type PriceSource,
  type ScheduleInput,
  Scheduler,
  type Storage,
  silentLogger,
} from "@tradecron/core";
import { createRouter, type RouterOptions } from "@tradecron/http";
import { FileStorage } from "@tradecron/storage-fs";
import { createApp } from "./app.js";
import { paperBroker, priceSourceFor } from "./broker.js";
import type { HostConfig } from "./config.js";
import { EXAMPLE_SCHEDULES, ensureSchedules, registerJobs } from "./jobs.js";

/** Options of {@link startExpressHost}. */
export interface ExpressHostOptions {
  /** Port (0: any free one). Default 3000. */
  port?: number;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** FileStorage folder (when no `storage` is given). Default ./tradecron-data. */
  dataDir?: string;
  storage?: Storage;
  /** Default: a PaperBroker with $100,000. */
  broker?: Broker;
  /** Values market orders for the risk guard. Default: the broker's own prices (paper, Alpaca). */
  prices?: PriceSource;
  /** Tokens, or `generate` (default) for one admin token made up for this run. */
  tokens?: HostConfig["tokens"];
  /** Schedules to create when missing. Default the example's three. */
  schedules?: ScheduleInput[];
  /** Extra router options (public health, rate limits, ...). */
  router?: Partial<RouterOptions>;
  clock?: Clock;
  logger?: Logger;
}

/** A running host. */
export interface ExpressHost {
  /** `http://host:port`. */
  url: string;
  /** Where the dashboard is: `url` + `/scheduler/`. */
  dashboardUrl: string;
  /** The token generated for this run (null when tokens were configured). Print it; never store it. */
  generatedToken: string | null;
  scheduler: Scheduler;
  server: Server;
  /** Stops the server, the router and the scheduler (waiting for running jobs). Idempotent. */
  stop(): Promise<void>;
}

/** Starts the host. */
export async function startExpressHost(options: ExpressHostOptions = {}): Promise<ExpressHost> {
  const logger = options.logger ?? silentLogger;
  const broker = options.broker ?? paperBroker();
  const prices = options.prices ?? priceSourceFor(broker);
  const storage = options.storage ?? new FileStorage({ dir: options.dataDir ?? "tradecron-data", logger });
  const scheduler = new Scheduler({
    storage,
    broker,
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
    risk: { maxOrderNotional: 25_000, maxDailyNotional: 100_000, maxOpenPositions: 5 },
    ...(prices ? { prices } : {}),
  });
  registerJobs(scheduler);
  await scheduler.start();
  await ensureSchedules(scheduler, options.schedules ?? EXAMPLE_SCHEDULES);

  const configured = options.tokens ?? "generate";
  const generatedToken = configured === "generate" ? randomBytes(24).toString("base64url") : null;
  const tokens =
    configured === "generate"
      ? [{ name: "admin", role: "admin" as const, token: generatedToken as string }]
      : configured;
  const router = createRouter(scheduler, { auth: { tokens }, ...options.router });
  const server = createApp(router).listen(options.port ?? 3000, options.host ?? "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(":") ? `[${address}]` : address}:${port}`;

  let stopping: Promise<void> | null = null;
  return {
    url,
    dashboardUrl: `${url}/scheduler/`,
    generatedToken,
    scheduler,
    server,
    stop() {
      stopping ??= (async () => {
        router.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        // A deploy restarts the host on the same storage: a job still running at the deadline is
        // handed over to it (or to another instance) rather than recorded cancelled.
        await scheduler.stop({ atDeadline: storage.name === "memory" ? "cancel" : "hand-over" });
        await storage.close();
      })();
      return stopping;
    },
  };
}
