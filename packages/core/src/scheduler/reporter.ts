/**
 * How the scheduler's parts tell the world what happened: events (counted per schedule and
 * logged before any listener can throw), background failures as `scheduler:error`, the storage's
 * failure count for health, the audit log, and the background tasks `stop()` waits for.
 */

import { toError } from "../errors.js";
import type { SchedulerEvents } from "../events.js";
import type { Logger } from "../logger.js";
import type { JsonValue } from "../storage/records.js";
import type { Storage } from "../storage/storage.js";
import type { Clock } from "../time/clock.js";
import { logEvent } from "./event-log.js";
import { countEvent, type ScheduleCounters } from "./schedule-counters.js";

/** What the reporter needs. */
export interface ReporterDeps {
  storage: Storage;
  clock: Clock;
  logger: Logger;
  /** The facade's own (raw) emit: listeners may throw out of it. */
  emit(name: string, payload: unknown): boolean;
  /** The counters of a schedule (the registry's, on its state), or `null` when it is not known here. */
  countersOf(scheduleId: string): ScheduleCounters | null;
}

/** Events, errors, audit and background tasks of one scheduler. */
export class Reporter {
  /** Background tasks in progress; `stop()` waits for them. */
  readonly tasks = new Set<Promise<unknown>>();
  /** Storage calls failed in a row (health turns degraded, then unhealthy). */
  storageFailures = 0;

  constructor(private readonly deps: ReporterDeps) {}

  /**
   * Emits without letting a throwing listener reach the loop. Every event is first counted per
   * schedule and logged (`event-log.ts`), before any listener can throw.
   */
  emit<K extends keyof SchedulerEvents>(name: K, payload: SchedulerEvents[K]): void {
    try {
      countEvent(this.deps.countersOf, name, payload);
      logEvent(this.deps.logger, name, payload);
    } catch {
      // A throwing logger must not reach the loop either.
    }
    try {
      this.deps.emit(name, payload);
    } catch (error) {
      if (name === "scheduler:error") {
        this.deps.logger.error({ err: toError(error) }, "scheduler:error listener threw");
        return;
      }
      this.emit("scheduler:error", { error: toError(error), context: `listener of ${name}` });
    }
  }

  /** Logs a background failure and emits it as `scheduler:error`. */
  reportError(error: unknown, context: string): void {
    const e = toError(error);
    this.deps.logger.error({ err: e, context }, `scheduler: ${context} failed: ${e.message}`);
    this.emit("scheduler:error", { error: e, context });
  }

  /** Runs a background task, tracking it so `stop()` can wait for it. Errors become events. */
  background(task: Promise<unknown>, context: string | (() => string)): void {
    this.track(
      task.catch((error) => this.reportError(error, typeof context === "string" ? context : context())),
    );
  }

  /** Tracks a task that never rejects, so `stop()` waits for it. */
  track(task: Promise<unknown>): void {
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
  }

  /** A storage call succeeded: the failure streak ends. */
  storageOk(): void {
    this.storageFailures = 0;
  }

  /** A storage call failed: counted for health and reported. */
  storageFailed(error: unknown, context: string): void {
    this.storageFailures++;
    this.reportError(error, context);
  }

  /** Appends to the audit log; a failure is reported, never thrown (the action itself happened). */
  async audit(
    actor: string,
    action: string,
    subjectType: string,
    subjectId: string | null,
    details: JsonValue | null,
  ): Promise<void> {
    try {
      await this.deps.storage.appendAudit({
        at: this.deps.clock.now(),
        actor,
        action,
        subjectType,
        subjectId,
        details,
      });
    } catch (error) {
      this.storageFailed(error, `audit ${action}`);
    }
  }
}
