/**
 * The runs in progress on this instance, and every way a run ends other than by its handler's
 * outcome (which the runner writes): skipped or cancelled before its handler started, given back
 * unstarted at shutdown, handed over between attempts or at stop's deadline. Whatever ends a run
 * passes through {@link Runs.settled}, which keeps the schedule's counts and wakes buffered fires.
 */

import type { Logger } from "../logger.js";
import type { JsonValue, ScheduleRecord } from "../storage/records.js";
import type { Storage } from "../storage/storage.js";
import type { Clock } from "../time/clock.js";
import type { Trading, TradingNotice } from "../trading/trading.js";
import { settleUntil } from "./in-flight.js";
import type { ScheduleState } from "./registry.js";
import type { Reporter } from "./reporter.js";
import { runStatsOf } from "./run-stats.js";
import type { Run } from "./runner.js";
import type { Counters } from "./status.js";

/** The cancel reason of a fire given back unstarted at shutdown (it is handed over, not recorded). */
export const SHUTDOWN_HANDOVER = "shutdown_handover";
/** How long stop() waits past its deadline for the writes of cancelled and handed-over fires. */
export const STOP_GRACE_MS = 10_000;

/** What the runs need. */
export interface RunsDeps {
  storage: Storage;
  clock: Clock;
  instanceId: string;
  logger: Logger;
  counters: Counters;
  reporter: Reporter;
  trading: Trading;
  states: ReadonlyMap<string, ScheduleState>;
  notify(notice: TradingNotice): void;
}

/** The runs of this instance. */
export class Runs {
  private readonly set = new Set<Run>();

  constructor(private readonly deps: RunsDeps) {}

  /** Number of runs in progress. */
  get size(): number {
    return this.set.size;
  }

  /** A snapshot of the runs in progress (safe to change the set while iterating it). */
  all(): Run[] {
    return [...this.set];
  }

  add(run: Run): void {
    this.set.add(run);
  }

  delete(run: Run): void {
    this.set.delete(run);
  }

  /** The run of execution `id` on this instance, if any. */
  find(id: string): Run | undefined {
    for (const r of this.set) if (r.execution.id === id) return r;
    return undefined;
  }

  /** Bookkeeping once a run's outcome is decided (stored or not): counts, notice, buffered fires woken. */
  settled(run: Run, schedule: ScheduleRecord): void {
    this.set.delete(run);
    this.deps.trading.runSettled(run);
    const e0 = run.execution;
    if (e0.status === "failed" || e0.status === "timed_out") {
      this.deps.notify({
        kind: "run_failed",
        severity: "critical",
        subject: `Scheduler job failed: ${schedule.name}`,
        body: `${schedule.id} (${schedule.job}) ${e0.status === "timed_out" ? "timed out" : "failed"} after ${e0.attempts} attempt(s): ${e0.error?.message ?? "unknown error"}`,
        data: {
          scheduleId: schedule.id,
          executionId: e0.id,
          scheduledAt: e0.scheduledAt,
          attempts: e0.attempts,
          status: e0.status,
          error: e0.error as unknown as JsonValue,
        },
      });
    }
    const st = this.deps.states.get(schedule.id);
    if (!st) return;
    const stats = runStatsOf(st);
    stats.running = Math.max(0, stats.running - 1);
    stats.endedRuns++;
    const e = run.execution;
    // Only runs (a handler started) count, as in the storage's summaries: a skip is not a run.
    if (e.status !== "claimed" && e.status !== "running" && e.startedAt !== null && !run.handedOver) {
      stats.lastEndAt = e.endedAt;
      stats.lastStatus = e.status;
      if (e.status === "succeeded") stats.lastSuccessAt = e.endedAt;
    }
    if (stats.waiters) for (const w of [...stats.waiters]) w();
  }

  /** Ends a claimed fire whose handler never started, as skipped or cancelled with `reason`. */
  async finishWithoutRun(
    run: Run,
    st: ScheduleState,
    status: "skipped" | "cancelled",
    reason: string,
  ): Promise<void> {
    const { storage, clock, instanceId, counters, reporter } = this.deps;
    const now = clock.now();
    try {
      const updated = await storage.updateExecution(run.execution.id, instanceId, {
        status,
        reason,
        attempts: 0,
        startedAt: null,
        endedAt: now,
        leaseExpiresAt: null,
      });
      reporter.storageOk();
      if (updated) run.execution = updated;
    } catch (error) {
      reporter.storageFailed(error, `recording ${status} fire ${run.execution.id}`);
    }
    if (status === "skipped") {
      counters.skipped++;
      reporter.emit("run:skipped", { execution: run.execution, reason });
    } else {
      counters.cancelled++;
      reporter.emit("run:cancelled", { execution: run.execution, reason });
    }
    run.settle(run.execution);
    this.settled(run, st.record);
  }

  /** A fire cancelled before its handler started: handed over at shutdown, else recorded as cancelled. */
  abandon(run: Run, st: ScheduleState): Promise<void> {
    if (run.cancelReason === SHUTDOWN_HANDOVER) return this.giveBack(run, st);
    return this.finishWithoutRun(run, st, "cancelled", run.cancelReason ?? "cancelled");
  }

  /**
   * Gives back a fire this instance holds but did not start (shutdown): its lease is expired at
   * once, so exactly one other instance (or this one after a restart) takes it over. A fire never
   * started goes back to `claimed` with no attempt used, and runs as attempt 1 there; a taken-over
   * fire gets back the attempt its takeover counted.
   */
  async giveBack(run: Run, st: ScheduleState): Promise<void> {
    const { storage, clock, instanceId, reporter } = this.deps;
    run.handedOver = true;
    const e = run.execution;
    const now = clock.now();
    const patch =
      e.attempts <= 1
        ? { status: "claimed" as const, attempts: 0, startedAt: null, leaseExpiresAt: now }
        : { attempts: e.attempts - 1, leaseExpiresAt: now };
    try {
      const updated = await storage.updateExecution(e.id, instanceId, patch);
      reporter.storageOk();
      if (updated) {
        run.execution = updated;
        reporter.emit("fire:handed-over", { execution: updated, reason: "shutdown" });
      }
    } catch (error) {
      // Not written: the lease is not renewed any more, so another instance takes it over when it runs out.
      reporter.storageFailed(error, `handing over ${e.id}`);
    }
    run.settle(null);
    this.settled(run, st.record);
  }

  /**
   * Releases a fire claimed ahead of its instant and not started (`stop()` before the instant,
   * claim-ahead.ts): the claim is deleted, so the fire is as if never claimed, and whoever runs
   * the schedule at its instant (another instance, or this one restarted) claims it then. Given
   * back instead, it could be taken over, and started, before its instant. Two writes: back to
   * `claimed` with its lease running to the instant (a claim a crash leaves between them is taken
   * over after the instant, never before), then `releaseClaim`.
   */
  async release(run: Run, st: ScheduleState): Promise<void> {
    const { storage, clock, instanceId, reporter } = this.deps;
    run.handedOver = true;
    const e = run.execution;
    try {
      const parked = await storage.updateExecution(e.id, instanceId, {
        status: "claimed",
        attempts: 0,
        startedAt: null,
        leaseExpiresAt: Math.max(e.scheduledAt, clock.now()),
      });
      if (parked) await storage.releaseClaim(e.id, instanceId);
      reporter.storageOk();
    } catch (error) {
      reporter.storageFailed(error, `releasing ${e.id}`);
    }
    run.settle(null);
    this.settled(run, st.record);
  }

  /**
   * Hands over a run waiting between attempts (shutdown): its lease expires at once and the attempt
   * it was about to start is given back, so whoever takes it over runs that attempt.
   */
  async handOver(run: Run): Promise<void> {
    if (run.handedOver) return;
    const { storage, clock, instanceId, reporter } = this.deps;
    run.handedOver = true;
    const e = run.execution;
    try {
      const updated = await storage.updateExecution(e.id, instanceId, {
        attempts: Math.max(0, e.attempts - 1),
        leaseExpiresAt: clock.now(),
      });
      reporter.storageOk();
      if (updated) reporter.emit("fire:handed-over", { execution: updated, reason: "shutdown" });
    } catch (error) {
      reporter.storageFailed(error, `handing over ${e.id}`);
    }
    run.cancel("handed_over");
  }

  /**
   * Hands over a run whose handler is still running at stop's deadline (`atDeadline:
   * "hand-over"`): its outcome is not recorded here, its signal is aborted, and the attempt is given
   * back. The lease is expired at once only after the handler settled, so the fire never runs on
   * two instances at the same time; a handler that ignores its signal leaves the lease to lapse.
   */
  async handOverRunning(run: Run): Promise<void> {
    const { storage, clock, instanceId, reporter } = this.deps;
    run.handedOver = true;
    const attempts = run.execution.attempts;
    run.cancel("handed_over");
    let handlerDone = run.handler === null;
    const handler = run.handler?.then(
      () => {
        handlerDone = true;
      },
      () => {
        handlerDone = true;
      },
    );
    const settled = await settleUntil(clock, clock.now() + STOP_GRACE_MS, () =>
      handlerDone || !handler ? [] : [handler],
    );
    const e = run.execution;
    try {
      const updated = await storage.updateExecution(e.id, instanceId, {
        attempts: Math.max(0, attempts - 1),
        ...(settled ? { leaseExpiresAt: clock.now() } : {}),
      });
      reporter.storageOk();
      if (updated) {
        this.deps.logger.info(
          { executionId: e.id, scheduleId: e.scheduleId, handlerSettled: settled },
          `${e.scheduleId}: still running at the stop deadline; handed over (${settled ? "lease expired now" : "its lease lapses"})`,
        );
        reporter.emit("fire:handed-over", { execution: updated, reason: "shutdown" });
      }
    } catch (error) {
      reporter.storageFailed(error, `handing over ${e.id}`);
    }
  }
}
