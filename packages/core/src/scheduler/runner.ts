/**
 * Runs one claimed execution to its end: attempts with p-retry (backoff slept on the injected
 * clock), a per-attempt timeout through the handler's AbortSignal, cancellation, and the fenced
 * write of the outcome. A handler that ignores its signal cannot delay the outcome: its late
 * result is discarded and reported as `run:late-result`.
 */

import pRetry from "p-retry";
import { ConflictError, RunCancelledError, RunTimeoutError, TradecronError, toError } from "../errors.js";
import type { SchedulerEvents } from "../events.js";
import type { Logger } from "../logger.js";
import type { ExecutionRecord, ScheduleRecord } from "../storage/records.js";
import type { ScheduleStateRecord, StateCommit } from "../storage/schedule-state.js";
import type { ExecutionPatch, Storage } from "../storage/storage.js";
import { type Clock, sleep } from "../time/clock.js";
import { type AttemptState, attemptPromise, runAttempt, type Settled } from "./attempt.js";
import type { Completions } from "./completions.js";
import type { JobContext, JobDefinition } from "./job.js";
import { isStateConflict, toExecutionError, toResult } from "./result.js";
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
  /**
   * @internal The current attempt's handler promise. An aborted attempt is decided at once, but
   * the handler may still be running: a hand-over at stop's deadline waits for this before it
   * lets another instance take the fire (a reference, so keeping it costs a fire nothing).
   */
  handler: Promise<unknown> | null = null;
  /** @internal The attempt in progress, if any: `cancel` aborts it directly (cheaper than an abort listener per attempt). */
  attempt: { abort(reason: unknown): void } | null = null;
  /**
   * @internal The schedule's committed state as the claim handed it back (`FireClaim.withState`),
   * for attempt 1 only, so it needs no read of its own; undefined when the claim brought none or
   * it may be stale (the fire waited for its turn, a run of the schedule ended meanwhile). Used
   * once: a retry reads afresh.
   */
  claimState: ScheduleStateRecord | null | undefined = undefined;
  /** @internal The schedule's count of ended runs when the claim was sent (see `claimState`). */
  claimEpoch = 0;
  /**
   * @internal True when the claim said no other execution of the schedule was active as it was
   * decided (`FireClaim.withOverlap`): the overlap policy has its answer without a read.
   */
  claimedAlone = false;
  private donePromise: Promise<ExecutionRecord | null> | null = null;
  private resolveDone: ((value: ExecutionRecord | null) => void) | null = null;
  private settled = false;
  private settledWith: ExecutionRecord | null = null;

  constructor(execution: ExecutionRecord, phase: RunPhase) {
    this.execution = execution;
    this.phase = phase;
  }

  /**
   * Settles with the final record (null when the outcome could not be stored). Made on first use:
   * most fires of the loop are never awaited one by one, and a promise per fire is not free.
   */
  get done(): Promise<ExecutionRecord | null> {
    if (this.donePromise === null) {
      this.donePromise = this.settled
        ? Promise.resolve(this.settledWith)
        : new Promise((resolve) => {
            this.resolveDone = resolve;
          });
    }
    return this.donePromise;
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
      this.attempt?.abort(error);
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
    if (this.settled) return;
    this.settled = true;
    this.settledWith = value;
    this.resolveDone?.(value);
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
  /** The lease a run holds (a failed outcome write is retried within a third of it). */
  leaseMs: number;
  /** True once the scheduler stops: a failed outcome write is not retried then. */
  closing(): boolean;
  /**
   * Writes the outcomes of runs whose first attempt succeeded at once, after the fires started
   * with them (completions.ts). Without it, each such run writes its own, one microtask later.
   */
  completions?: Completions;
}

/**
 * The committed state for the next attempt: the claim's for attempt 1 when it brought one (the
 * dispatcher keeps it only while it cannot be stale), else read afresh (every retry does).
 */
function readAttemptState(run: Run, deps: RunnerDeps): AttemptState | Promise<AttemptState> {
  const fromClaim = run.claimState;
  if (fromClaim !== undefined) {
    run.claimState = undefined;
    if (run.execution.attempts === 1) return { read: fromClaim, staged: null, open: true };
  }
  return deps.storage
    .getScheduleState(run.execution.scheduleId)
    .then((read) => ({ read, staged: null, open: true }));
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

/**
 * Writes an outcome (with the state to commit, if any) if this instance still holds the
 * execution. A state conflict is returned, not reported: the caller records the run as failed.
 */
async function store(
  run: Run,
  patch: ExecutionPatch,
  deps: RunnerDeps,
  state?: StateCommit,
  failedOnce?: { error: unknown },
): Promise<ExecutionRecord | null | ConflictError> {
  let waited = 0;
  let failed = failedOnce;
  for (let retry = 0; ; retry++) {
    try {
      // A first write that already failed (made by completions.ts) counts as this loop's first.
      if (failed !== undefined) {
        const { error } = failed;
        failed = undefined;
        throw error;
      }
      const updated =
        state === undefined
          ? await deps.storage.updateExecution(run.execution.id, deps.instanceId, patch)
          : await deps.storage.updateExecution(run.execution.id, deps.instanceId, patch, state);
      if (updated) run.execution = updated;
      return updated;
    } catch (error) {
      if (state !== undefined && isStateConflict(error)) return error;
      // A write that failed (the storage erred; a lost lease is null, not an error) is tried
      // again while the lease surely holds: given up, the execution stays held until its lease
      // lapses, and the takeover then runs the handler a second time. Not while stopping: stop()
      // does not wait for a storage that is down.
      const delay = OUTCOME_RETRY_MS[retry];
      const giveUp = delay === undefined || deps.closing() || waited + delay > deps.leaseMs / 3;
      deps.emit("scheduler:error", {
        error: toError(error),
        context: `storing execution ${run.execution.id}${giveUp ? "" : ` (trying again in ${delay} ms)`}`,
      });
      if (giveUp) return null;
      waited += delay;
      await sleep(deps.clock, delay);
    }
  }
}

/** Pauses before the retries of a failed execution write, within a third of the lease. */
const OUTCOME_RETRY_MS: readonly number[] = [50, 200, 500, 1000, 2000, 4000];

/** {@link store} without a state: never a conflict. */
async function storePatch(
  run: Run,
  patch: ExecutionPatch,
  deps: RunnerDeps,
): Promise<ExecutionRecord | null> {
  const result = await store(run, patch, deps);
  return result instanceof ConflictError ? null : result;
}

/**
 * Executes `run` (already claimed, status `running`) and records its outcome. Never throws or
 * rejects: every failure becomes a stored status and an event (and a bug here a
 * `scheduler:error`), so the dispatcher need not track it: stop() waits for the run itself
 * (`run.done`).
 *
 * The common fire takes no promise of its own: when the claim brought the state and the handler
 * returns without awaiting, the start and the first attempt are synchronous and the outcome goes
 * to {@link RunnerDeps.completions}, which writes the outcomes of the fires started together
 * after all of them started. Anything else (a handler that awaits or throws, a state to read, a
 * run past its attempts) continues in {@link runToEnd}.
 */
export function executeRun(run: Run, schedule: ScheduleRecord, job: JobDefinition, deps: RunnerDeps): void {
  try {
    const attempt = run.execution.attempts;
    const startedAt = run.execution.startedAt ?? deps.clock.now();
    run.phase = "handler";
    run.started = true;
    deps.counters.runs++;
    deps.emit("run:started", { execution: run.execution, attempt });
    let first: FirstAttempt | null = null;
    if (attempt <= schedule.retry.attempts) {
      const read = readAttemptState(run, deps);
      if (read instanceof Promise) first = { read, tried: null };
      else {
        const tried = runAttempt(run, schedule, job, deps, read);
        if (!(tried instanceof Promise) && tried.ok && !run.aborted && deps.completions) {
          deps.completions.add(run, schedule, tried.value, read, attempt, startedAt);
          return;
        }
        first = { read, tried };
      }
    }
    runToEnd(run, schedule, job, deps, startedAt, first).catch((error: unknown) =>
      reportRunBug(error, schedule, deps),
    );
  } catch (error) {
    reportRunBug(error, schedule, deps);
  }
}

function reportRunBug(error: unknown, schedule: ScheduleRecord, deps: RunnerDeps): void {
  deps.emit("scheduler:error", { error: toError(error), context: `run of ${schedule.id}` });
}

/**
 * How far {@link executeRun} took the first attempt: the state read (or its promise) and, when
 * it had the state at once, the attempt (its outcome or its promise). Null: no attempt is left.
 */
interface FirstAttempt {
  read: AttemptState | Promise<AttemptState>;
  tried: Settled | Promise<unknown> | null;
}

/** The rest of a run after its synchronous start: awaits, retries, the outcome write. */
async function runToEnd(
  run: Run,
  schedule: ScheduleRecord,
  job: JobDefinition,
  deps: RunnerDeps,
  startedAt: number,
  begun: FirstAttempt | null,
): Promise<void> {
  const policy = schedule.retry;
  let attempt = run.execution.attempts;

  let outcome: { ok: true; value: unknown } | { ok: false; error: Error };
  /** The state view of the latest attempt: a succeeded outcome commits what it staged. */
  let lastState: AttemptState | null = null;
  if (begun === null) {
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
    // The first attempt runs outside p-retry: most runs succeed at once, and p-retry's set-up
    // costs more than a short handler. A failure (or an abort) is handed to p-retry as its own
    // first attempt, so every retry decision is still p-retry's.
    let first: Settled | null = null;
    let read = begun.read;
    if (read instanceof Promise) {
      try {
        read = await read;
      } catch (error) {
        first = { ok: false, error: toError(error) };
      }
    }
    if (first === null) {
      lastState = read as AttemptState;
      const tried = begun.tried ?? runAttempt(run, schedule, job, deps, lastState);
      if (tried instanceof Promise) {
        try {
          first = { ok: true, value: await tried };
        } catch (error) {
          first = { ok: false, error: toError(error) };
        }
      } else {
        first = tried;
        // A handler that returned at once: its outcome is written one turn of the microtask queue
        // later, so the other fires started together start before any outcome write.
        await undefined;
      }
    }
    if (first.ok && !run.aborted) {
      outcome = first;
    } else {
      ({ outcome, attempt, lastState } = await retryRest(
        run,
        schedule,
        job,
        deps,
        first,
        attempt,
        lastState,
      ));
    }
  }
  await finishRun(run, schedule, deps, outcome, attempt, lastState, startedAt);
}

/**
 * The attempts after a first one that failed or was aborted, with p-retry: the backoff is slept
 * in `shouldRetry`, and each retry's attempt count is stored before it starts. Returns the
 * outcome, the attempt it ended at, and the state view of the latest attempt.
 */
async function retryRest(
  run: Run,
  schedule: ScheduleRecord,
  job: JobDefinition,
  deps: RunnerDeps,
  first: Settled,
  firstAttempt: number,
  firstState: AttemptState | null,
): Promise<{ outcome: Settled; attempt: number; lastState: AttemptState | null }> {
  const { clock, counters } = deps;
  const policy = schedule.retry;
  let attempt = firstAttempt;
  let lastState = firstState;
  const firstError = first.ok ? null : first.error;
  const shouldRetry = async (error: Error): Promise<boolean> => {
    if (!isRetryable(error, policy)) return false;
    const delayMs = Math.max(backoffDelay(policy.backoff, attempt + 1, deps.random), requestedDelay(error));
    attempt += 1;
    counters.retries++;
    const updated = await storePatch(run, { attempts: attempt }, deps);
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
  const attemptOnce = async () => {
    lastState = null;
    const state = await readAttemptState(run, deps);
    lastState = state;
    return attemptPromise(runAttempt(run, schedule, job, deps, state));
  };
  let replay = firstError !== null;
  const outcome = await retryAttempts(
    () => {
      if (!replay) return attemptOnce();
      replay = false;
      return Promise.reject(firstError);
    },
    policy.attempts - attempt,
    shouldRetry,
    run.controller.signal,
  );
  return { outcome, attempt, lastState };
}

/**
 * Records how a run ended (its outcome decided by the attempts): the fenced outcome write with
 * the state it staged, the event, and the run settled. A hand-over at shutdown records nothing.
 * `failedWrite`: a succeeded outcome's first write already failed with this error (it is
 * reported and tried again as if this call had made it).
 */
export async function finishRun(
  run: Run,
  schedule: ScheduleRecord,
  deps: RunnerDeps,
  outcome: { ok: true; value: unknown } | { ok: false; error: Error },
  attempt: number,
  lastState: AttemptState | null,
  startedAt: number,
  failedWrite?: { error: unknown },
): Promise<void> {
  const { clock, counters } = deps;
  const policy = schedule.retry;
  if (run.handedOver) {
    // Shutdown handed this run to whoever takes over its lease; it is not finished here.
    run.settle(null);
    deps.onSettled(run, schedule);
    return;
  }

  const endedAt = clock.now();
  run.phase = "finishing";
  let final: ExecutionRecord | null = null;
  if (outcome.ok) {
    // Assigned in the attempt closure, which the compiler does not follow.
    const view = lastState as AttemptState | null;
    const commit: StateCommit | undefined = view?.staged
      ? { value: view.staged.value, expectedRevision: view.read?.revision ?? 0, at: endedAt }
      : undefined;
    const stored = await store(
      run,
      {
        status: "succeeded",
        endedAt,
        attempts: attempt,
        result: toResult(outcome.value),
        leaseExpiresAt: null,
      },
      deps,
      commit,
      failedWrite,
    );
    if (stored instanceof ConflictError) {
      // Another run committed the schedule's state after this one read it (overlap `allow`):
      // committing would lose that update, so this run fails and commits nothing.
      outcome = {
        ok: false,
        error: new ConflictError(
          "REVISION_CONFLICT",
          `the schedule's state changed while the run ran (it read revision ${commit?.expectedRevision ?? 0}); nothing was committed`,
          { field: "state", cause: stored, details: stored.details },
        ),
      };
    } else {
      final = stored;
    }
  }
  if (outcome.ok) {
    if (final) {
      counters.succeeded++;
      deps.emit("run:succeeded", { execution: final, durationMs: endedAt - startedAt });
    }
  } else if (run.cancelReason !== null) {
    final = await storePatch(
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
    final = await storePatch(
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
    final = await storePatch(
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
