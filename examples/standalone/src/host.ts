/**
 * The standalone host: one process that runs the scheduler with the example jobs, a health server
 * and a status file, and stops gracefully on SIGTERM/SIGINT (systemd's stop). Everything here is
 * wiring; the behaviour lives in @tradecron/core.
 */

import type { Server } from "node:http";
import {
  type Broker,
  ConsoleNotifier,
  type Logger,
  NotFoundError,
  type Notifier,
  PaperBroker,
  type RiskLimits,
  type ScheduleInput,
  Scheduler,
  type Storage,
  silentLogger,
  WebhookNotifier,
} from "@tradecron/core";
import { FileStorage } from "@tradecron/storage-fs";
import { startHealthServer } from "./health-server.js";
import { type JobBehaviour, registerJobs } from "./jobs.js";
import { keepStatusFile } from "./status-file.js";

/** The host's default schedules: the seeds' morning routine, exit check and end-of-day snapshot. */
export const DEFAULT_SCHEDULES: ScheduleInput[] = [
  {
    id: "morning-routine",
    name: "Morning routine (pre-market scan)",
    job: "morning-routine",
    trigger: { cron: "0 9 * * 1-5", timezone: "America/New_York" },
  },
  {
    id: "exit-check",
    name: "Exit check",
    job: "exit-check",
    trigger: { every: "30s" },
    overlap: "skip",
  },
  {
    id: "daily-snapshot",
    name: "Daily snapshot after the London close",
    job: "daily-snapshot",
    trigger: { cron: "35 16 * * *", timezone: "UTC" },
    retry: { attempts: 3, backoff: { baseMs: "60s", factor: 2 } },
  },
];

/** The example's risk limits: small orders, a daily cap, no more than five positions. */
export const DEFAULT_RISK: RiskLimits = {
  maxOrderNotional: 25_000,
  maxDailyNotional: 100_000,
  maxOpenPositions: 5,
  minConfidence: 0.5,
};

/** A PaperBroker with a price for each example symbol (the paper broker of the embedded defaults). */
export function paperBroker(): PaperBroker {
  const broker = new PaperBroker({ initialCash: "100000" });
  const prices: Record<string, string> = { AAPL: "190.10", MSFT: "410.50", TSLA: "251.20", SPY: "585.30" };
  for (const [symbol, price] of Object.entries(prices)) broker.setPrice(symbol, price);
  return broker;
}

/** The example's notifiers: the console, and a signed webhook when its URL is configured. */
export function defaultNotifiers(env: NodeJS.ProcessEnv = process.env): Notifier[] {
  const notifiers: Notifier[] = [new ConsoleNotifier()];
  if (env.TRADECRON_WEBHOOK_URL) {
    notifiers.push(
      new WebhookNotifier({
        url: env.TRADECRON_WEBHOOK_URL,
        ...(env.TRADECRON_WEBHOOK_SECRET ? { secret: env.TRADECRON_WEBHOOK_SECRET } : {}),
      }),
    );
  }
  return notifiers;
}

/** Options of {@link startHost}. */
export interface HostOptions {
  /** Storage to use. Default: FileStorage in `dataDir`. */
  storage?: Storage;
  /** Folder of the default FileStorage. Default `./tradecron-data`. */
  dataDir?: string;
  logger?: Logger;
  instanceId?: string;
  /** Port of the health server; 0 picks a free one; null turns it off. Default 8080. */
  healthPort?: number | null;
  /** Path of the status file; null turns it off. */
  statusFile?: string | null;
  /** Schedules to create if missing. Default {@link DEFAULT_SCHEDULES}. */
  schedules?: ScheduleInput[];
  behaviour?: JobBehaviour;
  /** The broker. Default: a PaperBroker with $100,000 and prices for the example symbols. */
  broker?: Broker;
  /** Risk limits. Default {@link DEFAULT_RISK}. */
  risk?: RiskLimits;
  /** Notifiers. Default: the console, plus a signed webhook when TRADECRON_WEBHOOK_URL is set. */
  notifiers?: Notifier[];
  /** How long approvals stay pending. Default 4 h. */
  approvalExpiry?: string | number;
  /** Install SIGTERM/SIGINT handlers that stop gracefully. Default true. */
  handleSignals?: boolean;
}

/** A running host. */
export interface Host {
  scheduler: Scheduler;
  server: Server | null;
  /** Stops the health server, the status file and the scheduler (waiting for running jobs). */
  stop(): Promise<void>;
}

/** Creates each schedule unless one with its id exists (so restarts keep user edits). */
export async function ensureSchedules(scheduler: Scheduler, schedules: ScheduleInput[]): Promise<void> {
  for (const input of schedules) {
    try {
      await scheduler.getSchedule(input.id as string);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      await scheduler.createSchedule(input, { actor: "host" });
    }
  }
}

/** Starts the host. */
export async function startHost(options: HostOptions = {}): Promise<Host> {
  const logger = options.logger ?? silentLogger;
  const broker = options.broker ?? paperBroker();
  const storage = options.storage ?? new FileStorage({ dir: options.dataDir ?? "tradecron-data", logger });
  const scheduler = new Scheduler({
    storage,
    logger,
    ...(options.instanceId ? { instanceId: options.instanceId } : {}),
    broker,
    risk: options.risk ?? DEFAULT_RISK,
    notifiers: options.notifiers ?? defaultNotifiers(),
    ...(options.approvalExpiry === undefined ? {} : { approvalExpiry: options.approvalExpiry }),
    ...(broker instanceof PaperBroker ? { prices: (symbol: string) => broker.getPrice(symbol) } : {}),
  });

  registerJobs(scheduler, options.behaviour);
  await scheduler.start();
  await ensureSchedules(scheduler, options.schedules ?? DEFAULT_SCHEDULES);
  const stopStatus = options.statusFile ? keepStatusFile(scheduler, options.statusFile) : null;
  const port = options.healthPort === undefined ? 8080 : options.healthPort;
  const server = port === null ? null : await startHealthServer(scheduler, port);
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      await scheduler.stop({ timeoutMs: 30_000 });
      await stopStatus?.();
      await scheduler.storage.close();
    })();
    return stopping;
  };
  if (options.handleSignals !== false) {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, "stopping");
      void stop().then(() => process.exit(0));
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  }
  return { scheduler, server, stop };
}
