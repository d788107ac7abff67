/**
 * The registry: the jobs this instance can run, the schedules it knows (one {@link ScheduleState}
 * each), and arming: planning a schedule at the current time (what is due, what was missed, its
 * next fire in the queue the loop waits on).
 */

import { ConflictError, ValidationError } from "../errors.js";
import type { SkipReason } from "../events.js";
import type { ExecutionRecord, FireKind, ScheduleRecord } from "../storage/records.js";
import type { ScheduleSummary } from "../storage/storage.js";
import type { Clock } from "../time/clock.js";
import type { Trigger } from "../triggers/trigger.js";
import type { FireOutcome } from "./dispatcher.js";
import { FireQueue, type QueueEntry } from "./fire-queue.js";
import type { Gate } from "./gate.js";
import type { JobDefinition, JobHandler } from "./job.js";
import { planFires } from "./planner.js";
import type { Reporter } from "./reporter.js";
import { newRunStats, type RunStats, runStatsOf } from "./run-stats.js";
import type { ScheduleCounters } from "./schedule-counters.js";
import type { Counters } from "./status.js";

/** What this instance knows of one schedule: the record, its trigger, its place in the queue. */
export interface ScheduleState extends QueueEntry {
  record: ScheduleRecord;
  trigger: Trigger | null;
  /** Fires at or before this instant have been handled (run, skipped or recorded as missed). */
  lastAt: number;
  /** Its runs here and their counters; `null` until its first fire (`runStatsOf` makes them). */
  runs: RunStats | null;
}

/** The single timer of the loop, as arming sees it. */
export interface Timer {
  /** Re-arms the timer for the head of the queue (or clears it when nothing may fire). */
  schedule(): void;
  /** Clears the timer. */
  clear(): void;
}

/** What the registry needs. */
export interface RegistryDeps {
  clock: Clock;
  counters: Counters;
  reporter: Reporter;
  gate: Gate;
  timer: Timer;
  /** Claims and starts one fire (the dispatcher). */
  fire(st: ScheduleState, at: number, kind: FireKind, actor: string | null): Promise<FireOutcome>;
  /** Records missed fires as one skipped execution (the dispatcher). */
  recordMissed(
    record: ScheduleRecord,
    at: number,
    reason: SkipReason,
    details: { count: number; firstAt: number; lastAt: number; capped: boolean },
  ): Promise<ExecutionRecord | null>;
}

/** Jobs, schedule states and the queue of next fires. */
export class Registry {
  readonly jobs = new Map<string, JobDefinition>();
  readonly states = new Map<string, ScheduleState>();
  readonly queue = new FireQueue<ScheduleState>();

  constructor(private readonly deps: RegistryDeps) {}

  /** Registers the handler of job `name` and arms the schedules that were waiting for it. */
  register(name: string, handler: JobHandler<never>, options: { description?: string }): void {
    if (typeof name !== "string" || name.trim() === "" || name.length > 200) {
      throw new ValidationError(
        [{ field: "name", code: "VALIDATION", message: "job name must be 1-200 characters" }],
        { component: "scheduler" },
      );
    }
    if (typeof handler !== "function") {
      throw new ValidationError(
        [{ field: "handler", code: "VALIDATION", message: "handler must be a function" }],
        { component: "scheduler" },
      );
    }
    if (this.jobs.has(name))
      throw new ConflictError("JOB_EXISTS", `job '${name}' is registered already`, { field: "name" });
    this.jobs.set(name, { name, handler, description: options.description ?? null });
    for (const st of this.states.values()) if (st.record.job === name) this.arm(st);
  }

  /** Names of the registered jobs. */
  jobNames(): string[] {
    return [...this.jobs.keys()];
  }

  /** Takes a new or changed record in and arms it. */
  adopt(record: ScheduleRecord, trigger: Trigger | null, lastAt?: number): void {
    let st = this.states.get(record.id);
    // A schedule coming out of a pause treats everything that fell due meanwhile as missed.
    const afterPause = st?.record.paused === true && !record.paused;
    if (!st) {
      st = newState(record, trigger, lastAt ?? record.firesSince, null);
      this.states.set(record.id, st);
    } else {
      st.record = record;
      st.trigger = trigger;
      if (record.firesSince > st.lastAt) st.lastAt = record.firesSince;
    }
    if (!this.jobs.has(record.job)) this.deps.reporter.emit("schedule:unhandled", { schedule: record });
    this.arm(st, afterPause);
  }

  /** Adopts a stored schedule at start, with what its history says (last fire, start, end, success); armed later by `armAll`. */
  adoptStored(record: ScheduleRecord, trigger: Trigger | null, summary: ScheduleSummary | null): void {
    // Counters are this instance's since it was built: a second start() keeps them.
    const counters = this.states.get(record.id)?.runs?.counters;
    this.states.delete(record.id);
    const lastAt = Math.max(summary?.lastFireAt ?? Number.NEGATIVE_INFINITY, record.firesSince);
    const st = newState(record, trigger, lastAt, summary);
    if (counters !== undefined) runStatsOf(st).counters = counters;
    this.states.set(record.id, st);
    if (!this.jobs.has(record.job)) this.deps.reporter.emit("schedule:unhandled", { schedule: record });
  }

  /** The counters of schedule `id` (made on first use), or `null` for a schedule this instance does not know. */
  countersOf(id: string): ScheduleCounters | null {
    const st = this.states.get(id);
    return st === undefined ? null : runStatsOf(st).counters;
  }

  /** Forgets a schedule (removed, or refused). */
  drop(id: string): void {
    const st = this.states.get(id);
    if (!st) return;
    this.queue.delete(st);
    this.states.delete(id);
    this.deps.timer.schedule();
  }

  /** True when the schedule can fire on this instance: a trigger, enabled, not paused, its job here. */
  eligible(st: ScheduleState): boolean {
    return st.trigger !== null && st.record.enabled && !st.record.paused && this.jobs.has(st.record.job);
  }

  /**
   * Plans a schedule at the current time: handles what is due or missed, queues its next fire.
   * After a pause (`afterPause`), every fire that came while paused counts as missed, however
   * recent: the lateness tolerance is for a stalled process, not for a deliberate pause.
   */
  arm(st: ScheduleState, afterPause = false): void {
    this.queue.delete(st);
    if (this.deps.gate.canFire() && this.eligible(st)) this.processDue(st, this.deps.clock.now(), afterPause);
    this.deps.timer.schedule();
  }

  /** Arms every schedule (start, resume, pause-all lifted). */
  armAll(afterPause = false): void {
    for (const st of this.states.values()) {
      this.queue.delete(st);
      if (this.deps.gate.canFire() && this.eligible(st))
        this.processDue(st, this.deps.clock.now(), afterPause);
    }
    this.deps.timer.schedule();
  }

  /** Empties the queue and clears the timer (pause, pause-all, stop). */
  disarmAll(): void {
    this.queue.clear();
    this.deps.timer.clear();
  }

  /** Runs the misfire planner for `st` over (lastAt, now] and acts on the plan. */
  processDue(st: ScheduleState, now: number, strict = false): void {
    const { reporter } = this.deps;
    const trigger = st.trigger as Trigger;
    const policy = strict ? { ...st.record.misfire, toleranceMs: 0 } : st.record.misfire;
    const plan = planFires(trigger, policy, st.lastAt, now);
    if (plan.due > 0) st.lastAt = now;
    if (plan.missed) {
      const m = plan.missed;
      reporter.background(
        this.deps.recordMissed(st.record, m.lastAt, m.reason, m),
        `recording missed fires of ${st.record.id}`,
      );
    }
    if (plan.missedTotal) {
      const t = plan.missedTotal;
      this.deps.counters.missed += t.count;
      reporter.emit("fire:missed", {
        scheduleId: st.record.id,
        count: t.count,
        firstAt: t.firstAt,
        lastAt: t.lastAt,
        policy: st.record.misfire.policy,
        ran: plan.run.filter((r) => r.kind === "catchup").length,
      });
    }
    if (plan.run.length === 1) {
      const only = plan.run[0] as { at: number; kind: "scheduled" | "catchup" };
      reporter.background(this.deps.fire(st, only.at, only.kind, null), `fire of ${st.record.id}`);
    } else if (plan.run.length > 1) {
      // Catch-up fires run one after another, so the overlap policy does not skip them.
      const runs = plan.run;
      reporter.background(
        (async () => {
          for (const r of runs) {
            const outcome = await this.deps.fire(st, r.at, r.kind, null);
            await outcome.done;
          }
        })(),
        `catch-up of ${st.record.id}`,
      );
    }
    if (plan.next !== null) this.queue.set(st, plan.next);
  }
}

function newState(
  record: ScheduleRecord,
  trigger: Trigger | null,
  lastAt: number,
  summary: ScheduleSummary | null,
): ScheduleState {
  return {
    record,
    trigger,
    lastAt,
    at: 0,
    seq: 0,
    index: -1,
    runs: summary === null ? null : newRunStats(summary),
  };
}
