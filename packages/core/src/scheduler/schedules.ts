/**
 * Schedule CRUD: every change is checked (the job is known, the trigger has a fire ahead), written
 * with its revision, adopted at once by the registry, audited, and announced as an event.
 */

import { z } from "zod";
import {
  ConflictError,
  NotFoundError,
  StorageError,
  ValidationError,
  type ValidationIssue,
} from "../errors.js";
import type { ScheduleInput, ScheduleUpdate } from "../schedule/schedule-input.js";
import { buildScheduleRecord } from "../schedule/schedule-input.js";
import type { ScheduleRecord } from "../storage/records.js";
import type { Storage } from "../storage/storage.js";
import { storedScheduleProblem } from "../storage/stored-records.js";
import type { Clock } from "../time/clock.js";
import { compileTrigger } from "../triggers/compile.js";
import type { Trigger } from "../triggers/trigger.js";
import { parseInput } from "../validation.js";
import { type ActorOptions, actorOf, idOf } from "./inputs.js";
import type { Registry } from "./registry.js";
import type { Reporter } from "./reporter.js";
import {
  auditChunks,
  BATCH_AUDIT_ACTION,
  insertAllOrNone,
  noFireIssue,
  planBatch,
} from "./schedule-batch.js";
import type { Sync } from "./sync.js";

/** Filters of `Scheduler.listSchedules`; a schedule must match every one given. */
export interface ScheduleListInput {
  /** A tag the schedule carries, or several it carries all of. */
  tag?: string | string[];
  job?: string;
  enabled?: boolean;
  paused?: boolean;
}

const scheduleListSchema = z.strictObject({
  tag: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  job: z.string().min(1).optional(),
  enabled: z.boolean().optional(),
  paused: z.boolean().optional(),
});

const updateOptionsSchema = z.strictObject({
  actor: z.string().trim().min(1).max(200).default("system"),
  expectedRevision: z.number().int().min(1).optional(),
});

/** What the schedule book needs. */
export interface SchedulesDeps {
  storage: Storage;
  clock: Clock;
  reporter: Reporter;
  registry: Registry;
  sync: Sync;
  /** Reject schedules whose job is not registered here. */
  strictJobs: boolean;
  /** The loop's timer, held while a batch is armed so it is re-armed once (`Loop.holding`). */
  timer: { holding(arm: () => void): void };
}

/** Create, read, update, pause and remove schedules. */
export class Schedules {
  constructor(private readonly deps: SchedulesDeps) {}

  async create(input: ScheduleInput, options?: ActorOptions): Promise<ScheduleRecord> {
    const { storage, clock, reporter, sync } = this.deps;
    const actor = actorOf(options);
    const record = buildScheduleRecord(input, clock.now());
    this.checkJob(record.job);
    const trigger = this.checkFires(record);
    await sync.writeOwn(record, () => storage.insertSchedule(record), trigger, record.firesSince);
    await reporter.audit(actor, "schedule.create", "schedule", record.id, {
      job: record.job,
      trigger: record.trigger as never,
    });
    reporter.emit("schedule:created", { schedule: record, actor });
    return record;
  }

  /**
   * Creates a batch of schedules (see `Scheduler.createSchedules`): one validation pass, one
   * storage write (all or none), one re-arm of the timer, one audit entry per 500 schedules
   * (`AUDIT_IDS_PER_ENTRY`), and a `schedule:created` event per schedule.
   */
  async createMany(inputs: readonly ScheduleInput[], options?: ActorOptions): Promise<ScheduleRecord[]> {
    const { storage, clock, reporter, registry, sync, timer } = this.deps;
    const actor = actorOf(options);
    const { records, triggers } = planBatch(inputs, clock.now(), (job) => this.jobIssue(job));
    if (records.length === 0) return records;
    await sync.writeOwnMany(
      records,
      () => insertAllOrNone(storage, records),
      () =>
        timer.holding(() => {
          for (let i = 0; i < records.length; i++) {
            const record = records[i] as ScheduleRecord;
            registry.adopt(record, triggers[i] as Trigger, record.firesSince);
          }
        }),
    );
    for (const [part, ids] of auditChunks(records).entries()) {
      await reporter.audit(actor, BATCH_AUDIT_ACTION, "schedule", null, {
        count: ids.length,
        ids,
        part: part + 1,
        total: records.length,
      });
    }
    for (const record of records) reporter.emit("schedule:created", { schedule: record, actor });
    return records;
  }

  async update(
    id: string,
    update: ScheduleUpdate,
    options: ActorOptions & { expectedRevision?: number },
  ): Promise<ScheduleRecord> {
    const { storage, clock, reporter, sync } = this.deps;
    id = idOf(id);
    const { actor, expectedRevision } = parseInput(updateOptionsSchema, options, "scheduler", "", "options");
    if (update && typeof update === "object" && "id" in update) {
      throw new ValidationError(
        [{ field: "id", code: "VALIDATION", message: "the id of a schedule cannot change" }],
        { component: "scheduler" },
      );
    }
    const previous = await this.get(id);
    if (expectedRevision !== undefined && expectedRevision !== previous.revision) {
      throw new ConflictError(
        "REVISION_CONFLICT",
        `schedule '${id}' is at revision ${previous.revision}, not ${expectedRevision}`,
        { field: "revision", details: { current: previous.revision, expected: expectedRevision } },
      );
    }
    const record = buildScheduleRecord(update, clock.now(), previous);
    if (record.job !== previous.job) this.checkJob(record.job);
    const trigger = this.checkFires(record);
    await sync.writeOwn(record, () => storage.updateSchedule(record, previous.revision), trigger);
    await reporter.audit(actor, "schedule.update", "schedule", id, {
      revision: record.revision,
      changed: Object.keys(update),
    });
    reporter.emit("schedule:updated", { schedule: record, previous, actor });
    return record;
  }

  async get(id: string): Promise<ScheduleRecord> {
    id = idOf(id);
    const record = await this.deps.storage.getSchedule(id);
    if (!record) throw new NotFoundError("SCHEDULE_NOT_FOUND", `schedule '${id}' not found`, { field: "id" });
    const problem = storedScheduleProblem(record);
    if (problem) {
      throw new StorageError("STORAGE_CORRUPT", `stored schedule '${id}' cannot be used: ${problem.reason}`, {
        field: "id",
        details: { scheduleId: id, reason: problem.reason },
      });
    }
    return record;
  }

  async list(filter: ScheduleListInput): Promise<ScheduleRecord[]> {
    const f = parseInput(scheduleListSchema, filter, "scheduler", "", "filter");
    const tags = f.tag === undefined ? [] : [f.tag].flat();
    return (await this.deps.storage.listSchedules()).filter(
      (s) =>
        (f.job === undefined || s.job === f.job) &&
        (f.enabled === undefined || s.enabled === f.enabled) &&
        (f.paused === undefined || s.paused === f.paused) &&
        tags.every((t) => s.tags.includes(t)),
    );
  }

  async remove(id: string, options?: ActorOptions): Promise<void> {
    const { storage, reporter, registry } = this.deps;
    id = idOf(id);
    const actor = actorOf(options);
    const existed = await storage.deleteSchedule(id);
    if (!existed)
      throw new NotFoundError("SCHEDULE_NOT_FOUND", `schedule '${id}' not found`, { field: "id" });
    registry.drop(id);
    await reporter.audit(actor, "schedule.remove", "schedule", id, null);
    reporter.emit("schedule:removed", { id, actor });
  }

  /** Pauses (`paused` true) or resumes one schedule, persisted; a no-op when it is so already. */
  async setPaused(id: string, paused: boolean, actor: string): Promise<ScheduleRecord> {
    const { storage, clock, reporter, sync } = this.deps;
    const previous = await this.get(id);
    if (previous.paused === paused) return previous;
    const record: ScheduleRecord = {
      ...previous,
      paused,
      revision: previous.revision + 1,
      updatedAt: clock.now(),
    };
    await sync.writeOwn(
      record,
      () => storage.updateSchedule(record, previous.revision),
      compileTrigger(record.trigger, record.id),
    );
    await reporter.audit(actor, paused ? "schedule.pause" : "schedule.resume", "schedule", id, null);
    reporter.emit(paused ? "schedule:paused" : "schedule:resumed", { schedule: record, actor });
    return record;
  }

  private checkJob(job: string): void {
    const issue = this.jobIssue(job);
    if (issue) throw new ValidationError([issue], { component: "scheduler" });
  }

  /** The issue of a job this instance does not know (with `strictJobs`), or null. */
  private jobIssue(job: string): ValidationIssue | null {
    if (!this.deps.strictJobs || this.deps.registry.jobs.has(job)) return null;
    const known = this.deps.registry.jobNames();
    return {
      field: "job",
      code: "UNKNOWN_JOB",
      message: `unknown job '${job}' (registered: ${known.length ? known.join(", ") : "none"})`,
    };
  }

  /** The record's compiled trigger; ValidationError naming the trigger field when it has no fire ahead. */
  checkFires(record: ScheduleRecord): Trigger {
    const trigger = compileTrigger(record.trigger, record.id);
    const issue = noFireIssue(record, trigger.next(this.deps.clock.now()));
    if (issue) throw new ValidationError([issue], { component: "scheduler" });
    return trigger;
  }
}
