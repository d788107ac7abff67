/**
 * Per-schedule history summaries (Storage.scheduleSummaries) from a sealed segment: its index
 * says, per row, the status and the instant, so only the few rows that can be a schedule's latest
 * run or latest success are read from disk.
 */

import type { ExecutionStatus } from "@tradecron/core";
import { EXECUTION_STATUSES } from "./records.js";
import type { Segment } from "./segment.js";

const status = (name: ExecutionStatus) => EXECUTION_STATUSES.indexOf(name);
const SUCCEEDED = status("succeeded");
const FAILED = status("failed");
const TIMED_OUT = status("timed_out");
const CANCELLED = status("cancelled");

/**
 * The rows of `segment` that may hold the latest run or the latest success of `scheduleId` later
 * than `after` (the instants already found elsewhere): the latest row that certainly is a run
 * (succeeded, failed, timed out), the cancelled rows after it (a cancellation is a run only if
 * the handler had started, which the record says), and the latest success.
 */
export function summaryRows(
  segment: Segment,
  scheduleId: string,
  after: { end: number | null; success: number | null },
): number[] {
  const k = segment.findSchedule(scheduleId);
  if (k < 0) return [];
  const { at, status: st, schedStart } = segment.index;
  const first = schedStart[k] as number;
  const rows: number[] = [];
  let endFound = false;
  let successFound = false;
  for (let r = (schedStart[k + 1] as number) - 1; r >= first && !(endFound && successFound); r--) {
    if (segment.isDead(r)) continue;
    const when = at[r] as number;
    const s = st[r] as number;
    if (!endFound && after.end !== null && when <= after.end) endFound = true;
    if (!successFound && after.success !== null && when <= after.success) successFound = true;
    if (s === SUCCEEDED && !successFound) {
      rows.push(r);
      successFound = true;
      endFound = true;
    } else if (!endFound && (s === FAILED || s === TIMED_OUT)) {
      rows.push(r);
      endFound = true;
    } else if (!endFound && s === CANCELLED) {
      rows.push(r);
    }
  }
  return rows;
}
