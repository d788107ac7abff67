/**
 * What this instance has seen of one schedule's runs: runs in progress, the latest start, end and
 * success, and the per-schedule counters. Made at the schedule's first fire here (or from the
 * stored summary at start), so a schedule that is only armed pays one field for it: with 100,000
 * armed schedules that is about 5 MB of heap, and a burst makes one object per schedule instead
 * of an entry in a map of counters keyed by id.
 */

import type { ExecutionStatus } from "../storage/records.js";
import type { ScheduleSummary } from "../storage/storage.js";
import { newScheduleCounters, type ScheduleCounters } from "./schedule-counters.js";

/** One schedule's runs on this instance (see the module comment). */
export interface RunStats {
  /** Runs of the schedule in progress here. */
  running: number;
  /** Runs of the schedule that ended on this instance: a claim's state is stale once it moved. */
  endedRuns: number;
  lastStartAt: number | null;
  lastEndAt: number | null;
  lastStatus: ExecutionStatus | null;
  lastSuccessAt: number | null;
  /** Overlap waits to wake when a run ends (`Overlap`). */
  waiters: Set<() => void> | null;
  /** Counted from the scheduler's events (`Reporter.emit`). */
  counters: ScheduleCounters;
}

/** Fresh stats, starting from what the storage's history says when there is one. */
export function newRunStats(summary: ScheduleSummary | null): RunStats {
  return {
    running: 0,
    endedRuns: 0,
    lastStartAt: summary?.lastStartAt ?? null,
    lastEndAt: summary?.lastEndAt ?? null,
    lastStatus: summary?.lastStatus ?? null,
    lastSuccessAt: summary?.lastSuccessAt ?? null,
    waiters: null,
    counters: newScheduleCounters(),
  };
}

/** A schedule's stats, made on first use. */
export function runStatsOf(st: { runs: RunStats | null }): RunStats {
  if (st.runs === null) st.runs = newRunStats(null);
  return st.runs;
}
