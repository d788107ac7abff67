/**
 * Per-schedule summaries of the stored history (last fire, start, end, status, success), as the
 * storage contract defines them ({@link ScheduleSummary}): a pure accumulator every storage can
 * feed with whatever executions it holds, in any order.
 */

import type { ExecutionRecord, ExecutionStatus } from "./records.js";
import type { ScheduleSummary } from "./storage.js";

/** The fields of an execution a summary looks at. */
export type SummaryInput = Pick<ExecutionRecord, "scheduledAt" | "kind" | "status" | "startedAt" | "endedAt">;

/** True for the statuses after which an execution never changes. */
function isFinal(status: ExecutionStatus): boolean {
  return status !== "claimed" && status !== "running";
}

/** Accumulates one schedule's summary from its executions, in any order. */
export class SummaryBuilder {
  private lastFire: number | null = null;
  private start: { at: number; value: number } | null = null;
  private end: { at: number; value: number | null; status: ExecutionStatus } | null = null;
  private success: { at: number; value: number | null } | null = null;

  /** Takes one execution into account. */
  add(e: SummaryInput): void {
    if (e.kind === "scheduled" || e.kind === "catchup") this.noteFire(e.scheduledAt);
    if (e.startedAt === null) return; // not a run: skipped, or never started
    const at = e.scheduledAt;
    if (this.start === null || at > this.start.at) this.start = { at, value: e.startedAt };
    if (!isFinal(e.status)) return;
    if (this.end === null || at > this.end.at) this.end = { at, value: e.endedAt, status: e.status };
    if (e.status === "succeeded" && (this.success === null || at > this.success.at)) {
      this.success = { at, value: e.endedAt };
    }
  }

  /** Takes a known own-fire instant into account (a storage that keeps the last fire apart). */
  noteFire(at: number | null): void {
    if (at !== null && (this.lastFire === null || at > this.lastFire)) this.lastFire = at;
  }

  /** The `scheduledAt` of the latest run, ended run and success seen so far (what an index search prunes with). */
  get latest(): { start: number | null; end: number | null; success: number | null } {
    return { start: this.start?.at ?? null, end: this.end?.at ?? null, success: this.success?.at ?? null };
  }

  /** The summary of `scheduleId` from everything added. */
  result(scheduleId: string): ScheduleSummary {
    return {
      scheduleId,
      lastFireAt: this.lastFire,
      lastStartAt: this.start?.value ?? null,
      lastEndAt: this.end?.value ?? null,
      lastStatus: this.end?.status ?? null,
      lastSuccessAt: this.success?.value ?? null,
    };
  }
}
