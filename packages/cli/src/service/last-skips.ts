/**
 * Each schedule's last skip, for the status file's `last_skip`: the last runs themselves (start,
 * end, status, success) come from core's status, rebuilt from storage at start. Skips are kept
 * apart so an exit check skipped every 30 s outside market hours does not hide the failure before
 * it; they are followed from this instance's events since it started.
 */

import type { Scheduler } from "@tradecron/core";
import { listen } from "./event-log.js";

/** A skip: when (epoch ms) and why. */
export interface LastSkip {
  at: number;
  reason: string;
}

/** Last skips by schedule id. */
export class LastSkips {
  private readonly skips = new Map<string, LastSkip>();

  /** The last skip of a schedule on this instance, or null. */
  get(id: string): LastSkip | null {
    return this.skips.get(id) ?? null;
  }

  /** Follows the scheduler's skips; returns the function that stops following. */
  follow(scheduler: Scheduler): () => void {
    return listen(scheduler, {
      "run:skipped": ({ execution: e, reason }) =>
        this.skips.set(e.scheduleId, { at: e.endedAt ?? e.scheduledAt, reason }),
    });
  }
}
