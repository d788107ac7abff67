/**
 * GAP (move into core): `Scheduler.status()` has counters for the instance only. The API shows
 * fires, successes, failures, skips and retries per schedule, counted here from the scheduler's
 * events since the router was created. Core version: a `counters` field on each `ScheduleStatus`.
 */

import type { Scheduler, SchedulerEvents } from "@tradecron/core";

/** Per-schedule counters. */
export interface ScheduleCounts {
  fires: number;
  succeeded: number;
  failed: number;
  skipped: number;
  retries: number;
}

const zero = (): ScheduleCounts => ({ fires: 0, succeeded: 0, failed: 0, skipped: 0, retries: 0 });

/** Counts per schedule from the scheduler's events. Memory is bounded by the number of schedules. */
export class ScheduleCounters {
  private readonly counts = new Map<string, ScheduleCounts>();
  private readonly detach: () => void;

  constructor(scheduler: Scheduler) {
    const bump = (id: string, key: keyof ScheduleCounts) => {
      let c = this.counts.get(id);
      if (!c) {
        c = zero();
        this.counts.set(id, c);
      }
      c[key]++;
    };
    const on = <K extends keyof SchedulerEvents>(name: K, fn: (p: SchedulerEvents[K]) => void) => {
      scheduler.on(name, fn as never);
      return () => scheduler.off(name, fn as never);
    };
    const offs = [
      on("fire:claimed", (p) => bump(p.execution.scheduleId, "fires")),
      on("run:succeeded", (p) => bump(p.execution.scheduleId, "succeeded")),
      on("run:failed", (p) => bump(p.execution.scheduleId, "failed")),
      on("run:timed-out", (p) => bump(p.execution.scheduleId, "failed")),
      on("run:skipped", (p) => bump(p.execution.scheduleId, "skipped")),
      on("run:retrying", (p) => bump(p.execution.scheduleId, "retries")),
      on("schedule:removed", (p) => {
        this.counts.delete(p.id);
      }),
    ];
    this.detach = () => {
      for (const off of offs) off();
    };
  }

  /** The counts of one schedule (zeros if nothing happened yet). */
  get(id: string): ScheduleCounts {
    return { ...(this.counts.get(id) ?? zero()) };
  }

  /** Stops listening. */
  close(): void {
    this.detach();
  }
}
