/**
 * Schedules as the API shows them: the stored record plus its live state on this instance (next
 * and last fire, runs in progress, counters), read from one status snapshot per request.
 */

import type { ScheduleRecord, ScheduleStatus } from "@tradecron/core";
import { scheduleDto, scheduleStateDto } from "../dto.js";
import { nextFireOnceResumed } from "../gaps/preview.js";
import type { ScheduleDto } from "../schemas/records.js";
import type { ApiDeps } from "./route.js";

/** Maps records to their API form with live state. */
export async function scheduleViews(
  deps: ApiDeps,
  records: readonly ScheduleRecord[],
): Promise<ScheduleDto[]> {
  if (records.length === 0) return [];
  const { scheduler, counters } = deps;
  const status = await scheduler.status();
  const byId = new Map<string, ScheduleStatus>(status.schedules.map((s) => [s.id, s]));
  const now = scheduler.clock.now();
  return records.map((record) =>
    scheduleDto(
      record,
      scheduleStateDto(
        byId.get(record.id),
        counters.get(record.id),
        nextFireOnceResumed(record, now, status.pausedAll),
      ),
    ),
  );
}

/** One record in its API form. */
export async function scheduleView(deps: ApiDeps, record: ScheduleRecord): Promise<ScheduleDto> {
  return (await scheduleViews(deps, [record]))[0] as ScheduleDto;
}
