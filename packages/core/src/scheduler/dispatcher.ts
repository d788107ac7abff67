/**
 * The dispatcher: claims a fire in storage and, when this instance won it, starts it. The claim is
 * the one atomic step that makes a fire run once: only the claimer runs it. Between claim and
 * start it checks what could still keep the fire from running (shutdown past its deadline, the
 * job not registered, the broker down, the overlap policy), then hands the run to the runner.
 */

import type { SkipReason } from "../events.js";
import type { Logger } from "../logger.js";
import type { ExecutionRecord, FireKind, JsonValue, ScheduleRecord } from "../storage/records.js";
import type { ClaimResult, FireClaim, Storage } from "../storage/storage.js";
import type { Clock } from "../time/clock.js";
import type { Trading } from "../trading/trading.js";
import { AheadStarts } from "./claim-ahead.js";
import { Completions } from "./completions.js";
import { newExecutionId } from "./execution-id.js";
import type { Gate } from "./gate.js";
import { InFlight } from "./in-flight.js";
import { fireIdempotencyKey, type JobDefinition } from "./job.js";
import { marketSkip } from "./market-skip.js";
import type { Overlap } from "./overlap.js";
import type { ScheduleState } from "./registry.js";
import type { Reporter } from "./reporter.js";
import { runStatsOf } from "./run-stats.js";
import { executeRun, finishRun, Run, type RunnerDeps } from "./runner.js";
import { type Runs, SHUTDOWN_HANDOVER } from "./runs.js";
import type { Counters } from "./status.js";

const noop = () => {};

/** Resolves once every one of `starts` settled (never rejects: failures go to `onError`). */
function allStarted(starts: readonly Promise<unknown>[], onError: (error: unknown) => void): Promise<void> {
  let left = starts.length;
  if (left === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const one = () => {
      if (--left === 0) resolve();
    };
    const failed = (error: unknown) => {
      onError(error);
      one();
    };
    for (const p of starts) p.then(one, failed);
  });
}

/**
 * What became of a fire: whether this instance claimed it, the record (its own, or the other
 * holder's when the claim was lost), and `done`, which settles with the final record.
 */
export interface FireOutcome {
  claimed: boolean;
  execution: ExecutionRecord | null;
  done: Promise<ExecutionRecord | null>;
}

/** What the dispatcher needs. */
export interface DispatcherDeps {
  storage: Storage;
  clock: Clock;
  instanceId: string;
  logger: Logger;
  leaseMs: number;
  random: () => number;
  counters: Counters;
  reporter: Reporter;
  gate: Gate;
  jobs: ReadonlyMap<string, JobDefinition>;
  runs: Runs;
  overlap: Overlap;
  trading: Trading;
  /**
   * True while this instance is the only live one on the storage (membership.ts). Only then is a
   * claim's state sure to be current at the start: with others, a run of the schedule on another
   * instance may commit a newer state between the claim and the start, which this instance cannot
   * see, so the attempt reads the state afresh (one round trip, as before the claim carried it),
   * for schedules that have a state (one that never committed any keeps the claim's null: the
   * read cost a third of PostgreSQL's throughput with three instances).
   */
  alone: () => boolean;
  /** The schedule as armed now (the registry's state of its id), or null once it was removed. */
  current: (st: ScheduleState) => ScheduleState | null;
}

/** Claims fires and starts the ones this instance won. */
export class Dispatcher {
  /** Fires whose claim was sent and whose start (or hand-over) is not decided yet; stop() waits for them. */
  readonly claiming = new InFlight();
  /** The outcome writes of runs that succeeded at once (the loop holds them during a burst). */
  readonly completions: Completions;
  /** Fires claimed ahead of their instant (`Loop.fireAhead`), held until it; stop() releases them. */
  readonly ahead: AheadStarts;
  private readonly runnerDeps: RunnerDeps;

  constructor(private readonly deps: DispatcherDeps) {
    const { reporter, runs, trading, gate } = deps;
    this.runnerDeps = {
      storage: deps.storage,
      clock: deps.clock,
      instanceId: deps.instanceId,
      logger: deps.logger,
      counters: deps.counters,
      random: deps.random,
      emit: (name, payload) => reporter.emit(name, payload),
      contextExtras: (run, schedule) => trading.contextExtras(run, schedule),
      onSettled: (run, schedule) => runs.settled(run, schedule),
      leaseMs: deps.leaseMs,
      closing: () => gate.closing,
      // A run that starts waiting between attempts while the scheduler stops is handed over.
      onBackoff: (run) => {
        if (gate.state === "stopping")
          reporter.background(runs.handOver(run), `handing over ${run.execution.id}`);
      },
    };
    this.completions = new Completions({
      ...this.runnerDeps,
      finish: (run, schedule, outcome, attempt, state, startedAt, failedWrite) =>
        finishRun(run, schedule, this.runnerDeps, outcome, attempt, state, startedAt, failedWrite),
    });
    this.runnerDeps.completions = this.completions;
    this.ahead = new AheadStarts({
      clock: deps.clock,
      gate,
      reporter,
      runs,
      completions: this.completions,
      current: deps.current,
      start: (st, run) => this.start(st, run, true),
      fireNow: (st, at) => this.claimAndStart(st, at, "scheduled", null).then(noop),
    });
  }

  /**
   * Claims fire (schedule, at) and, if this instance won it, runs it under the overlap policy.
   * `done` settles with the final record (or the other holder's record when the claim was lost).
   */
  fire(st: ScheduleState, at: number, kind: FireKind, actor: string | null): Promise<FireOutcome> {
    // A stopping scheduler claims nothing new; the claims already sent are seen through by stop().
    if (this.deps.gate.closing) {
      return Promise.resolve({ claimed: false, execution: null, done: Promise.resolve(null) });
    }
    // Tracked before the claim is sent: a stop() called meanwhile (even from within the storage
    // call) must already see this claim as in flight.
    const decided = this.claiming.begin();
    const outcome = this.claimAndStart(st, at, kind, actor);
    void outcome.then(decided, decided);
    return outcome;
  }

  private async claimAndStart(
    st: ScheduleState,
    at: number,
    kind: FireKind,
    actor: string | null,
  ): Promise<FireOutcome> {
    const { storage, clock, reporter } = this.deps;
    const record = st.record;
    const closed = kind === "manual" ? null : marketSkip(record, at);
    if (closed) {
      const skipped = await this.recordSkip(record, at, kind, actor, closed.reason, closed.details);
      const mine =
        skipped !== null && skipped.instanceId === this.deps.instanceId && skipped.reason === closed.reason;
      return { claimed: mine, execution: skipped, done: Promise.resolve(skipped) };
    }
    const now = clock.now();
    let claim: ClaimResult;
    const epoch = st.runs?.endedRuns ?? 0;
    try {
      claim = await storage.claimFire(this.claimOf(record, at, kind, actor, now));
      reporter.storageOk();
    } catch (error) {
      reporter.storageFailed(error, `claiming fire ${record.id}@${at}`);
      return { claimed: false, execution: null, done: Promise.resolve(null) };
    }
    const run = this.claimed(st, claim, at, epoch);
    if (run === null) {
      const existing = (claim as { existing: ExecutionRecord }).existing;
      return { claimed: false, execution: existing, done: Promise.resolve(existing) };
    }
    await this.start(st, run, true);
    return { claimed: true, execution: run.execution, done: run.done };
  }

  /**
   * Claims and starts the fires the loop found due and on time (`sts[i]` at `ats[i]`), resolving
   * once each is started or decided; never rejects (failures are reported). More than one with a
   * storage that has `claimFires`: one batch claim instead of a round trip each.
   */
  dispatchDue(sts: readonly ScheduleState[], ats: readonly number[], startAt?: number): Promise<void> {
    const { storage, reporter } = this.deps;
    if (this.deps.gate.closing) return Promise.resolve();
    if (sts.length > 1 && storage.claimFires) return this.claimBatch(sts, ats, startAt);
    const started: Promise<unknown>[] = [];
    for (let i = 0; i < sts.length; i++) {
      const st = sts[i] as ScheduleState;
      started.push(
        this.fire(st, ats[i] as number, "scheduled", null).catch((error) =>
          reporter.reportError(error, `fire of ${st.record.id}`),
        ),
      );
    }
    return Promise.all(started).then(noop);
  }

  /**
   * With `startAt` (the instant the fires are due, still ahead: `Loop.fireAhead`), the won
   * claims are held until then (`AheadStarts`) and the fires the market skips are left to it.
   */
  private async claimBatch(
    sts: readonly ScheduleState[],
    ats: readonly number[],
    startAt?: number,
  ): Promise<void> {
    const { clock, reporter } = this.deps;
    // One entry for the batch, counted before the claim is sent, ended once every fire of it is
    // started or decided: stop() sees the whole batch in flight, as it would each single claim.
    const decided = this.claiming.begin();
    try {
      const now = clock.now();
      const claims: FireClaim[] = [];
      const claimedSts: ScheduleState[] = [];
      const epochs: number[] = [];
      const others: Promise<unknown>[] = [];
      const later: { st: ScheduleState; at: number }[] = [];
      for (let i = 0; i < sts.length; i++) {
        const st = sts[i] as ScheduleState;
        const at = ats[i] as number;
        try {
          // A fire the market skips is recorded as a skip on its own (no run, no state wanted).
          if (st.record.marketHoursOnly && marketSkip(st.record, at)) {
            if (startAt !== undefined) later.push({ st, at });
            else others.push(this.claimAndStart(st, at, "scheduled", null));
            continue;
          }
          claims.push(this.claimOf(st.record, at, "scheduled", null, now, startAt ?? now));
        } catch (error) {
          reporter.reportError(error, `fire of ${st.record.id}`);
          continue;
        }
        claimedSts.push(st);
        epochs.push(st.runs?.endedRuns ?? 0);
      }
      let results: ClaimResult[] = [];
      if (claims.length > 0) {
        try {
          results = await (this.deps.storage.claimFires as NonNullable<Storage["claimFires"]>)(claims);
          reporter.storageOk();
        } catch (error) {
          reporter.storageFailed(error, `claiming ${claims.length} fires`);
        }
      }
      const held: { st: ScheduleState; run: Run }[] = [];
      for (let i = 0; i < results.length; i++) {
        const st = claimedSts[i] as ScheduleState;
        try {
          const run = this.claimed(
            st,
            results[i] as ClaimResult,
            (claims[i] as FireClaim).execution.scheduledAt,
            epochs[i] as number,
          );
          if (run !== null && startAt !== undefined) {
            held.push({ st, run });
            continue;
          }
          // Most starts are synchronous (no overlap check to wait for): nothing to wait for then.
          const starting = run === null ? undefined : this.start(st, run, true);
          if (starting !== undefined) others.push(starting);
        } catch (error) {
          reporter.reportError(error, `fire of ${st.record.id}`);
        }
      }
      if (startAt !== undefined) others.push(this.ahead.hold(startAt, held, later));
      await allStarted(others, (error) => reporter.reportError(error, "fire"));
    } finally {
      decided();
    }
  }

  /** The claim of a fire: a fresh execution (frozen, so a storage in memory may keep it as it is), with the state. */
  private claimOf(
    record: ScheduleRecord,
    at: number,
    kind: FireKind,
    actor: string | null,
    now: number,
    startAt = now,
  ): FireClaim {
    const execution = Object.freeze(this.newExecution(record, at, kind, actor, now, startAt));
    return record.overlap === "allow"
      ? { execution, withState: true }
      : { execution, withState: true, withOverlap: true };
  }

  /**
   * What a claim's result means here: a lost one is `fire:taken` (null), a won one becomes a Run
   * (`fire:claimed`), with the claim's state for its first attempt unless a run of the schedule
   * ended on this instance since the claim was sent (`epoch`): that run may have committed.
   */
  private claimed(st: ScheduleState, claim: ClaimResult, at: number, epoch: number): Run | null {
    const { counters, reporter, runs } = this.deps;
    if (!claim.claimed) {
      reporter.emit("fire:taken", {
        scheduleId: st.record.id,
        scheduledAt: at,
        holder: claim.existing.instanceId,
      });
      return null;
    }
    counters.fires++;
    reporter.emit("fire:claimed", { execution: claim.execution });
    const run = new Run(claim.execution, "handler");
    if (claim.state !== undefined) {
      run.claimState = claim.state;
      run.claimEpoch = epoch;
    }
    // Trusted alone only: with other live instances, a claim of another fire of the schedule may
    // commit while this one is decided (a PostgreSQL statement answers from its snapshot), and
    // the read after the claim is what makes sure at least one of two such claims sees the other.
    if (claim.othersActive === false && this.deps.alone()) run.claimedAlone = true;
    runs.add(run);
    runStatsOf(st).running++;
    return run;
  }

  /**
   * Starts a fire this instance holds but has not started, unless shutdown has passed its
   * deadline (it is handed over unstarted), the job is not registered here, the broker the
   * schedule requires is down, or (with `checkOverlap`) the overlap policy skips or buffers it.
   */
  startClaimed(st: ScheduleState, run: Run, checkOverlap: boolean): Promise<void> {
    try {
      return this.start(st, run, checkOverlap) ?? Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * {@link Dispatcher.startClaimed} without a promise when none is needed: undefined once the
   * handler was called (or the fire ended) synchronously, as most are; a promise when the overlap
   * policy asks the storage or the fire ends with a write.
   */
  private start(st: ScheduleState, run: Run, checkOverlap: boolean): Promise<void> | undefined {
    const { gate, runs, trading } = this.deps;
    const record = st.record;
    const job = this.deps.jobs.get(record.job);
    if (gate.stopCutoff) return runs.giveBack(run, st);
    // Only possible if the job was unregistered between arming and claiming.
    if (!job) return runs.finishWithoutRun(run, st, "skipped", "unknown_job");
    if (!trading.brokerReady(record)) return runs.finishWithoutRun(run, st, "skipped", "broker_disconnected");
    // The claim may have answered the overlap question (no other run was active as it was
    // decided); else the policy asks the storage.
    if (checkOverlap && record.overlap !== "allow" && !run.claimedAlone)
      return this.startAfterOverlap(st, run, record, job);
    return this.begin(st, run, record, job);
  }

  private async startAfterOverlap(
    st: ScheduleState,
    run: Run,
    record: ScheduleRecord,
    job: JobDefinition,
  ): Promise<void> {
    if (!(await this.deps.overlap.resolve(st, run))) return;
    return this.begin(st, run, record, job);
  }

  /** Calls the handler of a fire that passed its checks (the runner takes it from there). */
  private begin(
    st: ScheduleState,
    run: Run,
    record: ScheduleRecord,
    job: JobDefinition,
  ): Promise<void> | undefined {
    const { gate, runs } = this.deps;
    // Shutdown may have passed its deadline while the overlap check waited for storage.
    if (gate.stopCutoff || run.cancelReason === SHUTDOWN_HANDOVER) return runs.giveBack(run, st);
    // A run of the schedule that ended since the claim (here, or maybe on another instance) may
    // have committed a newer state.
    if (
      run.claimState !== undefined &&
      ((st.runs?.endedRuns ?? 0) !== run.claimEpoch || (run.claimState !== null && !this.deps.alone()))
    )
      run.claimState = undefined;
    runStatsOf(st).lastStartAt = this.deps.clock.now();
    executeRun(run, record, job, this.runnerDeps);
    return undefined;
  }

  /** Records missed fires as one skipped execution at the last of them. */
  recordMissed(
    record: ScheduleRecord,
    at: number,
    reason: SkipReason,
    details: { count: number; firstAt: number; lastAt: number; capped: boolean },
  ): Promise<ExecutionRecord | null> {
    return this.recordSkip(record, at, "scheduled", null, reason, {
      missed: details.count,
      firstAt: details.firstAt,
      lastAt: details.lastAt,
      capped: details.capped,
    });
  }

  /** Claims a fire directly as skipped (one write, no run). Returns the record, or the holder's. */
  private async recordSkip(
    record: ScheduleRecord,
    at: number,
    kind: FireKind,
    actor: string | null,
    reason: SkipReason,
    details: JsonValue | null,
  ): Promise<ExecutionRecord | null> {
    const { storage, clock, counters, reporter } = this.deps;
    const now = clock.now();
    const execution: ExecutionRecord = {
      ...this.newExecution(record, at, kind, actor, now),
      status: "skipped",
      reason,
      attempts: 0,
      startedAt: null,
      endedAt: now,
      leaseExpiresAt: null,
      details,
    };
    try {
      const res = await storage.claimFire({ execution });
      reporter.storageOk();
      if (!res.claimed) return res.existing;
      counters.skipped++;
      reporter.emit("run:skipped", { execution: res.execution, reason });
      return res.execution;
    } catch (error) {
      reporter.storageFailed(error, `recording a skipped fire of ${record.id}`);
      return null;
    }
  }

  private newExecution(
    record: ScheduleRecord,
    at: number,
    kind: FireKind,
    actor: string | null,
    now: number,
    startAt = now,
  ): ExecutionRecord {
    return {
      id: newExecutionId(),
      scheduleId: record.id,
      job: record.job,
      scheduledAt: at,
      kind,
      status: "running",
      reason: null,
      attempts: 1,
      claimedAt: now,
      // A fire claimed ahead starts at its instant (`startAt`), not as it is claimed.
      startedAt: startAt,
      endedAt: null,
      instanceId: this.deps.instanceId,
      // From the start: a fire claimed ahead is not taken over before its instant plus a lease.
      leaseExpiresAt: startAt + this.deps.leaseMs,
      actor,
      error: null,
      result: null,
      details: null,
      idempotencyKey: fireIdempotencyKey(record.id, at),
    };
  }
}
