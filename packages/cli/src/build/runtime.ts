/**
 * A Scheduler built from a config: storage, broker, notifiers, risk limits, the jobs registered.
 * `tradecron start` builds one to run; the direct commands build a passive one (paused on this
 * instance, so it fires nothing and takes nothing over) to act on the shared storage.
 */

import {
  type Broker,
  type Logger,
  PaperBroker,
  Scheduler,
  type Storage,
  ValidationError,
} from "@tradecron/core";
import type { ResolvedConfig } from "../config/validate.js";
import { ConfigError } from "../errors.js";
import { createBroker } from "./brokers.js";
import { createNotifiers } from "./notifiers.js";
import { createStorage } from "./storage.js";

/** What to build. */
export interface RuntimeOptions {
  logger: Logger;
  /** Build and attach the broker (default true). Commands that never trade leave it out. */
  broker?: boolean;
  /** Register the jobs (default true). */
  jobs?: boolean;
  env?: Readonly<Record<string, string | undefined>>;
  /** An instance id of its own (commands: `cli:<host>:<pid>`). */
  instanceId?: string;
}

/** A built scheduler and its parts. */
export interface Runtime {
  scheduler: Scheduler;
  storage: Storage;
  broker: Broker | null;
}

/** Builds (does not start) the scheduler the config describes. */
export async function buildRuntime(config: ResolvedConfig, options: RuntimeOptions): Promise<Runtime> {
  const storage = await createStorage(config.storage, options.logger);
  const broker =
    options.broker !== false && config.broker
      ? await createBroker(config.broker, {
          env: options.env ?? process.env,
          configDir: config.dir,
          logger: options.logger,
        }).catch((error: unknown) => {
          // A missing key (APCA_API_KEY_ID ...) is a config problem: exit 2, naming the file and field.
          throw error instanceof ValidationError ? new ConfigError(config.file, error.issues) : error;
        })
      : null;
  const instanceId = options.instanceId ?? config.scheduler.instanceId;
  const scheduler = new Scheduler({
    storage,
    logger: options.logger,
    leaseMs: config.scheduler.leaseMs,
    notifiers: createNotifiers(config.notifiers, options.env ?? process.env),
    ...(instanceId ? { instanceId } : {}),
    ...(broker ? { broker } : {}),
    ...(broker instanceof PaperBroker ? { prices: (symbol: string) => broker.getPrice(symbol) } : {}),
    ...(config.risk ? { risk: config.risk } : {}),
    ...(config.scheduler.approvalExpiryMs === undefined
      ? {}
      : { approvalExpiry: config.scheduler.approvalExpiryMs }),
  });
  if (options.jobs !== false) {
    for (const job of config.jobs) {
      scheduler.register(job.name, job.handler, job.description ? { description: job.description } : {});
    }
  }
  return { scheduler, storage, broker };
}
