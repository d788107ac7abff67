/**
 * What the service says at info level, from the scheduler's typed events: each fire that started
 * and how it ended, each skip and why, each failure, retries, misses, takeovers and pause-all; and
 * at start, each schedule's next fire. One JSON line per event with stable fields (`event`,
 * `scheduleId`, `executionId`, `scheduledAt`, ...), so a log query can follow one fire.
 */

import type { Logger, Scheduler, SchedulerEventName, SchedulerEvents } from "@tradecron/core";

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

/** Logs the scheduler's events through `logger`; returns the function that stops. */
export function logEvents(scheduler: Scheduler, logger: Logger): () => void {
  const offs: (() => void)[] = [];
  const on = <K extends SchedulerEventName>(name: K, fn: (payload: SchedulerEvents[K]) => void) => {
    const listener = fn as never;
    scheduler.on(name, listener);
    offs.push(() => scheduler.off(name, listener));
  };
  const fire = (e: SchedulerEvents["run:started"]["execution"]) => ({
    scheduleId: e.scheduleId,
    job: e.job,
    executionId: e.id,
    scheduledAt: iso(e.scheduledAt),
    kind: e.kind,
    ...(e.actor ? { actor: e.actor } : {}),
  });
  on("run:started", ({ execution, attempt }) =>
    logger.info({ event: "run:started", ...fire(execution), attempt }, `fired ${execution.scheduleId}`),
  );
  on("run:succeeded", ({ execution, durationMs }) =>
    logger.info(
      { event: "run:succeeded", ...fire(execution), durationMs },
      `${execution.scheduleId} succeeded`,
    ),
  );
  on("run:retrying", ({ execution, attempt, delayMs, error }) =>
    logger.warn(
      { event: "run:retrying", ...fire(execution), attempt, delayMs, err: error },
      `${execution.scheduleId} failed, attempt ${attempt} in ${delayMs} ms: ${error.message}`,
    ),
  );
  on("run:failed", ({ execution, error, exhausted }) =>
    logger.error(
      { event: "run:failed", ...fire(execution), attempts: execution.attempts, exhausted, err: error },
      `${execution.scheduleId} failed: ${error.message}`,
    ),
  );
  on("run:timed-out", ({ execution, timeoutMs }) =>
    logger.error(
      { event: "run:timed-out", ...fire(execution), timeoutMs },
      `${execution.scheduleId} timed out`,
    ),
  );
  on("run:cancelled", ({ execution, reason }) =>
    logger.warn(
      { event: "run:cancelled", ...fire(execution), reason },
      `${execution.scheduleId} cancelled: ${reason}`,
    ),
  );
  on("run:skipped", ({ execution, reason }) =>
    logger.info(
      { event: "run:skipped", ...fire(execution), reason },
      `${execution.scheduleId} fire of ${iso(execution.scheduledAt)} skipped: ${reason}`,
    ),
  );
  on("fire:missed", (p) =>
    logger.warn(
      { event: "fire:missed", ...p, firstAt: iso(p.firstAt), lastAt: iso(p.lastAt) },
      `${p.scheduleId}: ${p.count} fire(s) missed (policy ${p.policy}, ran ${p.ran})`,
    ),
  );
  on("fire:taken-over", ({ execution }) =>
    logger.warn(
      { event: "fire:taken-over", ...fire(execution), attempts: execution.attempts },
      `took over ${execution.scheduleId} from a stopped instance`,
    ),
  );
  on("scheduler:paused-all", ({ actor, reason }) =>
    logger.warn(
      { event: "scheduler:paused-all", actor, reason },
      `pause-all by ${actor}: no fires until resume-all`,
    ),
  );
  on("scheduler:resumed-all", ({ actor }) =>
    logger.info({ event: "scheduler:resumed-all", actor }, `pause-all lifted by ${actor}`),
  );
  on("schedule:unhandled", ({ schedule }) =>
    logger.warn(
      { event: "schedule:unhandled", scheduleId: schedule.id, job: schedule.job },
      `schedule ${schedule.id}: job '${schedule.job}' is not in this config; another instance may run it`,
    ),
  );
  on("approval:requested", ({ approval }) =>
    logger.info(
      {
        event: "approval:requested",
        approvalId: approval.id,
        scheduleId: approval.scheduleId,
        riskLevel: approval.riskLevel,
      },
      `approval ${approval.id} waits for a decision`,
    ),
  );
  on("order:rejected", (p) =>
    logger.warn({ event: "order:rejected", ...p }, `order rejected (${p.rule}): ${p.reason}`),
  );
  on("scheduler:error", ({ error, context }) =>
    logger.error({ event: "scheduler:error", context, err: error }, `${context}: ${error.message}`),
  );
  return () => {
    for (const off of offs) off();
  };
}

/** Logs each schedule's next fire (and why it would be skipped), once, at start. */
export async function logNextFires(scheduler: Scheduler, logger: Logger): Promise<void> {
  const status = await scheduler.status();
  for (const s of status.schedules) {
    const next = s.nextFireAt === null ? [] : await scheduler.preview(s.id, { count: 1 }).catch(() => []);
    const fire = next[0];
    logger.info(
      {
        event: "schedule:next",
        scheduleId: s.id,
        job: s.job,
        nextFire: iso(s.nextFireAt),
        ...(fire ? { local: fire.local } : {}),
        ...(fire?.skip ? { skip: fire.skip } : {}),
        ...(s.paused ? { paused: true } : {}),
        ...(!s.enabled ? { enabled: false } : {}),
        ...(!s.handled ? { handled: false } : {}),
      },
      s.nextFireAt === null
        ? `${s.id}: no next fire${s.paused ? " (paused)" : !s.enabled ? " (disabled)" : ""}`
        : `next fire of ${s.id}: ${iso(s.nextFireAt)}`,
    );
  }
}
