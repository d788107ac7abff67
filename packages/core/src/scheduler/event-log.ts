/**
 * What the scheduler says in its log, from its own events: at info level, what fired, what
 * succeeded, what was skipped or missed and why; failures at error, retries and cancellations at
 * warn; and at start, each schedule's next fire. Lines carry their ids as fields (pino style).
 */

import type { SchedulerEventName, SchedulerEvents } from "../events.js";
import { type Logger, silentLogger } from "../logger.js";
import type { ExecutionRecord } from "../storage/records.js";
import type { ScheduleStatus } from "./status.js";

/** Schedules listed one per line at start before the rest are counted. */
const MAX_LISTED_AT_START = 100;

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

function fields(e: ExecutionRecord): Record<string, unknown> {
  return {
    scheduleId: e.scheduleId,
    executionId: e.id,
    scheduledAt: iso(e.scheduledAt),
    kind: e.kind,
    attempt: e.attempts,
  };
}

/** Logs one scheduler event (the ones worth a line). */
export function logEvent(logger: Logger, name: SchedulerEventName, payload: unknown): void {
  // The default: nothing to build a line for on the hot path of every fire.
  if (logger === silentLogger) return;
  switch (name) {
    case "run:started": {
      const { execution: e } = payload as SchedulerEvents["run:started"];
      logger.info(fields(e), `fired ${e.scheduleId} (${e.kind}, attempt ${e.attempts})`);
      return;
    }
    case "run:succeeded": {
      const { execution: e, durationMs } = payload as SchedulerEvents["run:succeeded"];
      logger.info({ ...fields(e), durationMs }, `${e.scheduleId} succeeded in ${durationMs} ms`);
      return;
    }
    case "run:skipped": {
      const { execution: e, reason } = payload as SchedulerEvents["run:skipped"];
      logger.info({ ...fields(e), reason }, `skipped ${e.scheduleId}: ${reason}`);
      return;
    }
    case "fire:missed": {
      const p = payload as SchedulerEvents["fire:missed"];
      logger.info(
        {
          scheduleId: p.scheduleId,
          count: p.count,
          firstAt: iso(p.firstAt),
          lastAt: iso(p.lastAt),
          policy: p.policy,
        },
        `${p.scheduleId}: missed ${p.count} fire(s) (misfire policy ${p.policy}, ran ${p.ran})`,
      );
      return;
    }
    case "run:failed": {
      const { execution: e, error, exhausted } = payload as SchedulerEvents["run:failed"];
      logger.error(
        { ...fields(e), err: error, exhausted },
        `${e.scheduleId} failed${exhausted ? " after its last attempt" : ""}: ${error.message}`,
      );
      return;
    }
    case "run:timed-out": {
      const { execution: e, timeoutMs } = payload as SchedulerEvents["run:timed-out"];
      logger.error({ ...fields(e), timeoutMs }, `${e.scheduleId} timed out after ${timeoutMs} ms`);
      return;
    }
    case "run:retrying": {
      const { execution: e, attempt, delayMs, error } = payload as SchedulerEvents["run:retrying"];
      logger.warn(
        { ...fields(e), err: error, delayMs },
        `${e.scheduleId} failed (${error.message}); attempt ${attempt} in ${delayMs} ms`,
      );
      return;
    }
    case "run:cancelled": {
      const { execution: e, reason } = payload as SchedulerEvents["run:cancelled"];
      logger.warn({ ...fields(e), reason }, `${e.scheduleId} cancelled: ${reason}`);
      return;
    }
    case "fire:taken-over": {
      const { execution: e } = payload as SchedulerEvents["fire:taken-over"];
      logger.warn(fields(e), `took over ${e.scheduleId} from an instance whose lease expired`);
      return;
    }
    case "fire:handed-over": {
      const { execution: e, reason } = payload as SchedulerEvents["fire:handed-over"];
      logger.info({ ...fields(e), reason }, `handed ${e.scheduleId} over to another instance (${reason})`);
      return;
    }
    case "scheduler:paused-all": {
      const p = payload as SchedulerEvents["scheduler:paused-all"];
      logger.warn(
        { actor: p.actor, reason: p.reason },
        `emergency pause-all by ${p.actor}${p.reason ? `: ${p.reason}` : ""}`,
      );
      return;
    }
    case "scheduler:resumed-all": {
      const p = payload as SchedulerEvents["scheduler:resumed-all"];
      logger.info({ actor: p.actor }, `pause-all lifted by ${p.actor}`);
      return;
    }
    default:
      return;
  }
}

/** Logs each schedule's next fire (or why it has none here) once the scheduler has started. */
export function logNextFires(
  logger: Logger,
  schedules: readonly ScheduleStatus[],
  why: (s: ScheduleStatus) => string | null,
): void {
  for (const s of schedules.slice(0, MAX_LISTED_AT_START)) {
    const reason = why(s);
    if (reason === null) {
      logger.info(
        { scheduleId: s.id, nextFireAt: iso(s.nextFireAt) },
        `${s.id}: next fire ${iso(s.nextFireAt)}`,
      );
    } else {
      logger.info({ scheduleId: s.id, nextFireAt: null, reason }, `${s.id}: no next fire here (${reason})`);
    }
  }
  if (schedules.length > MAX_LISTED_AT_START) {
    logger.info(
      { more: schedules.length - MAX_LISTED_AT_START },
      `... and ${schedules.length - MAX_LISTED_AT_START} more schedules`,
    );
  }
}
