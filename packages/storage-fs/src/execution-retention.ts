/**
 * Retention (its rules: core's prune.ts): what a prune of one schedule may delete, and the
 * delete itself, one batch of tombstones (execution-tombstones.ts) committed by one append to the
 * live log. A prune batch costs its own size, never the size of a segment; compaction reclaims
 * the disk later (execution-merging.ts).
 */

import {
  type ExecutionPrune,
  type ExecutionStatus,
  type FireKind,
  type ProtectionInput,
  PruneQueue,
  Turn,
} from "@tradecron/core";
import type { LiveLog } from "./execution-live-log.js";
import type { ExecutionMemory } from "./execution-memory.js";
import type { Tombstones } from "./execution-tombstones.js";
import { EXECUTION_STATUSES, FIRE_KINDS, isActiveStatus } from "./records.js";
import type { Segment } from "./segment.js";

/** Prunes the final executions of a schedule. */
export class Retention {
  /** What retention deletes next, per schedule (core's PruneQueue). */
  private readonly pruneQueue = new PruneQueue();

  /** @param maybeCompact queues the compaction of segments that prunes left mostly dead */
  constructor(
    private readonly memory: ExecutionMemory,
    private readonly log: LiveLog,
    private readonly tombstones: Tombstones,
    private readonly maybeCompact: () => void,
  ) {}

  /**
   * Deletes up to `prune.limit` final executions of one schedule, with tombstones: each is
   * forgotten (in the logs) or marked dead (sealed) at once, in memory, and the batch is one
   * append of `del` lines: one group commit, whatever the size of the segments holding them.
   * Resolves once the lines are durable.
   */
  async pruneExecutions(prune: ExecutionPrune): Promise<number> {
    this.log.live();
    if (this.pruneQueue.needsLoad(prune)) {
      const inputs = await this.pruneInputs(prune.scheduleId);
      this.log.live();
      await this.pruneQueue.fillInSlices(prune, inputs);
    }
    const ids = this.pruneQueue.next(prune);
    const lines: string[] = [];
    for (const id of ids) {
      if (this.memory.active.has(id)) continue;
      if (!this.tombstones.mark(id)) continue;
      lines.push(JSON.stringify({ op: "del", id }));
    }
    if (lines.length === 0) return 0;
    const durable = this.log.write(lines);
    this.maybeCompact();
    await durable;
    return lines.length;
  }

  /**
   * What the prune rule needs of each of the schedule's executions. Sealed rows come from the
   * segment indexes (no record read): succeeded, failed and timed-out rows are runs; skipped rows
   * never started; a cancelled row is a run only if its handler had started, which only the
   * record says, so the cancelled rows newer than the latest certain run are read (as
   * scheduleSummaries does), and older ones cannot be the latest run anyway. The segments are
   * walked in slices (a schedule may have a million sealed rows) over a snapshot taken at once,
   * pinned so a merge meanwhile cannot close them under the reads.
   */
  private async pruneInputs(scheduleId: string): Promise<ProtectionInput[]> {
    const { memory } = this;
    const out: ProtectionInput[] = [];
    for (const id of memory.activeBySchedule.get(scheduleId) ?? []) {
      const e = memory.active.get(id);
      if (e) out.push(e);
    }
    for (const mem of memory.memtables())
      for (const f of mem.finals.values()) if (f.record.scheduleId === scheduleId) out.push(f.record);
    let latestRun = Number.NEGATIVE_INFINITY;
    for (const e of out)
      if (e.startedAt !== null && !isActiveStatus(e.status)) latestRun = Math.max(latestRun, e.scheduledAt);
    const cancelled: { segment: Segment; row: number; input: ProtectionInput }[] = [];
    const segments = [...memory.segments];
    for (const segment of segments) segment.pin();
    try {
      // The scan of the segment indexes yields every 2 ms: a schedule may have a million rows.
      const turn = new Turn();
      for (const segment of segments) {
        const k = segment.findSchedule(scheduleId);
        if (k < 0) continue;
        const { at, status, kind, schedStart } = segment.index;
        for (let r = schedStart[k] as number; r < (schedStart[k + 1] as number); r++) {
          if ((r & 1023) === 0) await turn.maybeYield();
          if (segment.isDead(r)) continue;
          const st = EXECUTION_STATUSES[status[r] as number] as ExecutionStatus;
          const when = at[r] as number;
          const run = st === "succeeded" || st === "failed" || st === "timed_out";
          const input = {
            id: segment.idAt(r),
            scheduledAt: when,
            kind: FIRE_KINDS[kind[r] as number] as FireKind,
            status: st,
            startedAt: run ? when : null,
          };
          if (run) latestRun = Math.max(latestRun, when);
          if (st === "cancelled") cancelled.push({ segment, row: r, input });
          out.push(input);
        }
      }
      const unsure = cancelled.filter((c) => c.input.scheduledAt > latestRun);
      for (const c of unsure) {
        const [record] = await c.segment.readRows([c.row]);
        c.input.startedAt = record?.startedAt ?? null;
      }
    } finally {
      for (const segment of segments) segment.unpin();
    }
    return out;
  }
}
