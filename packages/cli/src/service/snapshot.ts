/**
 * The status snapshot of seed 004, served at /status and written to the status file: when the
 * scheduler started, its last heartbeat, and per schedule the last start, end, status and success
 * (snake_case as in the seed, so its monitoring scripts keep working), plus what tradecron adds:
 * state, health with reasons, next fire, last skip, counters, pending approvals.
 */

import type { Scheduler } from "@tradecron/core";
import type { LastRuns } from "./last-runs.js";

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
  /** Where this instance serves /health and /status (commands will find its HTTP API here). */
  url: string | null;
  health: { status: string; reasons: string[] };
  approvals_pending: number;
  counters: Record<string, number>;
  jobs: Record<string, JobSnapshot>;
}

/** Builds the snapshot from the scheduler's status and the last runs. */
export async function statusSnapshot(
  scheduler: Scheduler,
  lastRuns: LastRuns,
  url: string | null = null,
): Promise<StatusSnapshot> {
  const status = await scheduler.status();
  const health = scheduler.health();
  const jobs: Record<string, JobSnapshot> = {};
  for (const s of status.schedules) {
    const r = lastRuns.get(s.id);
    jobs[s.id] = {
      job: s.job,
      last_start: iso(r.lastStartAt),
      last_end: iso(r.lastEndAt),
      status: r.status,
      last_success: iso(r.lastSuccessAt),
      next_fire: iso(s.nextFireAt),
      last_skip: r.lastSkip ? { at: iso(r.lastSkip.at), reason: r.lastSkip.reason } : null,
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
