/**
 * The bulk path of schedule creation (`Scheduler.createSchedules`): one validation pass over the
 * whole batch, one storage write (all or none), one re-arm of the timer, and an audit entry per
 * {@link AUDIT_IDS_PER_ENTRY} schedules instead of one per schedule. What it costs per schedule
 * is the record's zod parse and its trigger's first fire; identical triggers compile once.
 */

import { ConflictError, ValidationError, type ValidationIssue } from "../errors.js";
import { buildScheduleRecord, type ScheduleInput } from "../schedule/schedule-input.js";
import type { ScheduleRecord } from "../storage/records.js";
import { compileTrigger } from "../triggers/compile.js";
import type { Trigger } from "../triggers/trigger.js";
import { MAX_INSTANT } from "../validation.js";

/** Most schedules one `createSchedules` call takes (one storage write: its size stays bounded). */
export const MAX_BATCH_SCHEDULES = 100_000;

/**
 * Ids listed by one audit entry of a batch (`schedule.create_batch`). 500 ids of at most 64
 * characters keep an entry near 33 KB, under the 64 KiB every storage takes for JSON data.
 */
export const AUDIT_IDS_PER_ENTRY = 500;

/** The audit action of a bulk create: one entry per {@link AUDIT_IDS_PER_ENTRY} created schedules. */
export const BATCH_AUDIT_ACTION = "schedule.create_batch";

/** The input field that decides a trigger's fires, and the code of its errors, by trigger type. */
export const TRIGGER_FIELD = {
  cron: ["trigger.expression", "INVALID_CRON"],
  interval: ["trigger.every", "INVALID_INTERVAL"],
  once: ["trigger.at", "INVALID_INSTANT"],
  market: ["trigger.event", "VALIDATION"],
} as const satisfies Record<ScheduleRecord["trigger"]["type"], readonly [string, string]>;

/**
 * The issue of a trigger with no fire ahead of `now` (or one past the Date range), naming the
 * trigger field, or null when it fires again.
 */
export function noFireIssue(record: ScheduleRecord, next: number | null): ValidationIssue | null {
  if (next !== null && next <= MAX_INSTANT) return null;
  const [field, code] = TRIGGER_FIELD[record.trigger.type];
  const message =
    next === null
      ? "the trigger has no fire in the future"
      : `the next fire (${next} ms) is beyond the Date range (${MAX_INSTANT} ms)`;
  return { field, code, message };
}

/** Distinct triggers one batch remembers: past it a batch of distinct triggers pays nothing more. */
const MAX_SHARED_TRIGGERS = 10_000;

/** A compiled trigger and its first fire after the batch's `now`. */
interface Compiled {
  trigger: Trigger;
  next: number | null;
}

/**
 * Compiled triggers of one batch, shared between schedules whose trigger is the same: a cron or
 * one-off trigger is a pure function of its spec, and most of a big batch repeats a few
 * expressions. Keyed without building a key string (zone, then expression), and bounded.
 */
class TriggerCache {
  private readonly cron = new Map<string, Map<string, Compiled>>();
  private readonly once = new Map<number, Compiled>();
  private size = 0;

  /** The compiled trigger of `record` and its first fire after `now`. */
  get(record: ScheduleRecord, now: number): Compiled {
    const spec = record.trigger;
    let zone: Map<string, Compiled> | undefined;
    if (spec.type === "cron") {
      zone = this.cron.get(spec.timezone);
      const hit = zone?.get(spec.expression);
      if (hit) return hit;
    } else if (spec.type === "once") {
      const hit = this.once.get(spec.at);
      if (hit) return hit;
    }
    const trigger = compileTrigger(spec, record.id);
    const compiled = { trigger, next: trigger.next(now) };
    if (this.size < MAX_SHARED_TRIGGERS) {
      if (spec.type === "cron") {
        if (!zone) {
          zone = new Map();
          this.cron.set(spec.timezone, zone);
        }
        zone.set(spec.expression, compiled);
        this.size++;
      } else if (spec.type === "once") {
        this.once.set(spec.at, compiled);
        this.size++;
      }
    }
    return compiled;
  }
}

/** A checked batch: the records to insert and the compiled trigger of each, in input order. */
export interface PlannedBatch {
  records: ScheduleRecord[];
  triggers: Trigger[];
}

/**
 * Checks a whole batch in one pass and builds its records: each input must build a valid record
 * (the schedule input's zod schema), name a job `checkJob` accepts, carry an id no earlier input
 * of the batch carries, and have a fire ahead. Every problem of every input is collected, its
 * field prefixed with the input's index (`[3].trigger.expression`), and thrown as one
 * ValidationError; nothing is written then.
 */
export function planBatch(
  inputs: unknown,
  now: number,
  checkJob: (job: string) => ValidationIssue | null,
): PlannedBatch {
  if (!Array.isArray(inputs)) {
    throw new ValidationError(
      [{ field: "inputs", code: "VALIDATION", message: "expected an array of schedules" }],
      { component: "scheduler" },
    );
  }
  if (inputs.length > MAX_BATCH_SCHEDULES) {
    throw new ValidationError(
      [
        {
          field: "inputs",
          code: "VALIDATION",
          message: `at most ${MAX_BATCH_SCHEDULES} schedules per call, got ${inputs.length} (split the batch)`,
        },
      ],
      { component: "scheduler" },
    );
  }
  const issues: ValidationIssue[] = [];
  const records: ScheduleRecord[] = [];
  const triggers: Trigger[] = [];
  const firstAt = new Map<string, number>();
  const cache = new TriggerCache();
  for (let i = 0; i < inputs.length; i++) {
    let record: ScheduleRecord;
    try {
      record = buildScheduleRecord(inputs[i] as ScheduleInput, now);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      for (const issue of error.issues) {
        issues.push({ ...issue, field: issue.field ? `[${i}].${issue.field}` : `[${i}]` });
      }
      continue;
    }
    const first = firstAt.get(record.id);
    if (first !== undefined) {
      issues.push({
        field: `[${i}].id`,
        code: "VALIDATION",
        message: `schedule '${record.id}' is in the batch twice (first at [${first}])`,
      });
      continue;
    }
    firstAt.set(record.id, i);
    const jobIssue = checkJob(record.job);
    if (jobIssue) issues.push({ ...jobIssue, field: `[${i}].${jobIssue.field}` });
    const { trigger, next } = cache.get(record, now);
    const fireIssue = noFireIssue(record, next);
    if (fireIssue) issues.push({ ...fireIssue, field: `[${i}].${fireIssue.field}` });
    if (jobIssue || fireIssue) continue;
    records.push(record);
    triggers.push(trigger);
  }
  if (issues.length > 0) throw new ValidationError(issues, { component: "scheduler" });
  return { records, triggers };
}

/** By code, not class: a storage adapter may have been loaded with another copy of core. */
function isScheduleExists(error: unknown): boolean {
  return (
    typeof error === "object" && error !== null && (error as { code?: unknown }).code === "SCHEDULE_EXISTS"
  );
}

/** What {@link insertAllOrNone} writes with. */
export interface BatchStore {
  insertSchedule(schedule: ScheduleRecord): Promise<void>;
  insertSchedules?(schedules: readonly ScheduleRecord[]): Promise<void>;
  deleteSchedule(id: string): Promise<boolean>;
}

/**
 * Inserts the batch all or none: in one `insertSchedules` call where the storage has it, else one
 * `insertSchedule` per record, deleting the ones this call inserted when a later one fails (all
 * or none as long as this process lives; a crash in between leaves the first ones created).
 * A taken id is a ConflictError `SCHEDULE_EXISTS` whose `details.id` names it.
 */
export async function insertAllOrNone(
  storage: BatchStore,
  records: readonly ScheduleRecord[],
): Promise<void> {
  if (records.length === 0) return;
  if (storage.insertSchedules) return storage.insertSchedules(records);
  const inserted: string[] = [];
  try {
    for (const record of records) {
      await storage.insertSchedule(record);
      inserted.push(record.id);
    }
  } catch (error) {
    for (const id of inserted) await storage.deleteSchedule(id).catch(() => false);
    if (isScheduleExists(error)) {
      const id = records[inserted.length]?.id;
      throw new ConflictError(
        "SCHEDULE_EXISTS",
        `schedule '${id}' exists already; none of the batch was inserted`,
        { field: "id", cause: error, details: { id } },
      );
    }
    throw error;
  }
}

/** The ids of `records` in chunks of {@link AUDIT_IDS_PER_ENTRY}: one audit entry each. */
export function auditChunks(records: readonly ScheduleRecord[]): string[][] {
  const chunks: string[][] = [];
  for (let i = 0; i < records.length; i += AUDIT_IDS_PER_ENTRY) {
    chunks.push(records.slice(i, i + AUDIT_IDS_PER_ENTRY).map((r) => r.id));
  }
  return chunks;
}
