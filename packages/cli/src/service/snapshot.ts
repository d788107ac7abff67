/**
 * The status snapshot of seed 004, served at /status and written to the status file: when the
 * scheduler started, its last heartbeat, and per schedule the last start, end, status and success
 * (snake_case as in the seed, so its monitoring scripts keep working), plus what tradecron adds:
 * state, health with reasons, next fire, last skip, counters, pending approvals.
 */

import type { Scheduler } from "@tradecron/core";
import type { LastSkips } from "./last-skips.js";

const iso = (t: number | null | undefined): string | null =>
  t === null || t === undefined ? null : new Date(t).toISOString();

/** One schedule in the snapshot. */
export interface JobSnapshot {
  job: string;
  last_start: string | null;
  last_end: string | null;
  status: string | null;
  last_success: string | null;
  next_fire: string | null;
  last_skip: { at: string | null; reason: string } | null;
  running: number;
  enabled: boolean;
  paused: boolean;
}

/** The whole snapshot. */
export interface StatusSnapshot {
  scheduler_started: string | null;
  last_heartbeat: string | null;
  written_at: string;
  state: string;
  instance_id: string;
  storage: string;
  paused_all: boolean;
  paused_all_by: string | null;
  /** Where this instance serves its HTTP API (with the base path): commands on this machine find it here. */
  url: string | null;
  health: { status: string; reasons: string[] };
  approvals_pending: number;
  counters: Record<string, number>;
  jobs: Record<string, JobSnapshot>;
}

/**
 * Builds the snapshot from the scheduler's status (its per-schedule last runs are rebuilt from
 * storage at start by core) and the last skips. `status` is `running` while a run of the schedule
 * is in progress on this instance, else the last run's final status.
 */
export async function statusSnapshot(
  scheduler: Scheduler,
  lastSkips: LastSkips,
  url: string | null = null,
): Promise<StatusSnapshot> {
  const status = await scheduler.status();
  const health = scheduler.health();
  const jobs: Record<string, JobSnapshot> = {};
  for (const s of status.schedules) {
    const skip = lastSkips.get(s.id);
    jobs[s.id] = {
      job: s.job,
      last_start: iso(s.lastStartAt),
      last_end: iso(s.lastEndAt),
      status: s.running > 0 ? "running" : s.lastStatus,
      last_success: iso(s.lastSuccessAt),
      next_fire: iso(s.nextFireAt),
      last_skip: skip ? { at: iso(skip.at), reason: skip.reason } : null,
      running: s.running,
      enabled: s.enabled,
      paused: s.paused,
    };
  }
  return {
    scheduler_started: iso(status.startedAt),
    last_heartbeat: iso(status.heartbeatAt),
    written_at: new Date(scheduler.clock.now()).toISOString(),
    state: status.state,
    instance_id: status.instanceId,
    storage: status.storage,
    paused_all: status.pausedAll,
    paused_all_by: status.pausedAllBy,
    url,
    health: { status: health.status, reasons: health.reasons },
    approvals_pending: status.approvalsPending,
    counters: { ...status.counters },
    jobs,
  };
}
