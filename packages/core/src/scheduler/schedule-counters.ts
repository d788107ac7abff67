/**
 * Per-schedule counters since this instance started, kept from the scheduler's own events (every
 * outcome is an event, so counting them in one place cannot miss a code path).
 */

import type { SchedulerEvents } from "../events.js";

/** What happened to one schedule's fires on this instance since it started. */
export interface ScheduleCounters {
  /** Fires this instance claimed (the scheduler-wide count includes skips it recorded). */
  fires: number;
  /** Runs started (a takeover counts). */
  runs: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  cancelled: number;
  skipped: number;
  /** Retry attempts started. */
  retries: number;
  /** Fires missed (down, paused, clock jump), whatever the policy did with them. */
  missed: number;
  /** Fires taken over from instances whose lease expired. */
  takenOver: number;
}

/** Fresh zeroed counters. */
export function newScheduleCounters(): ScheduleCounters {
  return {
    fires: 0,
    runs: 0,
    succeeded: 0,
    failed: 0,
    timedOut: 0,
    cancelled: 0,
    skipped: 0,
    retries: 0,
    missed: 0,
    takenOver: 0,
  };
}

type Counted = keyof ScheduleCounters;

/** Which counter an event with an execution adds one to. */
const BY_EVENT: Partial<Record<keyof SchedulerEvents, Counted>> = {
  "fire:claimed": "fires",
  "fire:taken-over": "takenOver",
  "run:started": "runs",
  "run:retrying": "retries",
  "run:succeeded": "succeeded",
  "run:failed": "failed",
  "run:timed-out": "timedOut",
  "run:cancelled": "cancelled",
  "run:skipped": "skipped",
};

/** Counts one scheduler event into the counters of its schedule (none for a schedule not known here). */
export function countEvent(
  countersOf: (scheduleId: string) => ScheduleCounters | null,
  name: keyof SchedulerEvents,
  payload: unknown,
): void {
  if (name === "fire:missed") {
    const p = payload as SchedulerEvents["fire:missed"];
    const c = countersOf(p.scheduleId);
    if (c !== null) c.missed += p.count;
    return;
  }
  const key = BY_EVENT[name];
  if (key === undefined) return;
  const execution = (payload as { execution?: { scheduleId: string } }).execution;
  if (execution) {
    const c = countersOf(execution.scheduleId);
    if (c !== null) c[key]++;
  }
}
