/**
 * Start and stop. `start()` opens the storage, restores the schedules and the emergency switch,
 * and arms everything. `stop()` keeps promise 1 through a shutdown: every fire claimed before or
 * during the call either finishes and is recorded inside the deadline, or is given back unstarted
 * or handed over, so it still runs exactly once. Both are idempotent and safe to race.
 */

import { z } from "zod";
import { TradecronError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { NotifierHub } from "../notify/notifier-hub.js";
import type { Storage } from "../storage/storage.js";
import { type Clock, sleep } from "../time/clock.js";
import type { Trading } from "../trading/trading.js";
import { durationSchema, parseInput } from "../validation.js";
import type { Controls } from "./controls.js";
import type { Dispatcher } from "./dispatcher.js";
import { logNextFires } from "./event-log.js";
import type { Gate } from "./gate.js";
import { settleUntil } from "./in-flight.js";
import { KeepAlive } from "./keep-alive.js";
import type { Loop } from "./loop.js";
import type { Maintenance } from "./maintenance.js";
import type { Membership } from "./membership.js";
import type { Monitor } from "./monitor.js";
import type { Registry } from "./registry.js";
import type { Reporter } from "./reporter.js";
import type { Retention } from "./retention.js";
import { type Runs, SHUTDOWN_HANDOVER, STOP_GRACE_MS } from "./runs.js";
import type { Sync } from "./sync.js";

/** Options of `Scheduler.stop`. */
export interface StopOptions {
  /** How long running handlers get to finish (a duration; default 30 s). */
  timeoutMs?: number | string;
  /** Close the storage once stopped (default false: it is the host's, maybe shared). */
  closeStorage?: boolean;
  /** What happens to handlers still running at the deadline: `cancel` (default) or `hand-over`. */
  atDeadline?: "cancel" | "hand-over";
}

/** What `Scheduler.stop` did at its deadline (in the `scheduler:stopped` event). */
export interface StopResult {
  /** Executions whose handler was still running at the deadline and was recorded cancelled. */
  cancelled: string[];
  /** Executions whose handler was still running at the deadline and was handed over. */
  handedOver: string[];
}

const stopSchema = z.strictObject({
  timeoutMs: durationSchema.default(30_000),
  closeStorage: z.boolean().default(false),
  atDeadline: z.enum(["cancel", "hand-over"]).default("cancel"),
});

/** Longest wait for queued notifications at stop. */
const NOTIFY_FLUSH_MS = 5000;

/** What the lifecycle needs. */
export interface LifecycleDeps {
  storage: Storage;
  clock: Clock;
  instanceId: string;
  logger: Logger;
  reporter: Reporter;
  gate: Gate;
  registry: Registry;
  loop: Loop;
  controls: Controls;
  sync: Sync;
  maintenance: Maintenance;
  /** This instance's place in the cluster: joined at start, left as stop() begins. */
  membership: Membership;
  dispatcher: Dispatcher;
  runs: Runs;
  trading: Trading;
  retention: Retention;
  notifier: NotifierHub;
  monitor: Monitor;
  /** Hold the process open while started (option `keepAlive`). */
  keepAliveWhileStarted: boolean;
}

/** Start, stop, and the shutdown hand-over. */
export class Lifecycle {
  /** When this instance last started (null before the first start). */
  startedAt: number | null = null;
  /** Holds the process open while started (option `keepAlive`) and while stopping. */
  private readonly keepAlive = new KeepAlive();
  private unwatch: (() => void) | null = null;
  private starting: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;

  constructor(private readonly deps: LifecycleDeps) {}

  async start(): Promise<void> {
    if (this.deps.gate.started) return;
    if (this.starting) return this.starting;
    if (this.stopping) await this.stopping;
    this.starting = this.doStart().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const { storage, clock, gate, registry, sync, reporter } = this.deps;
    gate.state = "starting";
    try {
      await storage.open();
      gate.control = await this.deps.controls.read();
      const records = (await storage.listSchedules()).filter((record) => sync.trusted(record));
      // One query for every schedule's history: last fire, start, end, status and success.
      const summaries = await storage.scheduleSummaries(records.map((r) => r.id));
      for (const [i, record] of records.entries()) {
        registry.adoptStored(record, sync.compiled(record), summaries[i] ?? null);
      }
    } catch (error) {
      gate.state = "stopped";
      throw error;
    }
    // Known to the other instances (and knowing them) before the first fire is armed; one
    // started paused joins at resume() (it would be preferred for fires it does not claim).
    if (!gate.paused) {
      this.deps.membership.rejoin();
      await this.deps.membership.beat();
    }
    if (storage.watch) this.unwatch = storage.watch((change) => sync.onChange(change));
    await this.deps.trading.start();
    gate.state = gate.paused ? "paused" : "running";
    if (this.deps.keepAliveWhileStarted) this.keepAlive.hold("started");
    this.startedAt = clock.now();
    this.deps.loop.heartbeatAt = this.startedAt;
    registry.armAll();
    this.deps.maintenance.start(this.startedAt);
    this.deps.retention.start();
    const { logger, instanceId, monitor } = this.deps;
    logger.info({ instanceId, schedules: registry.states.size }, "scheduler started");
    logNextFires(logger, monitor.scheduleStatuses(), (s) => monitor.whyNoFire(s));
    reporter.emit("scheduler:started", { instanceId, at: this.startedAt });
  }

  async stop(options: StopOptions): Promise<void> {
    const o = parseInput(stopSchema, options, "scheduler", "", "options");
    if (this.deps.gate.state === "stopped") {
      if (o.closeStorage) await this.deps.storage.close();
      return;
    }
    if (this.starting) await this.starting.catch(() => {});
    if (this.stopping) return this.stopping;
    this.keepAlive.hold("stop");
    this.stopping = this.doStop(o.timeoutMs, o.closeStorage, o.atDeadline).finally(() => {
      this.stopping = null;
      this.keepAlive.release("stop");
    });
    return this.stopping;
  }

  /** Work whose end stop() waits for: runs, claims on their way, background tasks. */
  private inFlight(): Promise<unknown>[] {
    const { runs, dispatcher, reporter } = this.deps;
    return [...runs.all().map((r) => r.done), ...dispatcher.claiming.promises, ...reporter.tasks];
  }

  private async doStop(
    timeoutMs: number,
    closeStorage: boolean,
    atDeadline: "cancel" | "hand-over",
  ): Promise<void> {
    const { clock, gate, runs, reporter, instanceId } = this.deps;
    const result: StopResult = { cancelled: [], handedOver: [] };
    const now = clock.now();
    gate.state = "stopping";
    reporter.emit("scheduler:stopping", { instanceId, at: now, running: runs.size });
    this.deps.trading.halt();
    // Drops the fires held for a step-in too (never claimed). Leaving at once lets the others
    // claim this instance's share without waiting for a step-in, since it claims nothing now.
    this.deps.registry.disarmAll();
    // Outcomes the loop holds back for a burst are written now: those handlers have run.
    this.deps.dispatcher.completions.releaseAll();
    // Fires claimed ahead of an instant still to come: released now, not started at it.
    reporter.background(this.deps.dispatcher.ahead.releaseAll(), "releasing fires claimed ahead");
    reporter.background(this.deps.membership.leave(), "leaving the cluster");
    this.unwatch?.();
    this.unwatch = null;
    const retentionStopped = this.deps.retention.stop();
    // Buffered fires have not started: hand them over now. Runs between attempts, likewise (a run
    // that fails during the wait is handed over as it starts its backoff: `onBackoff`).
    for (const run of runs.all()) {
      if (run.phase === "waiting") run.cancel(SHUTDOWN_HANDOVER);
      else if (run.phase === "backoff") await runs.handOver(run);
    }
    const deadline = now + timeoutMs;
    await settleUntil(clock, deadline, () => this.inFlight());
    // The deadline: unstarted fires (and claims that come back from now on) are handed over,
    // handlers still running are aborted and recorded as cancelled.
    gate.stopCutoff = true;
    const handingOver: Promise<void>[] = [];
    for (const run of runs.all()) {
      if (run.handedOver || run.phase === "done") continue;
      if (!run.started) run.cancel(SHUTDOWN_HANDOVER);
      else if (run.phase === "backoff") await runs.handOver(run);
      else if (atDeadline === "hand-over") {
        result.handedOver.push(run.execution.id);
        handingOver.push(runs.handOverRunning(run));
      } else {
        result.cancelled.push(run.execution.id);
        run.cancel("shutdown");
      }
    }
    await Promise.all(handingOver);
    const drained = await settleUntil(clock, clock.now() + STOP_GRACE_MS, () => this.inFlight());
    if (!drained) {
      reporter.reportError(
        new TradecronError(
          "STORAGE",
          `stop: ${this.inFlight().length} storage call(s) still pending ${STOP_GRACE_MS} ms after the deadline; not waiting longer`,
        ),
        "stopping",
      );
    }
    this.deps.maintenance.stop();
    await retentionStopped;
    await this.deps.trading.stop();
    if (timeoutMs > 0) {
      // Give queued notifications (a failure, a pause) a bounded chance to leave before exit.
      const flush = new AbortController();
      await Promise.race([
        this.deps.notifier.flush(),
        sleep(clock, Math.min(timeoutMs, NOTIFY_FLUSH_MS), flush.signal).catch(() => {}),
      ]);
      flush.abort();
    }
    gate.stopCutoff = false;
    gate.state = "stopped";
    this.keepAlive.release("started");
    if (closeStorage) await this.deps.storage.close();
    const at = clock.now();
    this.deps.logger.info({ instanceId }, "scheduler stopped");
    reporter.emit("scheduler:stopped", { instanceId, at, ...result });
  }
}
