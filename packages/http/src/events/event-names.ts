/**
 * Every event name of core's {@link SchedulerEvents} map, as a run-time list (core has the type
 * only). The type check below fails when core adds an event this list lacks.
 */

import type { SchedulerEventName } from "@tradecron/core";

/** The scheduler's events, as streamed by `/events`. */
export const SCHEDULER_EVENT_NAMES = [
  "scheduler:started",
  "scheduler:stopping",
  "scheduler:stopped",
  "scheduler:paused",
  "scheduler:resumed",
  "scheduler:paused-all",
  "scheduler:resumed-all",
  "scheduler:error",
  "timer:drift",
  "schedule:created",
  "schedule:updated",
  "schedule:removed",
  "schedule:paused",
  "schedule:resumed",
  "schedule:unhandled",
  "fire:claimed",
  "fire:taken",
  "fire:missed",
  "fire:taken-over",
  "run:started",
  "run:retrying",
  "run:succeeded",
  "run:failed",
  "run:timed-out",
  "run:skipped",
  "run:cancelled",
  "run:late-result",
  "approval:requested",
  "approval:decided",
  "approval:expired",
  "order:submitted",
  "order:rejected",
  "order:updated",
  "broker:connected",
  "broker:disconnected",
] as const satisfies readonly SchedulerEventName[];

type Listed = (typeof SCHEDULER_EVENT_NAMES)[number];
/** Compile-time check that the list is complete: `true` only when no event name is missing. */
export const EVENT_LIST_COMPLETE: Exclude<SchedulerEventName, Listed> extends never ? true : never = true;
