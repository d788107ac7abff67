/**
 * GAP (move into core): `Scheduler.listSchedules` returns every schedule at once, with no
 * filters and no pages. The API filters by tag, job, enabled and paused and pages by id here.
 * Core version: `listSchedules({ tag, job, enabled, paused, limit, cursor }): Promise<Page<ScheduleRecord>>`,
 * pushed down to storage.
 */

import { decodeCursor, encodeCursor, type Page, type ScheduleRecord, type Scheduler } from "@tradecron/core";

/** Filters and page of {@link listSchedulesPage}. */
export interface ScheduleListQuery {
  tag?: string[];
  job?: string;
  enabled?: boolean;
  paused?: boolean;
  limit: number;
  cursor?: string;
}

/** True if `record` passes every filter of `q` (tags: any of them). */
export function scheduleMatches(record: ScheduleRecord, q: ScheduleListQuery): boolean {
  if (q.job !== undefined && record.job !== q.job) return false;
  if (q.enabled !== undefined && record.enabled !== q.enabled) return false;
  if (q.paused !== undefined && record.paused !== q.paused) return false;
  if (q.tag && q.tag.length > 0 && !q.tag.some((t) => record.tags.includes(t))) return false;
  return true;
}

/** One page of schedules ordered by id, after the cursor's id. */
export function pageSchedules(
  records: readonly ScheduleRecord[],
  q: ScheduleListQuery,
): Page<ScheduleRecord> {
  const after = q.cursor ? decodeCursor(q.cursor).id : null;
  const matching = records
    .filter((r) => (after === null || r.id > after) && scheduleMatches(r, q))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const items = matching.slice(0, q.limit);
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: matching.length > q.limit && last ? encodeCursor(0, last.id) : null,
  };
}

/** Lists the scheduler's schedules with filters and a cursor. */
export async function listSchedulesPage(
  scheduler: Scheduler,
  q: ScheduleListQuery,
): Promise<Page<ScheduleRecord>> {
  return pageSchedules(await scheduler.listSchedules(), q);
}
