/** The row of a `scheduleSummaries` statement (both dialects) as a ScheduleSummary. */

import type { ExecutionStatus, ScheduleSummary } from "@tradecron/core";

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** A summary from its row (`schedule_id`, `last_fire_at`, `last_start_at`, ...). */
export function summaryOf(row: Record<string, unknown>): ScheduleSummary {
  return {
    scheduleId: String(row.schedule_id),
    lastFireAt: num(row.last_fire_at),
    lastStartAt: num(row.last_start_at),
    lastEndAt: num(row.last_end_at),
    lastStatus: (row.last_status ?? null) as ExecutionStatus | null,
    lastSuccessAt: num(row.last_success_at),
  };
}
