/**
 * What the service logs from the scheduler's events beyond what core logs itself. Core's event log
 * (packages/core/src/scheduler/event-log.ts) already says, at info level, what fired, succeeded,
 * was skipped or missed and why, failures, retries, cancellations, takeovers, hand-overs,
 * pause-all, and each schedule's next fire at start; logging those here too would print every
 * line twice. This adds the events core leaves silent: a stored schedule whose job this config
 * lacks, an approval waiting for a decision, an order the risk guard refused, and background
 * errors core emits without a line. One JSON line each, with an `event` field.
 */

import type { Logger, Scheduler, SchedulerEventName, SchedulerEvents } from "@tradecron/core";

/** Handlers by event name. */
export type EventHandlers = { [K in SchedulerEventName]?: (payload: SchedulerEvents[K]) => void };

/** Subscribes every handler; returns the function that unsubscribes them all. */
export function listen(scheduler: Scheduler, handlers: EventHandlers): () => void {
  const offs: (() => void)[] = [];
  for (const [name, fn] of Object.entries(handlers)) {
    const listener = fn as never;
    scheduler.on(name as SchedulerEventName, listener);
    offs.push(() => scheduler.off(name as SchedulerEventName, listener));
  }
  return () => {
    for (const off of offs) off();
  };
}

/**
 * Contexts of `scheduler:error` that core emits without logging them (its `reportError` logs the
 * others before emitting): an execution's outcome that could not be stored, a listener that threw.
 */
const UNLOGGED_BY_CORE = /^(storing execution |listener of )/;

/** Logs what core does not; returns the function that stops. */
export function logEvents(scheduler: Scheduler, logger: Logger): () => void {
  return listen(scheduler, {
    "schedule:unhandled": ({ schedule }) =>
      logger.warn(
        { event: "schedule:unhandled", scheduleId: schedule.id, job: schedule.job },
        `schedule ${schedule.id}: job '${schedule.job}' is not in this config; another instance may run it`,
      ),
    "approval:requested": ({ approval }) =>
      logger.info(
        {
          event: "approval:requested",
          approvalId: approval.id,
          scheduleId: approval.scheduleId,
          riskLevel: approval.riskLevel,
        },
        `approval ${approval.id} waits for a decision`,
      ),
    "order:rejected": (p) =>
      logger.warn({ event: "order:rejected", ...p }, `order rejected (${p.rule}): ${p.reason}`),
    "scheduler:error": ({ error, context }) => {
      if (UNLOGGED_BY_CORE.test(context))
        logger.error({ event: "scheduler:error", context, err: error }, `${context}: ${error.message}`);
    },
  });
}
