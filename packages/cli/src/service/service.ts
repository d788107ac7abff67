/**
 * `tradecron start`: the long-running process. Builds the scheduler from the config, declares the
 * config's schedules (created, updated, left alone or removed to match, safe when several
 * instances start at once), serves @tradecron/http (/health, /status, /metrics, the API, the
 * dashboard), keeps the status file, logs what core does not, and stops gracefully: running
 * handlers get the stop deadline to finish, then are handed over (or cancelled).
 *
 * The order matters: the tokens are read and the port is bound before storage is touched (a bad
 * token or a taken port changes nothing), and schedules are declared before the loop starts (no
 * fire of an outdated schedule).
 */

import { basename } from "node:path";
import {
  type DeclareReport,
  declareSchedules,
  type Logger,
  type Scheduler,
  type SchedulerEventName,
  type Storage,
} from "@tradecron/core";
import { buildRuntime } from "../build/runtime.js";
import { describeStorage } from "../build/storage.js";
import type { ResolvedConfig } from "../config/validate.js";
import { CliError, EXIT } from "../errors.js";
import { type EventHandlers, listen, logEvents } from "./event-log.js";
import { httpTokens } from "./http-auth.js";
import type { HttpServer } from "./http-server.js";
import { LastSkips } from "./last-skips.js";
import { statusSnapshot } from "./snapshot.js";
import { StatusFile } from "./status-file.js";

/** Options of {@link Service.start}. */
export interface ServiceOptions {
  config: ResolvedConfig;
  logger: Logger;
  env?: Readonly<Record<string, string | undefined>>;
}

/** How a stop ended. */
export interface StopOutcome {
  /**
   * Schedules whose runs were still going at the deadline and were handed over (core's
   * `stop({ atDeadline: "hand-over" })`): nothing was recorded cancelled, the attempt was given
   * back, and another instance takes them over (at once when the handler gave up on its aborted
   * signal, after the lease otherwise). Empty when everything finished, or was cancelled.
   */
  handedOver: string[];
}

/** Events after which the status file is rewritten. */
const RUN_EVENTS: SchedulerEventName[] = [
  "run:started",
  "run:retrying",
  "run:succeeded",
  "run:failed",
  "run:timed-out",
  "run:cancelled",
  "run:skipped",
  "fire:handed-over",
  "scheduler:paused-all",
  "scheduler:resumed-all",
];

/** A running `tradecron start`. */
export class Service {
  private stopping: Promise<StopOutcome> | null = null;

  private constructor(
    readonly scheduler: Scheduler,
    private readonly storage: Storage,
    private readonly logger: Logger,
    private readonly config: ResolvedConfig,
    /** The HTTP server, when configured. */
    readonly http: HttpServer | null,
    private readonly statusFile: StatusFile | null,
    private readonly unfollow: () => void,
    /** What the start's declaration did (null in standby). */
    readonly declared: DeclareReport | null,
  ) {}

  /** Starts the service. Throws a CliError (or ConfigError) when it cannot. */
  static async start(options: ServiceOptions): Promise<Service> {
    const { config, logger } = options;
    const env = options.env ?? process.env;
    const tokens = config.http ? httpTokens(config.http, env, config.file) : [];
    const { scheduler, storage } = await buildRuntime(config, { logger, env });
    const lastSkips = new LastSkips();
    let http: HttpServer | null = null;
    const snapshot = () => statusSnapshot(scheduler, lastSkips, http?.url ?? null);
    if (config.http) {
      try {
        // Loaded here, not at the top: only `start` needs Express and the router.
        const { startHttpServer } = await import("./http-server.js");
        http = await startHttpServer(scheduler, config.http, tokens, logger);
      } catch (error) {
        throw new CliError(
          "VALIDATION",
          `cannot serve HTTP on ${config.http.host}:${config.http.port}: ${(error as Error).message} (set http.port, TRADECRON_HTTP_PORT, or http: false)`,
          EXIT.UNREACHABLE,
          { field: "http.port", cause: error },
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
      const statusFile = config.statusFile
        ? new StatusFile(config.statusFile.path, snapshot, logger, config.statusFile.intervalMs)
        : null;
      const rewrite: EventHandlers = {};
      for (const name of RUN_EVENTS) rewrite[name] = () => statusFile?.request();
      const unfollow = [
        lastSkips.follow(scheduler),
        listen(scheduler, rewrite),
        logEvents(scheduler, logger),
      ];
      // Core logs each schedule's next fire as it starts, and keeps Node alive until stop().
      await scheduler.start();
      await statusFile?.start();
      http?.ready();
      const service = new Service(
        scheduler,
        storage,
        logger,
        config,
        http,
        statusFile,
        () => {
          for (const off of unfollow) off();
        },
        declared,
      );
      logger.info(
        {
          event: "service:started",
          instanceId: scheduler.instanceId,
          storage: where,
          config: config.file,
          enabled: config.scheduler.enabled,
          url: http?.url ?? null,
          dashboard: http?.dashboardUrl ?? null,
          httpPort: http?.address.port ?? null,
          statusFile: config.statusFile?.path ?? null,
        },
        http ? `tradecron started; API at ${http.url}` : "tradecron started",
      );
      return service;
    } catch (error) {
      await scheduler.stop({ timeoutMs: 0 }).catch(() => {});
      await storage.close().catch(() => {});
      await http?.close();
      throw error;
    }
  }

  /**
   * Stops gracefully: no new fires, running handlers get `scheduler.stopTimeout` to finish, the
   * status file gets its last write, the HTTP server and the storage are closed. `/health`
   * answers 503 "stopping" meanwhile. Idempotent.
   *
   * At the deadline, handlers still running are cancelled (recorded `cancelled`, reason
   * `shutdown`), unless `handOver` is set, the config says `atStopTimeout: "hand-over"` (the
   * default) and the storage outlives the process: then core hands them over (their signal is
   * aborted, nothing is recorded, the attempt is given back and the lease expired once the handler
   * gave up), so another instance (or this one after its restart) runs them with the same
   * idempotency key and a rolling deploy never cancels a 20-minute job. `tradecron start` asks
   * for exactly this.
   */
  stop(reason = "stop", options: { handOver?: boolean } = {}): Promise<StopOutcome> {
    this.stopping ??= this.doStop(reason, options.handOver === true);
    return this.stopping;
  }

  private async doStop(reason: string, handOverAsked: boolean): Promise<StopOutcome> {
    const deadlineMs = this.config.scheduler.stopTimeoutMs;
    const handOver =
      handOverAsked &&
      this.config.scheduler.atStopTimeout === "hand-over" &&
      this.config.storage.type !== "memory";
    this.logger.info(
      { event: "service:stopping", reason, running: this.scheduler.runningCount, deadlineMs },
      `stopping (${reason}); running handlers have ${deadlineMs} ms to finish${handOver ? ", then are handed over" : ""}`,
    );
    let handedOverIds: string[] = [];
    const onStopped = (e: { handedOver: string[] }) => {
      handedOverIds = e.handedOver;
    };
    this.scheduler.on("scheduler:stopped", onStopped);
    await this.scheduler
      .stop({ timeoutMs: deadlineMs, atDeadline: handOver ? "hand-over" : "cancel" })
      .catch((error: unknown) => this.logger.error({ err: error }, "the scheduler did not stop cleanly"));
    this.scheduler.off("scheduler:stopped", onStopped);
    const handedOver = await this.scheduleIdsOf(handedOverIds);
    if (handedOver.length > 0) {
      this.logger.warn(
        {
          event: "service:handed-over",
          reason,
          scheduleIds: handedOver,
          executionIds: handedOverIds,
          leaseMs: this.config.scheduler.leaseMs,
        },
        `stop deadline (${deadlineMs} ms) reached with ${handedOver.join(", ")} still running: handed over without cancelling; another instance takes them over (at once if the handler gave up, else after its lease of ${this.config.scheduler.leaseMs} ms)`,
      );
    }
    await this.statusFile?.stop();
    this.unfollow();
    await this.http?.close();
    await this.storage
      .close()
      .catch((error: unknown) => this.logger.error({ err: error }, "closing the storage failed"));
    this.logger.info({ event: "service:stopped", reason }, "tradecron stopped");
    return { handedOver };
  }

  /** The schedules of executions (for the hand-over log line), in order, without repeats. */
  private async scheduleIdsOf(executionIds: readonly string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const id of executionIds) {
      const e = await this.storage.getExecution(id).catch(() => null);
      const scheduleId = e?.scheduleId ?? id;
      if (!ids.includes(scheduleId)) ids.push(scheduleId);
    }
    return ids;
  }
}
