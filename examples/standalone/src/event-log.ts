/** Prints scheduler events as one readable line each: what fired, what ran, retried or was skipped. */

import type { Scheduler, SchedulerEventName, SchedulerEvents } from "@tradecron/core";

const time = (t: number) => new Date(t).toISOString().slice(11, 23);

/** Subscribes a readable event log to `scheduler`; returns a function that unsubscribes. */
export function printEvents(
  scheduler: Scheduler,
  write: (line: string) => void = (l) => console.log(l),
): () => void {
  const offs: (() => void)[] = [];
  const line = (tag: string, text: string) =>
    write(`${time(scheduler.clock.now())}  ${tag.padEnd(8)} ${text}`);
  const listen = <K extends SchedulerEventName>(name: K, fn: (payload: SchedulerEvents[K]) => void) => {
    const listener = fn as never;
    scheduler.on(name, listener);
    offs.push(() => scheduler.off(name, listener));
  };
  listen("run:started", ({ execution: e, attempt }) => {
    const how = e.kind === "scheduled" ? "" : ` (${e.kind}${e.actor ? ` by ${e.actor}` : ""})`;
    line("start", `${e.scheduleId}${how} attempt ${attempt}`);
  });
  listen("run:succeeded", ({ execution: e, durationMs }) =>
    line("ok", `${e.scheduleId} in ${durationMs} ms -> ${JSON.stringify(e.result)}`),
  );
  listen("run:retrying", ({ execution: e, attempt, delayMs, error }) =>
    line("retry", `${e.scheduleId} failed (${error.message}); attempt ${attempt} in ${delayMs} ms`),
  );
  listen("run:failed", ({ execution: e, error, exhausted }) =>
    line(
      "FAILED",
      `${e.scheduleId} after ${e.attempts} attempt(s)${exhausted ? ", retries exhausted" : ""}: ${error.message}`,
    ),
  );
  listen("run:skipped", ({ execution: e, reason }) =>
    line("skip", `${e.scheduleId} fire of ${time(e.scheduledAt)} skipped: ${reason}`),
  );
  listen("run:timed-out", ({ execution: e, timeoutMs }) =>
    line("timeout", `${e.scheduleId} exceeded ${timeoutMs} ms`),
  );
  listen("run:cancelled", ({ execution: e, reason }) => line("cancel", `${e.scheduleId}: ${reason}`));
  listen("fire:missed", ({ scheduleId, count, policy, ran }) =>
    line(
      "missed",
      `${scheduleId}: ${count} fire(s) missed while down or paused (policy ${policy}, ran ${ran})`,
    ),
  );
  listen("scheduler:paused-all", ({ actor, reason }) =>
    line("PAUSE", `pause-all by ${actor}${reason ? `: ${reason}` : ""}`),
  );
  listen("scheduler:error", ({ error, context }) => line("ERROR", `${context}: ${error.message}`));
  return () => {
    for (const off of offs) off();
  };
}
