/**
 * Runs one claimed execution to its end: attempts with p-retry (backoff slept on the injected
 * clock), a per-attempt timeout through the handler's AbortSignal, cancellation, and the fenced
 * write of the outcome. A handler that ignores its signal cannot delay the outcome: its late
 * result is discarded and reported as `run:late-result`.
 */

import pRetry, { AbortError } from "p-retry";
import { errorCode, RunCancelledError, RunTimeoutError, TradecronError, toError } from "../errors.js";
import type { SchedulerEvents } from "../events.js";
import type { Logger } from "../logger.js";
import type { ExecutionError, ExecutionRecord, JsonValue, ScheduleRecord } from "../storage/records.js";
import type { ExecutionPatch, Storage } from "../storage/storage.js";
import { type Clock, sleep } from "../time/clock.js";
import { fireInfo, type JobContext, type JobDefinition } from "./job.js";
import { backoffDelay, isRetryable, requestedDelay } from "./retry.js";
import type { Counters } from "./status.js";

/** Where a run is in its life. */
export type RunPhase = "waiting" | "handler" | "backoff" | "finishing" | "done";

/** A run in progress on this instance. */
export class Run {
  /** Latest known state of the execution record. */
  execution: ExecutionRecord;
  private abortController: AbortController | null = null;
  phase: RunPhase;
  /** Set when the run is cancelled on purpose; becomes the stored reason. */
  cancelReason: string | null = null;
  /** True when shutdown hands the run over to another instance instead of finishing it. */
  handedOver = false;
  /** True once its handler was started (by {@link executeRun}); until then it can be handed over unstarted. */
  started = false;
  /** Settles with the final record (null when the outcome could not be stored). */
  readonly done: Promise<ExecutionRecord | null>;
  /** @internal Aborts the attempt in progress, if any (a direct call: cheaper than an abort listener per attempt). */
  abortAttempt: ((reason: unknown) => void) | null = null;
  private resolveDone!: (value: ExecutionRecord | null) => void;

  constructor(execution: ExecutionRecord, phase: RunPhase) {
    this.execution = execution;
    this.phase = phase;
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  /** Aborts the run; `reason` is recorded as the cancellation reason. */
  cancel(
    reason: string,
    error: Error = new RunCancelledError("RUN_CANCELLED", `run cancelled: ${reason}`),
  ): void {
    if (this.phase === "done") return;
    this.cancelReason ??= reason;
    if (!this.aborted) {
      this.controller.abort(error);
      this.abortAttempt?.(error);
    }
  }

  /**
   * Aborted by `cancel`. Made on first use: most runs are never cancelled, and an AbortController
   * (an EventTarget) is among the costlier objects a fire would allocate.
   */
  get controller(): AbortController {
    this.abortController ??= new AbortController();
    return this.abortController;
  }

  /** True once the run was cancelled. */
  get aborted(): boolean {
    return this.abortController?.signal.aborted ?? false;
  }

  /** @internal */
  settle(value: ExecutionRecord | null): void {
    this.phase = "done";
    this.resolveDone(value);
  }
}

/** What the runner needs from the scheduler. */
export interface RunnerDeps {
  storage: Storage;
  clock: Clock;
  instanceId: string;
  logger: Logger;
  counters: Counters;
  random: () => number;
  emit<K extends keyof SchedulerEvents>(name: K, payload: SchedulerEvents[K]): void;
  /** The trading fields of the context (broker, propose, submit). */
  contextExtras(
    run: Run,
    schedule: ScheduleRecord,
  ): Pick<JobContext, "broker" | "propose" | "submit" | "proposeGroup">;
  /** Called after each run's outcome is decided (stored or not). */
  onSettled(run: Run, schedule: ScheduleRecord): void;
  /** Called when a run starts waiting between attempts (shutdown hands such runs over). */
  onBackoff?(run: Run): void;
}

/** Serialises a handler's return value for storage; never throws. */
export function toResult(value: unknown): JsonValue | null {
  if (value === undefined || value === null) return null;
  const t = typeof value;
  if (t === "string" || t === "boolean") return value as JsonValue;
  if (t === "number") return Number.isFinite(value) ? (value as number) : String(value);
  try {
    const json = JSON.stringify(value);
    return json === undefined ? null : (JSON.parse(json) as JsonValue);
  } catch (error) {
    return { unserializable: String(value), reason: toError(error).message };
  }
}

/** The stored form of an error. */
export function toExecutionError(error: unknown): ExecutionError {
  const e = toError(error);
  return { message: e.message, code: errorCode(e), name: e.name };
}

/** The context fields the runner fills; the scheduler adds the trading ones. */
export type BaseJobContext = Omit<JobContext, "broker" | "propose" | "submit" | "proposeGroup">;

function createContext(
  run: Run,
  schedule: ScheduleRecord,
  signal: () => AbortSignal,
  deps: RunnerDeps,
): BaseJobContext {
  const execution = run.execution;
  let logger: Logger | null = null;
  return {
    fire: fireInfo(execution),
    schedule,
    data: schedule.data,
    get signal() {
      return signal();
    },
    get logger() {
      logger ??= deps.logger.child({
        scheduleId: execution.scheduleId,
        executionId: execution.id,
        attempt: execution.attempts,
      });
      return logger;
    },
    now: () => deps.clock.now(),
  };
}

/** Runs one attempt: resolves or rejects with the handler, or rejects when its signal aborts first. */
function runAttempt(
  run: Run,
  schedule: ScheduleRecord,
  job: JobDefinition,
  deps: RunnerDeps,
): Promise<unknown> {
  return new Promise<unknown>((resolve, reject) => {
    let decided = false;
    let timer: unknown = null;
    // The attempt's AbortController is made when the handler first reads ctx.signal (many never
    // do); an abort before that is remembered and the signal is born aborted.
    let attemptController: AbortController | null = null;
    let abortReason: { reason: unknown } | null = null;
    const signal = () => {
      if (!attemptController) {
        attemptController = new AbortController();
        if (abortReason) attemptController.abort(abortReason.reason);
      }
      return attemptController.signal;
    };
    const finish = (fn: () => void) => {
      if (decided) return;
      decided = true;
      if (timer !== null) deps.clock.clearTimeout(timer);
      run.abortAttempt = null;
      fn();
    };
    // An aborted attempt is final: the handler may still be running, so another attempt could overlap it.
    const abort = (reason: unknown) => {
      abortReason ??= { reason };
      if (attemptController && !attemptController.signal.aborted) attemptController.abort(reason);
      const final = abortReason.reason;
      finish(() => reject(new AbortError(toError(final))));
    };
    if (run.aborted) {
      abort(run.controller.signal.reason);
      return;
    }
    run.abortAttempt = abort;
    if (schedule.timeoutMs !== null && schedule.timeoutMs > 0) {
      const timeoutMs = schedule.timeoutMs;
      timer = deps.clock.setTimeout(() => {
        timer = null;
        abort(new RunTimeoutError(timeoutMs));
      }, timeoutMs);
    }
    // Object.assign keeps the base context's lazy logger getter.
    const ctx: JobContext = Object.assign(
      createContext(run, schedule, signal, deps),
      deps.contextExtras(run, schedule),
    );
    const late = (outcome: "resolved" | "rejected") => {
      if (decided) deps.emit("run:late-result", { executionId: run.execution.id, outcome });
    };
    let pending: Promise<unknown>;
    try {
      pending = Promise.resolve((job.handler as (c: JobContext) => unknown)(ctx));
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => {
        late("resolved");
        finish(() => resolve(value));
      },
      (error: unknown) => {
        late("rejected");
        finish(() => reject(toError(error)));
      },
    );
  });
}

/** The attempts after a failed first one, with p-retry (backoff is slept in `shouldRetry`). */
async function retryAttempts(
  attempt: () => Promise<unknown>,
  retries: number,
  shouldRetry: (error: Error) => Promise<boolean>,
  signal: AbortSignal,
): Promise<{ ok: true; value: unknown } | { ok: false; error: Error }> {
  try {
    const value = await pRetry(attempt, {
      retries,
      minTimeout: 0,
      signal,
      shouldRetry: ({ error }) => shouldRetry(error),
    });
    return { ok: true, value };
  } catch (error) {
    return { ok: false, error: toError(error) };
  }
}

/** Writes an outcome if this instance still holds the execution. */
async function store(run: Run, patch: ExecutionPatch, deps: RunnerDeps): Promise<ExecutionRecord | null> {
  try {
    const updated = await deps.storage.updateExecution(run.execution.id, deps.instanceId, patch);
    if (updated) run.execution = updated;
    return updated;
  } catch (error) {
    deps.emit("scheduler:error", { error: toError(error), context: `storing execution ${run.execution.id}` });
    return null;
  }
}

/**
 * Executes `run` (already claimed, status `running`) and records its outcome. Never throws:
 * every failure becomes a stored status and an event.
 */
export async function executeRun(
  run: Run,
  schedule: ScheduleRecord,
  job: JobDefinition,
  deps: RunnerDeps,
): Promise<void> {
  const { clock, counters } = deps;
  const policy = schedule.retry;
  let attempt = run.execution.attempts;
  const startedAt = run.execution.startedAt ?? clock.now();
  run.phase = "handler";
  run.started = true;
  counters.runs++;
  deps.emit("run:started", { execution: run.execution, attempt });

  let outcome: { ok: true; value: unknown } | { ok: false; error: Error };
  if (attempt > policy.attempts) {
    outcome = {
      ok: false,
      error: new TradecronError(
        "LEASE_EXPIRED",
        `lease expired after the last of ${policy.attempts} attempts`,
        {
          details: { attempts: attempt - 1 },
        },
      ),
    };
    attempt = policy.attempts;
  } else {
    const shouldRetry = async (error: Error): Promise<boolean> => {
      if (!isRetryable(error, policy)) return false;
      const delayMs = Math.max(backoffDelay(policy.backoff, attempt + 1, deps.random), requestedDelay(error));
      attempt += 1;
      counters.retries++;
      const updated = await store(run, { attempts: attempt }, deps);
      if (!updated) {
        run.cancel("lease_lost");
        return false;
      }
      deps.emit("run:retrying", { execution: run.execution, attempt, delayMs, error });
      run.phase = "backoff";
      deps.onBackoff?.(run);
      await sleep(clock, delayMs, run.controller.signal);
      run.phase = "handler";
      return true;
    };
    // The first attempt runs outside p-retry: most runs succeed at once, and p-retry's set-up costs
    // more than a short handler. A failure (or an abort) is handed to p-retry as its own first
    // attempt, so every retry decision is still p-retry's.
    let failed = false;
    let firstError: unknown;
    let value: unknown;
    try {
      value = await runAttempt(run, schedule, job, deps);
    } catch (error) {
      failed = true;
      firstError = error;
    }
    if (!failed && !run.aborted) {
      outcome = { ok: true, value };
    } else {
      let replay = failed;
      outcome = await retryAttempts(
        () => {
          if (!replay) return runAttempt(run, schedule, job, deps);
          replay = false;
          return Promise.reject(firstError);
        },
        policy.attempts - attempt,
        shouldRetry,
        run.controller.signal,
      );
    }
  }

  if (run.handedOver) {
    // Shutdown handed this run to whoever takes over its lease; it is not finished here.
    run.settle(null);
    deps.onSettled(run, schedule);
    return;
  }

  const endedAt = clock.now();
  run.phase = "finishing";
  let final: ExecutionRecord | null;
  if (outcome.ok) {
    final = await store(
      run,
      {
        status: "succeeded",
        endedAt,
        attempts: attempt,
        result: toResult(outcome.value),
        leaseExpiresAt: null,
      },
      deps,
    );
    if (final) {
      counters.succeeded++;
      deps.emit("run:succeeded", { execution: final, durationMs: endedAt - startedAt });
    }
  } else if (run.cancelReason !== null) {
    final = await store(
      run,
      {
        status: "cancelled",
        reason: run.cancelReason,
        endedAt,
        attempts: attempt,
        error: toExecutionError(outcome.error),
        leaseExpiresAt: null,
      },
      deps,
    );
    counters.cancelled++;
    deps.emit("run:cancelled", { execution: final ?? run.execution, reason: run.cancelReason });
  } else if (outcome.error instanceof RunTimeoutError) {
    final = await store(
      run,
      {
        status: "timed_out",
        endedAt,
        attempts: attempt,
        error: toExecutionError(outcome.error),
        leaseExpiresAt: null,
      },
      deps,
    );
    if (final) {
      counters.timedOut++;
      deps.emit("run:timed-out", { execution: final, timeoutMs: schedule.timeoutMs ?? 0 });
    }
  } else {
    final = await store(
      run,
      {
        status: "failed",
        endedAt,
        attempts: attempt,
        error: toExecutionError(outcome.error),
        leaseExpiresAt: null,
      },
      deps,
    );
    if (final) {
      counters.failed++;
      deps.emit("run:failed", {
        execution: final,
        error: outcome.error,
        exhausted: attempt >= policy.attempts,
      });
    }
  }
  if (!final && run.cancelReason === null) {
    // Another instance took the fire over (our lease lapsed) or cancelled it: its outcome stands.
    deps.emit("run:cancelled", { execution: run.execution, reason: "lease_lost" });
  }
  run.settle(final);
  deps.onSettled(run, schedule);
}
