/**
 * Idempotent declaration of a recipe's schedules: every process that starts calls the recipe
 * again, so a schedule that exists is left alone when it says what the recipe says, updated when
 * the recipe changed (the operator's pause and enable switches are kept), and created otherwise.
 * Two instances declaring at once both end up with the one schedule: the loser of the create race
 * reads the winner's. (Core is getting `declareSchedules`/`ensureSchedules`; this is the same
 * contract over `createSchedule` with a conflict check until it lands.)
 */

import {
  buildScheduleRecord,
  ConflictError,
  NotFoundError,
  type ScheduleInput,
  type ScheduleRecord,
  type Scheduler,
} from "@tradecron/core";

/** The record fields a declaration owns (not `enabled`/`paused`: those are the operator's). */
const DECLARED: readonly (keyof ScheduleRecord)[] = [
  "name",
  "job",
  "description",
  "tags",
  "trigger",
  "data",
  "misfire",
  "overlap",
  "retry",
  "timeoutMs",
  "requiresApproval",
  "approvalExpiryMs",
  "risk",
  "requireBrokerConnection",
  "marketHoursOnly",
  "calendar",
];

async function find(scheduler: Scheduler, id: string): Promise<ScheduleRecord | null> {
  try {
    return await scheduler.getSchedule(id);
  } catch (error) {
    if (error instanceof NotFoundError) return null;
    throw error;
  }
}

/** What a declaration did. */
export interface Declared {
  schedule: ScheduleRecord;
  action: "created" | "updated" | "unchanged";
}

/**
 * Makes schedule `input.id` say what `input` says. `enabled` and `options.paused` apply only when
 * the schedule is created; afterwards they are the operator's.
 */
export async function declareSchedule(
  scheduler: Scheduler,
  input: ScheduleInput & { id: string },
  options: { actor: string; paused?: boolean },
): Promise<Declared> {
  let existing = await find(scheduler, input.id);
  if (!existing) {
    try {
      let schedule = await scheduler.createSchedule(input, { actor: options.actor });
      if (options.paused) schedule = await scheduler.pauseSchedule(input.id, { actor: options.actor });
      return { schedule, action: "created" };
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      existing = await find(scheduler, input.id);
      if (!existing) throw error;
    }
  }
  const { enabled: _enabled, id: _id, ...declared } = input;
  for (let attempt = 0; ; attempt++) {
    const current: ScheduleRecord = existing;
    const wanted = buildScheduleRecord(declared, scheduler.clock.now(), current);
    if (DECLARED.every((k) => JSON.stringify(wanted[k]) === JSON.stringify(current[k]))) {
      return { schedule: current, action: "unchanged" };
    }
    try {
      // The whole declaration: fields it leaves as they were keep the trigger's fire history.
      const schedule = await scheduler.updateSchedule(input.id, declared, {
        actor: options.actor,
        expectedRevision: current.revision,
      });
      return { schedule, action: "updated" };
    } catch (error) {
      // Another instance declared (or an operator paused) in between: compare with theirs once more.
      if (!(error instanceof ConflictError) || attempt >= 2) throw error;
      existing = (await find(scheduler, input.id)) ?? current;
    }
  }
}
