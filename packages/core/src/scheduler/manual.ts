/**
 * Manual fires: a run on request (`trigger`), the fires of a past window (`backfill`), and the
 * preview of the next fires with the reason each would be skipped. Manual and backfill fires go
 * through the dispatcher like any other, so they are claimed once and obey the overlap policy.
 */

import { z } from "zod";
import { getCalendar } from "../calendar/registry.js";
import { ConflictError, StateError, TradecronError, ValidationError } from "../errors.js";
import type { SkipReason } from "../events.js";
import type { ScheduleInput } from "../schedule/schedule-input.js";
import { buildScheduleRecord } from "../schedule/schedule-input.js";
import type { ExecutionRecord } from "../storage/records.js";
import type { Clock } from "../time/clock.js";
import { localParts, toLocal } from "../time/zone.js";
import { compileTrigger, nextFires } from "../triggers/compile.js";
import { type InstantInput, instantSchema, MAX_INSTANT, parseInput } from "../validation.js";
import type { Dispatcher } from "./dispatcher.js";
import type { Gate } from "./gate.js";
import type { ActorOptions } from "./inputs.js";
import { marketSkip } from "./market-skip.js";
import type { Registry, ScheduleState } from "./registry.js";
import type { Reporter } from "./reporter.js";
import type { Schedules } from "./schedules.js";
import type { Sync } from "./sync.js";

/** A fire in a preview, with the reason it would be skipped (null: it would run). */
export interface PreviewFire {
  at: number;
  iso: string;
  /** Wall time in the schedule's zone, `YYYY-MM-DD HH:mm:ss`. */
  local: string;
  /** Why this fire would not run now (disabled, paused, paused-all first, then the calendar's reason), or null. */
  skip: SkipReason | null;
  /**
   * The calendar's reason alone (a holiday, an early close, outside hours), also while the
   * schedule or everything is paused: what the fire does once resumed. Null when it would run.
   */
  marketSkip: SkipReason | null;
}

/** Result of `Scheduler.backfill`. */
export interface BackfillResult {
  /** Fires of the schedule in the window. */
  fires: number;
  /** Fires this call ran (claimed and executed). */
  ran: number;
  /** Fires that had been claimed already (ran before, or by another instance) and were left alone. */
  alreadyClaimed: number;
  executions: ExecutionRecord[];
}

const triggerSchema = z.strictObject({
  actor: z.string().trim().min(1).max(200).default("system"),
  wait: z.boolean().default(true),
});
const backfillSchema = z.strictObject({
  actor: z.string().trim().min(1).max(200).default("system"),
  from: instantSchema,
  to: instantSchema,
  maxFires: z.number().int().min(1).max(100_000).default(1000),
});
const previewSchema = z.strictObject({
  count: z.number().int().min(1).max(1000).default(10),
  from: instantSchema.optional(),
});

/** Most instants a manual fire tries (one ms apart) when the ones before were claimed already. */
const MANUAL_TRIES = 100;

function formatLocal(local: number): string {
  const p = localParts(local);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${p.year}-${two(p.month)}-${two(p.day)} ${two(p.hour)}:${two(p.minute)}:${two(p.second)}`;
}

/** What manual fires need. */
export interface ManualDeps {
  clock: Clock;
  reporter: Reporter;
  gate: Gate;
  registry: Registry;
  dispatcher: Dispatcher;
  schedules: Schedules;
  sync: Sync;
}

/** Trigger, backfill and preview. */
export class ManualFires {
  constructor(private readonly deps: ManualDeps) {}

  async trigger(id: string, options: ActorOptions & { wait?: boolean }): Promise<ExecutionRecord> {
    const { clock, gate, dispatcher, reporter } = this.deps;
    const o = parseInput(triggerSchema, options, "scheduler");
    const st = await this.stateFor(id);
    this.assertCanRun(st.record.job);
    let at = clock.now();
    for (let tries = 0; tries < MANUAL_TRIES; tries++, at++) {
      const outcome = await dispatcher.fire(st, at, "manual", o.actor);
      if (!outcome.claimed) {
        if (gate.closing) {
          throw new StateError(
            "NOT_RUNNING",
            `scheduler is ${gate.state}; the manual fire of '${id}' was not run`,
          );
        }
        if (outcome.execution === null) {
          throw new TradecronError("STORAGE", `could not claim a manual fire of '${id}'`, { field: "id" });
        }
        continue;
      }
      await reporter.audit(o.actor, "schedule.trigger", "schedule", id, {
        executionId: outcome.execution?.id ?? null,
      });
      if (!o.wait) return outcome.execution as ExecutionRecord;
      return (await outcome.done) ?? (outcome.execution as ExecutionRecord);
    }
    throw new ConflictError(
      "FIRE_ALREADY_CLAIMED",
      `could not find a free instant for a manual fire of '${id}'`,
    );
  }

  async backfill(
    id: string,
    options: ActorOptions & { from: InstantInput; to: InstantInput; maxFires?: number },
  ): Promise<BackfillResult> {
    const { clock, gate, dispatcher, reporter } = this.deps;
    const o = parseInput(backfillSchema, options, "scheduler");
    if (o.to < o.from) {
      throw new ValidationError(
        [{ field: "to", code: "VALIDATION", message: "'to' must not be before 'from'" }],
        {
          component: "scheduler",
        },
      );
    }
    if (o.to > clock.now()) {
      throw new ValidationError(
        [{ field: "to", code: "VALIDATION", message: "a backfill window must lie in the past" }],
        { component: "scheduler" },
      );
    }
    const st = await this.stateFor(id);
    this.assertCanRun(st.record.job);
    const trigger = st.trigger ?? compileTrigger(st.record.trigger, st.record.id);
    const fires: number[] = [];
    for (let t = trigger.next(o.from - 1); t !== null && t <= o.to; t = trigger.next(t)) {
      fires.push(t);
      if (fires.length > o.maxFires) {
        throw new ValidationError(
          [
            {
              field: "maxFires",
              code: "VALIDATION",
              message: `the window holds more than ${o.maxFires} fires`,
            },
          ],
          { component: "scheduler" },
        );
      }
    }
    await reporter.audit(o.actor, "schedule.backfill", "schedule", id, {
      from: o.from,
      to: o.to,
      fires: fires.length,
    });
    const result: BackfillResult = { fires: fires.length, ran: 0, alreadyClaimed: 0, executions: [] };
    for (const at of fires) {
      const outcome = await dispatcher.fire(st, at, "backfill", o.actor);
      if (gate.closing) {
        throw new StateError(
          "NOT_RUNNING",
          `scheduler is ${gate.state}; the backfill of '${id}' stopped after ${result.ran} fire(s)`,
          { details: { ran: result.ran, fires: result.fires } },
        );
      }
      if (!outcome.claimed) {
        result.alreadyClaimed++;
        continue;
      }
      result.ran++;
      const final = await outcome.done;
      if (final) result.executions.push(final);
    }
    return result;
  }

  async preview(
    target: string | ScheduleInput,
    options: { count?: number; from?: InstantInput },
  ): Promise<PreviewFire[]> {
    const { clock, gate, schedules } = this.deps;
    const o = parseInput(previewSchema, options, "scheduler");
    const record =
      typeof target === "string" ? await schedules.get(target) : buildScheduleRecord(target, clock.now());
    const trigger =
      typeof target === "string" ? compileTrigger(record.trigger, record.id) : schedules.checkFires(record);
    const zone =
      record.trigger.type === "cron"
        ? record.trigger.timezone
        : record.trigger.type === "market"
          ? getCalendar(record.trigger.calendar).timezone
          : "UTC";
    const reason: SkipReason | null = !record.enabled
      ? "disabled"
      : record.paused
        ? "paused"
        : gate.control.pausedAll
          ? "paused_all"
          : null;
    // Fires beyond the Date range cannot be formatted (or reached): the preview ends before them.
    const fires = nextFires(trigger, o.from ?? clock.now(), o.count).filter((at) => at <= MAX_INSTANT);
    return fires.map((at) => {
      const skip = marketSkip(record, at)?.reason ?? null;
      return {
        at,
        iso: new Date(at).toISOString(),
        local: formatLocal(toLocal(zone, at)),
        skip: reason ?? skip,
        marketSkip: skip,
      };
    });
  }

  private async stateFor(id: string): Promise<ScheduleState> {
    const { registry } = this.deps;
    const known = registry.states.get(id);
    if (known) return known;
    const record = await this.deps.schedules.get(id);
    this.deps.sync.adoptChanged(record);
    return registry.states.get(id) as ScheduleState;
  }

  private assertCanRun(job: string): void {
    const { gate } = this.deps;
    if (!gate.started) {
      throw new StateError("NOT_RUNNING", `scheduler is ${gate.state}; start() it first`);
    }
    if (gate.control.pausedAll) {
      throw new StateError("PAUSED", "emergency pause-all is in force; resumeAll() first");
    }
    if (!this.deps.registry.jobs.has(job)) {
      throw new ValidationError(
        [{ field: "job", code: "UNKNOWN_JOB", message: `job '${job}' is not registered here` }],
        {
          component: "scheduler",
        },
      );
    }
  }
}
