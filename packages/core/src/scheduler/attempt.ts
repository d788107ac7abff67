/**
 * One attempt of a run: the handler's context, the call, and the decision of the attempt (the
 * handler's result, a timeout, or an abort, whichever comes first). A handler that returns or
 * throws without awaiting is decided at once, with no promise, timer or AbortController of its own.
 */

import { AbortError } from "p-retry";
import { RunTimeoutError, StateError, toError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { JsonValue, ScheduleRecord } from "../storage/records.js";
import type { ScheduleStateRecord } from "../storage/schedule-state.js";
import { jsonDataSchema, parseInput } from "../validation.js";
import { fireInfo, type JobContext, type JobDefinition } from "./job.js";
import type { Run, RunnerDeps } from "./runner.js";

/** One attempt's view of the schedule state: what it read, and what it staged with `setState`. */
export interface AttemptState {
  read: ScheduleStateRecord | null;
  staged: { value: JsonValue | null } | null;
  /** False once the attempt was decided: a late `setState` must not change what is committed. */
  open: boolean;
}

/**
 * The handler's context. A class: an object literal with getters costs about ten times as much
 * to make (every getter is a closure defined per object), and every fire makes one. The lazy
 * parts (`state`, `signal`, `logger`, `broker`) are getters on the prototype, so destructuring
 * reads them as before; the methods are the context's own, so they work detached
 * (`const { submit } = ctx`). The trading part is made on first use: most handlers never trade.
 */
class HandlerContext implements JobContext {
  readonly fire: JobContext["fire"];
  readonly schedule: ScheduleRecord;
  readonly data: JobContext["data"];
  readonly setState: JobContext["setState"];
  readonly now: () => number;
  readonly propose: JobContext["propose"];
  readonly submit: JobContext["submit"];
  readonly proposeGroup: JobContext["proposeGroup"];
  #run: Run;
  #attempt: Attempt;
  #deps: RunnerDeps;
  #state: AttemptState;
  #copy: { value: JsonValue | null } | null = null;
  #logger: Logger | null = null;
  #extras: ReturnType<RunnerDeps["contextExtras"]> | null = null;

  constructor(run: Run, schedule: ScheduleRecord, attempt: Attempt, deps: RunnerDeps, state: AttemptState) {
    const execution = run.execution;
    this.#run = run;
    this.#attempt = attempt;
    this.#deps = deps;
    this.#state = state;
    this.fire = fireInfo(execution);
    this.schedule = schedule;
    this.data = schedule.data;
    this.setState = (next: JsonValue | null) => {
      const value = parseInput(jsonDataSchema, next, "scheduler", "state", "state") as JsonValue;
      if (!state.open) {
        throw new StateError(
          "NOT_RUNNING",
          `scheduler: setState after the attempt of ${execution.id} ended; nothing was staged`,
        );
      }
      state.staged = { value: structuredClone(value) };
    };
    this.now = () => deps.clock.now();
    this.propose = (intent) => this.#trading().propose(intent);
    this.submit = (intent) => this.#trading().submit(intent);
    this.proposeGroup = (intents, options) => this.#trading().proposeGroup(intents, options);
  }

  /** A copy, made on first read: the handler may change it and stage it, whatever the storage hands out. */
  get state(): JsonValue | null {
    const read = this.#state.read;
    this.#copy ??= { value: read === null ? null : structuredClone(read.value) };
    return this.#copy.value;
  }

  get signal(): AbortSignal {
    return this.#attempt.signal;
  }

  get logger(): Logger {
    const execution = this.#run.execution;
    this.#logger ??= this.#deps.logger.child({
      scheduleId: execution.scheduleId,
      executionId: execution.id,
      attempt: execution.attempts,
    });
    return this.#logger;
  }

  get broker(): JobContext["broker"] {
    return this.#trading().broker;
  }

  #trading(): ReturnType<RunnerDeps["contextExtras"]> {
    this.#extras ??= this.#deps.contextExtras(this.#run, this.schedule);
    return this.#extras;
  }
}

/** How an attempt ended, when it ended at once (the handler returned or threw without awaiting). */
export type Settled = { ok: true; value: unknown } | { ok: false; error: Error };

/**
 * One attempt in progress: decides it once (the handler's result, a timeout, an abort), closes
 * its state view, and makes its AbortSignal only when the handler first reads `ctx.signal` (many
 * never do; an abort before that is remembered and the signal is born aborted). One object per
 * attempt instead of a closure per concern: every fire makes one.
 */
export class Attempt {
  decided = false;
  /** The outcome, when it was decided before anyone waited for it (a synchronous handler). */
  settled: Settled | null = null;
  timer: unknown = null;
  private controller: AbortController | null = null;
  private abortReason: { reason: unknown } | null = null;
  private resolve: ((value: unknown) => void) | null = null;
  private reject: ((error: unknown) => void) | null = null;

  constructor(
    private readonly run: Run,
    private readonly deps: RunnerDeps,
    private readonly state: AttemptState,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason) this.controller.abort(this.abortReason.reason);
    }
    return this.controller.signal;
  }

  /** An aborted attempt is final: the handler may still be running, so another attempt could overlap it. */
  abort(reason: unknown): void {
    this.abortReason ??= { reason };
    if (this.controller && !this.controller.signal.aborted) this.controller.abort(reason);
    this.decide({ ok: false, error: new AbortError(toError(this.abortReason.reason)) });
  }

  decide(outcome: Settled): void {
    if (this.decided) return;
    this.decided = true;
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.run.attempt = null;
    this.state.open = false;
    if (this.resolve === null) this.settled = outcome;
    else if (outcome.ok) this.resolve(outcome.value);
    else (this.reject as (error: unknown) => void)(outcome.error);
  }

  /** A promise of the outcome: settled at once if decided, else when it is. */
  wait(): Promise<unknown> {
    const done = this.settled;
    if (done) return done.ok ? Promise.resolve(done.value) : Promise.reject(done.error);
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** Reports a handler settling after its attempt was decided (a timeout, an abort). */
  late(outcome: "resolved" | "rejected"): void {
    if (this.decided) this.deps.emit("run:late-result", { executionId: this.run.execution.id, outcome });
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/**
 * Runs one attempt: its outcome at once when the handler returned or threw without awaiting (no
 * promise, no timer), else a promise that settles with the handler, or rejects when the attempt's
 * signal aborts (a timeout, a cancel) first.
 */
export function runAttempt(
  run: Run,
  schedule: ScheduleRecord,
  job: JobDefinition,
  deps: RunnerDeps,
  state: AttemptState,
): Settled | Promise<unknown> {
  const attempt = new Attempt(run, deps, state);
  if (run.aborted) {
    attempt.abort(run.controller.signal.reason);
    return attempt.settled as Settled;
  }
  run.attempt = attempt;
  const timeoutMs = schedule.timeoutMs !== null && schedule.timeoutMs > 0 ? schedule.timeoutMs : 0;
  const calledAt = timeoutMs > 0 ? deps.clock.now() : 0;
  const ctx = new HandlerContext(run, schedule, attempt, deps, state);
  let value: unknown;
  try {
    value = (job.handler as (c: JobContext) => unknown)(ctx);
  } catch (error) {
    run.handler = null;
    attempt.decide({ ok: false, error: toError(error) });
    return attempt.settled ?? attempt.wait();
  }
  if (!isThenable(value)) {
    run.handler = null;
    attempt.decide({ ok: true, value });
    return attempt.settled ?? attempt.wait();
  }
  const pending = Promise.resolve(value);
  run.handler = pending;
  if (timeoutMs > 0 && !attempt.decided) {
    // Timed from the call: a handler's synchronous part counts against its timeout.
    attempt.timer = deps.clock.setTimeout(
      () => {
        attempt.timer = null;
        attempt.abort(new RunTimeoutError(timeoutMs));
      },
      Math.max(0, timeoutMs - (deps.clock.now() - calledAt)),
    );
  }
  pending.then(
    (result) => {
      attempt.late("resolved");
      attempt.decide({ ok: true, value: result });
    },
    (error: unknown) => {
      attempt.late("rejected");
      attempt.decide({ ok: false, error: toError(error) });
    },
  );
  return attempt.wait();
}

/** {@link runAttempt} as a promise (p-retry's attempts). */
export function attemptPromise(outcome: Settled | Promise<unknown>): Promise<unknown> {
  if (outcome instanceof Promise) return outcome;
  return outcome.ok ? Promise.resolve(outcome.value) : Promise.reject(outcome.error);
}
