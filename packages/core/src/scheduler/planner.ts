/**
 * Missed-fire planning as a pure function: given a trigger, a misfire policy, the last fire
 * already handled and the current time, decide which fires run now, which are recorded as missed,
 * and when the next fire is.
 */

import type { MisfirePolicy } from "../schedule/policies.js";
import type { Trigger } from "../triggers/trigger.js";

/** At most this many missed fires are enumerated one by one; beyond it only the recent tail is. */
export const MAX_MISSED_SCAN = 10_000;

/** One fire to run now. `catchup` marks a missed fire run late under `run_once`/`run_all`. */
export interface PlannedRun {
  at: number;
  kind: "scheduled" | "catchup";
}

/** Missed fires that will not run: how many, the first and last instant, and why. */
export interface MissedSummary {
  count: number;
  firstAt: number;
  lastAt: number;
  /** True if there were more than MAX_MISSED_SCAN and `count` is a lower bound. */
  capped: boolean;
  reason: "misfire" | "coalesced";
}

/** The plan for one schedule at `now`. */
export interface FirePlan {
  /** Fires to run now, oldest first. */
  run: PlannedRun[];
  /** Fires that were due but will not run, if any. */
  missed: MissedSummary | null;
  /** Total number of fires due in (after, now] (lower bound when capped). */
  due: number;
  /** Fires that were missed (due and not on time), whether caught up or not; null when none. */
  missedTotal: { count: number; firstAt: number; lastAt: number } | null;
  /** The next fire strictly after `now`, or null when the trigger is exhausted. */
  next: number | null;
}

/** Plans the fires of a trigger that fall in (after, now]. */
export function planFires(trigger: Trigger, policy: MisfirePolicy, after: number, now: number): FirePlan {
  const due: number[] = [];
  let capped = false;
  let dueCount = 0;
  let firstAt: number | null = null;
  let f = trigger.next(after);
  while (f !== null && f <= now) {
    if (firstAt === null) firstAt = f;
    dueCount++;
    if (due.length >= MAX_MISSED_SCAN) {
      // Too many to list: restart from the part of the past that any policy can still act on.
      capped = true;
      const horizon = now - Math.max(policy.toleranceMs, policy.graceMs, policy.windowMs);
      due.length = 0;
      f = trigger.next(Math.max(horizon, f));
      while (f !== null && f <= now) {
        due.push(f);
        f = trigger.next(f);
      }
      break;
    }
    due.push(f);
    f = trigger.next(f);
  }
  const next = f;
  if (due.length === 0 && !capped) return { run: [], missed: null, due: 0, missedTotal: null, next };

  const last = due[due.length - 1];
  const current = last !== undefined && now - last <= policy.toleranceMs ? last : null;
  const missedList = current === null ? due : due.slice(0, -1);
  const missedCount = capped
    ? Math.max(dueCount, MAX_MISSED_SCAN) - (current === null ? 0 : 1)
    : missedList.length;
  const run: PlannedRun[] = [];
  let runMissed: number[] = [];
  let reason: MissedSummary["reason"] = "misfire";

  if (policy.policy === "run_once") {
    const latest = missedList[missedList.length - 1];
    if (current === null && latest !== undefined && now - latest <= policy.graceMs) runMissed = [latest];
    // Fires folded into one that does run are coalesced; with nothing run they are plain misfires.
    if (current !== null || runMissed.length > 0) reason = "coalesced";
  } else if (policy.policy === "run_all") {
    const inWindow = missedList.filter((t) => now - t <= policy.windowMs);
    runMissed = inWindow.slice(-policy.maxRuns);
  }
  for (const at of runMissed) run.push({ at, kind: "catchup" });
  if (current !== null) run.push({ at: current, kind: "scheduled" });

  const notRun = missedCount - runMissed.length;
  let missed: MissedSummary | null = null;
  if (notRun > 0) {
    const ran = new Set(runMissed);
    const remaining = missedList.filter((t) => !ran.has(t));
    missed = {
      count: notRun,
      firstAt: firstAt ?? remaining[0] ?? 0,
      lastAt: remaining[remaining.length - 1] ?? firstAt ?? 0,
      capped,
      reason,
    };
  }
  const lastMissed = missedList[missedList.length - 1];
  const missedTotal =
    missedCount > 0 && firstAt !== null && lastMissed !== undefined
      ? { count: missedCount, firstAt, lastAt: lastMissed }
      : null;
  return { run, missed, due: capped ? Math.max(dueCount, MAX_MISSED_SCAN) : due.length, missedTotal, next };
}
