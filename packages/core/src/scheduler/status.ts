/** Status and health: what the scheduler reports about itself (DESIGN.md promise 8). */

import type { ExecutionStatus } from "../storage/records.js";
import { newScheduleCounters, type ScheduleCounters } from "./schedule-counters.js";

/** Counters since this instance started: those of every schedule together, and the orders. */
export interface Counters extends ScheduleCounters {
  ordersSubmitted: number;
  ordersRejected: number;
}

/** Fresh zeroed counters. */
export function newCounters(): Counters {
  return { ...newScheduleCounters(), ordersSubmitted: 0, ordersRejected: 0 };
}

/** Lifecycle state of a scheduler instance. */
export type SchedulerState = "stopped" | "starting" | "running" | "paused" | "stopping";

/** One schedule as the status reports it. */
export interface ScheduleStatus {
  id: string;
  name: string;
  job: string;
  enabled: boolean;
  paused: boolean;
  /** False when this instance has no handler for the job. */
  handled: boolean;
  nextFireAt: number | null;
  lastStartAt: number | null;
  lastEndAt: number | null;
  lastStatus: ExecutionStatus | null;
  lastSuccessAt: number | null;
  /** Runs of this schedule in progress on this instance. */
  running: number;
  /** What happened to this schedule's fires on this instance since it started. */
  counters: ScheduleCounters;
}

/** The scheduler's report on itself. */
export interface SchedulerStatus {
  state: SchedulerState;
  instanceId: string;
  storage: string;
  pausedAll: boolean;
  pausedAllBy: string | null;
  startedAt: number | null;
  uptimeMs: number;
  /** Last time the loop was seen alive. */
  heartbeatAt: number | null;
  counters: Counters;
  approvalsPending: number;
  schedules: ScheduleStatus[];
}

/** Health verdict with the reasons behind it. */
export interface Health {
  status: "healthy" | "degraded" | "unhealthy";
  reasons: string[];
  checkedAt: number;
}

/** Inputs of {@link assessHealth}. */
export interface HealthInputs {
  state: SchedulerState;
  pausedAll: boolean;
  heartbeatAt: number | null;
  now: number;
  /** Heartbeats older than this make the instance unhealthy. */
  staleAfterMs: number;
  /** Consecutive failed storage calls in the loop. */
  storageFailures: number;
  schedules: readonly ScheduleStatus[];
  /** The configured broker and whether it is connected (null: none configured). */
  broker?: { name: string; connected: boolean } | null;
  /**
   * What the scheduler could not trust, one reason each: an unreadable control record, stored
   * schedules that failed their checks or whose trigger does not compile, quarantined files.
   */
  untrusted?: readonly string[];
}

/** Pure health assessment. */
export function assessHealth(h: HealthInputs): Health {
  const unhealthy: string[] = [];
  const degraded: string[] = [];
  if (h.state === "stopped" || h.state === "stopping" || h.state === "starting")
    unhealthy.push(`scheduler is ${h.state}`);
  if (h.heartbeatAt !== null && h.now - h.heartbeatAt > h.staleAfterMs && h.state !== "stopped") {
    unhealthy.push(`no heartbeat for ${Math.round((h.now - h.heartbeatAt) / 1000)} s`);
  }
  if (h.storageFailures >= 3) unhealthy.push(`storage failing (${h.storageFailures} consecutive errors)`);
  else if (h.storageFailures > 0) degraded.push(`storage errors (${h.storageFailures} consecutive)`);
  if (h.pausedAll) degraded.push("emergency pause-all is in force");
  if (h.state === "paused") degraded.push("scheduler is paused");
  if (h.broker && !h.broker.connected) degraded.push(`broker ${h.broker.name} is disconnected`);
  degraded.push(...(h.untrusted ?? []));
  for (const s of h.schedules) {
    if (s.enabled && (s.lastStatus === "failed" || s.lastStatus === "timed_out")) {
      degraded.push(`schedule ${s.id}: last run ${s.lastStatus}`);
    }
  }
  const status = unhealthy.length > 0 ? "unhealthy" : degraded.length > 0 ? "degraded" : "healthy";
  return { status, reasons: [...unhealthy, ...degraded], checkedAt: h.now };
}
