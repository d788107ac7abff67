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
      const source = await this.pruneSource(prune.scheduleId);
      this.log.live();
      await this.pruneQueue.fillInSlices(prune, source);
    }
    const deleted: string[] = [];
    for (const id of this.pruneQueue.next(prune)) {
      if (this.memory.active.has(id)) continue;
      if (this.tombstones.mark(id)) deleted.push(id);
    }
    if (deleted.length === 0) return 0;
    const durable = this.log.writeDeletes(deleted);
    this.maybeCompact();
    await durable;
    return deleted.length;
  }

  /**
   * What the prune rule needs of each of the schedule's executions, as a pass in time order
   * (core's PruneQueue then walks it a batch at a time instead of listing it). Sealed rows come
   * from the segment indexes (no record read): succeeded, failed and timed-out rows are runs;
   * skipped rows never started; a cancelled row is a run only if its handler had started, which
   * only the record says, so the cancelled rows newer than the latest certain run are read first
   * (as scheduleSummaries does), and older ones cannot be the latest run anyway.
   *
   * A pass decodes one row at a time: listing 200,000 rows as objects at the start of a retention
   * pass cost 17-25 ms GC pauses (fires due then started that late).
   */
  private async pruneSource(scheduleId: string): Promise<() => Iterable<ProtectionInput>> {
    const { memory } = this;
    let latestRun = Number.NEGATIVE_INFINITY;
    for (const e of this.memoryInputs(scheduleId))
      if (e.startedAt !== null && !isActiveStatus(e.status)) latestRun = Math.max(latestRun, e.scheduledAt);
    const cancelled: { segment: Segment; row: number; at: number }[] = [];
    const segments = [...memory.segments];
    for (const segment of segments) segment.pin();
    const startedAt = new Map<string, number | null>();
    try {
      // The scan of the segment indexes yields every 2 ms: a schedule may have a million rows.
      const turn = new Turn();
      for (const segment of segments) {
        const k = segment.findSchedule(scheduleId);
        if (k < 0) continue;
        const { at, status, schedStart } = segment.index;
        for (let r = schedStart[k] as number; r < (schedStart[k + 1] as number); r++) {
          if ((r & 1023) === 0) await turn.maybeYield();
          if (segment.isDead(r)) continue;
          const st = status[r] as number;
          if (st === CANCELLED) cancelled.push({ segment, row: r, at: at[r] as number });
          else if (RUN_STATUSES.has(st)) latestRun = Math.max(latestRun, at[r] as number);
        }
      }
      for (const c of cancelled) {
        if (c.at <= latestRun) continue;
        const [record] = await c.segment.readRows([c.row]);
        if (record) startedAt.set(record.id, record.startedAt);
      }
    } finally {
      for (const segment of segments) segment.unpin();
    }
    return () => this.inTimeOrder(scheduleId, startedAt);
  }

  /** The schedule's executions in memory (active ones and the memtables'), oldest first. */
  private memoryInputs(scheduleId: string): ProtectionInput[] {
    const { memory } = this;
    const out: ProtectionInput[] = [];
    for (const id of memory.activeBySchedule.get(scheduleId) ?? []) {
      const e = memory.active.get(id);
      if (e) out.push(e);
    }
    for (const mem of memory.memtables())
      for (const f of mem.finals.values()) if (f.record.scheduleId === scheduleId) out.push(f.record);
    return out.sort((a, b) => a.scheduledAt - b.scheduledAt);
  }

  /**
   * One pass over the schedule's executions, oldest first: a merge of the records in memory and
   * each live segment's rows of the schedule (sorted by time within a segment), skipping pruned
   * rows as it reaches them. `startedAt` holds what the records of cancelled rows said.
   */
  private *inTimeOrder(
    scheduleId: string,
    startedAt: ReadonlyMap<string, number | null>,
  ): Generator<ProtectionInput> {
    const inMemory = this.memoryInputs(scheduleId);
    const cursors: { segment: Segment; row: number; end: number }[] = [];
    for (const segment of this.memory.segments) {
      const k = segment.findSchedule(scheduleId);
      if (k < 0) continue;
      const { schedStart } = segment.index;
      cursors.push({ segment, row: schedStart[k] as number, end: schedStart[k + 1] as number });
    }
    let m = 0;
    for (;;) {
      let next: (typeof cursors)[number] | null = null;
      let nextAt = Number.POSITIVE_INFINITY;
      for (const c of cursors) {
        while (c.row < c.end && c.segment.isDead(c.row)) c.row++;
        if (c.row < c.end && (c.segment.index.at[c.row] as number) < nextAt) {
          next = c;
          nextAt = c.segment.index.at[c.row] as number;
        }
      }
      const mem = inMemory[m];
      if (mem !== undefined && mem.scheduledAt <= nextAt) {
        m++;
        yield mem;
        continue;
      }
      if (next === null) return;
      const { segment, row } = next;
      next.row++;
      const { status, kind } = segment.index;
      const st = EXECUTION_STATUSES[status[row] as number] as ExecutionStatus;
      const id = segment.idAt(row);
      yield {
        id,
        scheduledAt: nextAt,
        kind: FIRE_KINDS[kind[row] as number] as FireKind,
        status: st,
        startedAt: RUN_STATUSES.has(status[row] as number) ? nextAt : (startedAt.get(id) ?? null),
      };
    }
  }
}

/** The status codes of rows that certainly ran (started and ended). */
const RUN_STATUSES: ReadonlySet<number> = new Set(
  (["succeeded", "failed", "timed_out"] as const).map((s) => EXECUTION_STATUSES.indexOf(s)),
);
const CANCELLED = EXECUTION_STATUSES.indexOf("cancelled");
