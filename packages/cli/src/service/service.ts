/**
 * `tradecron start`: the long-running process. Builds the scheduler from the config, declares the
 * config's schedules (created, updated, left alone or removed to match, safe when several
 * instances start at once), serves /health and /status, keeps the status file, logs what happens,
 * and stops gracefully: running handlers get the stop deadline to finish.
 *
 * The order matters: the port is bound before storage is touched (a taken port changes nothing),
 * and schedules are declared before the loop starts (no fire of an outdated schedule).
 */

import { basename } from "node:path";
import {
  type DeclareReport,
  declareSchedules,
  type Logger,
  type Scheduler,
  type Storage,
} from "@tradecron/core";
import { buildRuntime } from "../build/runtime.js";
import { describeStorage } from "../build/storage.js";
import type { ResolvedConfig } from "../config/validate.js";
import { CliError, EXIT } from "../errors.js";
import { logEvents, logNextFires } from "./event-log.js";
import { type HealthServer, startHealthServer } from "./health-server.js";
import { LastRuns } from "./last-runs.js";
import { statusSnapshot } from "./snapshot.js";
import { StatusFile } from "./status-file.js";

/** Options of {@link Service.start}. */
export interface ServiceOptions {
  config: ResolvedConfig;
  logger: Logger;
  env?: Readonly<Record<string, string | undefined>>;
}

/** A running `tradecron start`. */
export class Service {
  private stopping: Promise<void> | null = null;
  private readonly keepAlive: NodeJS.Timeout;

  private constructor(
    readonly scheduler: Scheduler,
    private readonly storage: Storage,
    private readonly logger: Logger,
    private readonly config: ResolvedConfig,
    /** The health server, when configured. */
    readonly health: HealthServer | null,
    private readonly statusFile: StatusFile | null,
    private readonly unfollow: () => void,
    /** What the start's declaration did (null in standby). */
    readonly declared: DeclareReport | null,
  ) {
    // The scheduler's own timers may not hold the event loop; this one does until stop().
    this.keepAlive = setInterval(() => {}, 1 << 30);
  }

  /** Starts the service. Throws a CliError (or ConfigError) when it cannot. */
  static async start(options: ServiceOptions): Promise<Service> {
    const { config, logger } = options;
    const { scheduler, storage } = await buildRuntime(config, { logger, env: options.env ?? process.env });
    let lastRuns = new LastRuns();
    let health: HealthServer | null = null;
    const url = () => (health ? `http://${health.address.address}:${health.address.port}` : null);
    const snapshot = () => statusSnapshot(scheduler, lastRuns, url());
    if (config.health) {
      try {
        health = await startHealthServer(
          { health: () => scheduler.health(), status: snapshot },
          config.health.port,
          config.health.host,
        );
      } catch (error) {
        throw new CliError(
          "VALIDATION",
          `cannot serve /health on ${config.health.host}:${config.health.port}: ${(error as Error).message} (set health.port, TRADECRON_HEALTH_PORT, or health: false)`,
          EXIT.UNREACHABLE,
          { field: "health.port", cause: error },
        );
      }
    }
    const where = describeStorage(config.storage);
    try {
      try {
        await storage.open();
      } catch (error) {
        const e = error as { code?: string; message?: string };
        throw new CliError(
          e.code === "STORAGE_LOCKED" ? "STORAGE_LOCKED" : "STORAGE",
          `cannot open the storage (${where}): ${e.message ?? String(error)}`,
          EXIT.UNREACHABLE,
          { field: "storage", cause: error },
        );
      }
      let declared: DeclareReport | null = null;
      if (config.scheduler.enabled) {
        declared = await declareSchedules(scheduler, config.schedules, {
          actor: `config:${basename(config.file)}`,
          removeMissing: config.scheduler.removeUndeclared,
        });
        logger.info({ event: "schedules:declared", ...declared }, "schedules declared");
      } else {
        scheduler.pause();
        logger.warn(
          { event: "scheduler:standby" },
          "scheduler disabled (scheduler.enabled / TRADECRON_ENABLED / SCHEDULER_ENABLED is false): this instance fires nothing",
        );
      }
      lastRuns = await LastRuns.fromStorage(
        scheduler,
        (await scheduler.listSchedules()).map((s) => s.id),
      );
      const statusFile = config.statusFile
        ? new StatusFile(config.statusFile.path, snapshot, logger, config.statusFile.intervalMs)
        : null;
      const stopFollowing = lastRuns.follow(scheduler, () => statusFile?.request());
      const stopLogging = logEvents(scheduler, logger);
      await scheduler.start();
      await statusFile?.start();
      const service = new Service(
        scheduler,
        storage,
        logger,
        config,
        health,
        statusFile,
        () => {
          stopFollowing();
          stopLogging();
        },
        declared,
      );
      await logNextFires(scheduler, logger);
      logger.info(
        {
          event: "service:started",
          instanceId: scheduler.instanceId,
          storage: where,
          config: config.file,
          enabled: config.scheduler.enabled,
          health: health ? `${url()}/health` : null,
          healthPort: health?.address.port ?? null,
          statusFile: config.statusFile?.path ?? null,
        },
        "tradecron started",
      );
      return service;
    } catch (error) {
      await scheduler.stop({ timeoutMs: 0 }).catch(() => {});
      await storage.close().catch(() => {});
      await health?.close();
      throw error;
    }
  }

  /**
   * Stops gracefully: no new fires, running handlers get the stop deadline to finish (then they
   * are cancelled and recorded), the status file gets its last write, the storage is closed.
   * /health answers 503 "stopping" meanwhile. Idempotent.
   */
  stop(reason = "stop"): Promise<void> {
    this.stopping ??= (async () => {
      const deadlineMs = this.config.scheduler.stopTimeoutMs;
      this.logger.info(
        { event: "service:stopping", reason, running: this.scheduler.runningCount, deadlineMs },
        `stopping (${reason}); running handlers have ${deadlineMs} ms to finish`,
      );
      try {
        await this.scheduler.stop({ timeoutMs: deadlineMs });
      } catch (error) {
        this.logger.error({ err: error }, "the scheduler did not stop cleanly");
      }
      await this.statusFile?.stop();
      this.unfollow();
      await this.health?.close();
      await this.storage
        .close()
        .catch((error: unknown) => this.logger.error({ err: error }, "closing the storage failed"));
      clearInterval(this.keepAlive);
      this.logger.info({ event: "service:stopped", reason }, "tradecron stopped");
    })();
    return this.stopping;
  }
}
