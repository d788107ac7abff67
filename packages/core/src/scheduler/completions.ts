/**
 * The outcome writes of runs whose first attempt succeeded at once (a handler that returned
 * without awaiting, with the state the claim brought): most fires of a burst. They are written
 * once every fire started with them has started: one microtask after their batch, or, while the
 * loop holds them (`hold`/`release`, around a burst it starts batch by batch), after the burst's
 * last batch. Each is written without an async function, a promise chain or a retry loop of its
 * own: the write's promise is the only one. A write that fails goes to the general path
 * (`finishRun`) as its first failed write: it is retried within the lease, and a state conflict
 * fails the run.
 */

import { toError } from "../errors.js";
import type { SchedulerEvents } from "../events.js";
import type { ExecutionRecord, ScheduleRecord } from "../storage/records.js";
import type { ExecutionPatch, Storage } from "../storage/storage.js";
import type { Clock } from "../time/clock.js";
import type { AttemptState } from "./attempt.js";
import { toResult } from "./result.js";
import type { Run } from "./runner.js";
import type { Counters } from "./status.js";

/** What the completions need. */
export interface CompletionsDeps {
  storage: Storage;
  clock: Clock;
  instanceId: string;
  counters: Counters;
  emit<K extends keyof SchedulerEvents>(name: K, payload: SchedulerEvents[K]): void;
  /** Called after each run's outcome is decided (stored or not). */
  onSettled(run: Run, schedule: ScheduleRecord): void;
  /** The general way to record a succeeded run (the runner's `finishRun`), for a failed write. */
  finish(
    run: Run,
    schedule: ScheduleRecord,
    outcome: { ok: true; value: unknown },
    attempt: number,
    state: AttemptState,
    startedAt: number,
    failedWrite?: { error: unknown },
  ): Promise<void>;
}

/** A run whose first attempt succeeded, waiting for its outcome write. */
interface Succeeded {
  run: Run;
  schedule: ScheduleRecord;
  value: unknown;
  state: AttemptState;
  attempt: number;
  startedAt: number;
}

/** Writes the outcomes of runs that succeeded at once, after the fires started with them. */
export class Completions {
  private pending: Succeeded[] = [];
  private queued = false;
  private held = 0;

  constructor(private readonly deps: CompletionsDeps) {}

  /** Queues the outcome of `run`, whose attempt `attempt` returned `value` at once. */
  add(
    run: Run,
    schedule: ScheduleRecord,
    value: unknown,
    state: AttemptState,
    attempt: number,
    startedAt: number,
  ): void {
    this.pending.push({ run, schedule, value, state, attempt, startedAt });
    if (!this.queued) {
      this.queued = true;
      queueMicrotask(this.flush);
    }
  }

  /** Holds the writes back until as many `release` calls: the fires due with them start first. */
  hold(): void {
    this.held++;
  }

  release(): void {
    if (this.held === 0) return;
    this.held--;
    if (this.held === 0 && this.pending.length > 0 && !this.queued) {
      this.queued = true;
      queueMicrotask(this.flush);
    }
  }

  /**
   * Lets every held write go at once (stop() begins): the runs are done, and a stop deadline
   * must not find them waiting and hand over fires whose handlers already ran.
   */
  releaseAll(): void {
    this.held = 0;
    if (this.pending.length > 0 && !this.queued) {
      this.queued = true;
      queueMicrotask(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.queued = false;
    // Held: `release` queues the flush again.
    if (this.held > 0) return;
    const batch = this.pending;
    this.pending = [];
    for (let i = 0; i < batch.length; i++) this.write(batch[i] as Succeeded);
  };

  private write(done: Succeeded): void {
    const { storage, clock, instanceId } = this.deps;
    const { run, state } = done;
    // Shutdown handed it over meanwhile: the general path settles it without a write.
    if (run.handedOver) {
      this.fallBack(done);
      return;
    }
    const endedAt = clock.now();
    run.phase = "finishing";
    const patch: ExecutionPatch = {
      status: "succeeded",
      endedAt,
      attempts: done.attempt,
      result: toResult(done.value),
      leaseExpiresAt: null,
    };
    const staged = state.staged;
    let written: Promise<ExecutionRecord | null>;
    try {
      written =
        staged === null
          ? storage.updateExecution(run.execution.id, instanceId, patch)
          : storage.updateExecution(run.execution.id, instanceId, patch, {
              value: staged.value,
              expectedRevision: state.read?.revision ?? 0,
              at: endedAt,
            });
    } catch (error) {
      written = Promise.reject(error);
    }
    written.then(
      (updated) => this.stored(done, updated, endedAt),
      // The general path takes the failure as its own first write's: a state conflict fails the
      // run (nothing commits), a storage error is reported and written again within the lease.
      (error: unknown) => this.fallBack(done, { error }),
    );
  }

  private stored(done: Succeeded, updated: ExecutionRecord | null, endedAt: number): void {
    const { counters, emit } = this.deps;
    const { run, schedule } = done;
    try {
      if (updated) {
        run.execution = updated;
        counters.succeeded++;
        emit("run:succeeded", { execution: updated, durationMs: endedAt - done.startedAt });
      } else if (run.cancelReason === null) {
        // Another instance took the fire over (our lease lapsed) or cancelled it: its outcome stands.
        emit("run:cancelled", { execution: run.execution, reason: "lease_lost" });
      }
      run.settle(updated);
      this.deps.onSettled(run, schedule);
    } catch (error) {
      emit("scheduler:error", { error: toError(error), context: `run of ${schedule.id}` });
    }
  }

  private fallBack(done: Succeeded, failedWrite?: { error: unknown }): void {
    const { run, schedule, value, attempt, state, startedAt } = done;
    this.deps
      .finish(run, schedule, { ok: true, value }, attempt, state, startedAt, failedWrite)
      .catch((error: unknown) =>
        this.deps.emit("scheduler:error", { error: toError(error), context: `run of ${schedule.id}` }),
      );
  }
}
