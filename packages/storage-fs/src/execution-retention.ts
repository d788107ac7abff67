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
} from "@tradecron/core";
import type { LiveLog } from "./execution-live-log.js";
import type { ExecutionMemory } from "./execution-memory.js";
import type { Tombstones } from "./execution-tombstones.js";
import { backgroundTurn } from "./maintenance-queue.js";
import { EXECUTION_STATUSES, FIRE_KINDS, isActiveStatus } from "./records.js";
import type { Segment } from "./segment.js";

/** Prunes the final executions of a schedule. */
export class Retention {
  /** What retention deletes next, per schedule (core's PruneQueue). */
  private readonly pruneQueue = new PruneQueue();

  /** @param pruned tells compaction a batch deleted rows (it queues the mostly dead segments' rewrite) */
  constructor(
    private readonly memory: ExecutionMemory,
    private readonly log: LiveLog,
    private readonly tombstones: Tombstones,
    private readonly pruned: () => void,
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
    this.pruned();
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
      const turn = backgroundTurn();
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
    return () => new InTimeOrder(memory, this.memoryInputs(scheduleId), scheduleId, startedAt);
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
}

/**
 * One pass over a schedule's executions, oldest first: a merge of the records in memory and each
 * live segment's rows of the schedule (sorted by time within a segment), skipping pruned rows as
 * it reaches them. `startedAt` holds what the records of cancelled rows said.
 *
 * Written as an iterator rather than a generator, and yielding rows that decode their id only
 * when asked, because a backlog pass walks every row twice: the generator's result objects and
 * an id string per row were most of the 333 MB a 200,000-row pass allocated (sampled; 178 MB
 * now), all of it garbage for the collector to keep up with while fires are due.
 */
class InTimeOrder implements IterableIterator<ProtectionInput, undefined> {
  private readonly inMemory: readonly ProtectionInput[];
  private readonly cursors: { segment: Segment; row: number; end: number }[] = [];
  private m = 0;
  /** One result object for the whole pass: `for...of` and the queue read it before the next call. */
  private readonly result: { done: false; value: ProtectionInput | undefined } = {
    done: false,
    value: undefined,
  };

  constructor(
    memory: ExecutionMemory,
    memoryInputs: readonly ProtectionInput[],
    scheduleId: string,
    private readonly startedAt: ReadonlyMap<string, number | null>,
  ) {
    this.inMemory = memoryInputs;
    for (const segment of memory.segments) {
      const k = segment.findSchedule(scheduleId);
      if (k < 0) continue;
      const { schedStart } = segment.index;
      this.cursors.push({ segment, row: schedStart[k] as number, end: schedStart[k + 1] as number });
    }
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<ProtectionInput, undefined> {
    const { result } = this;
    let next: { segment: Segment; row: number; end: number } | null = null;
    let nextAt = Number.POSITIVE_INFINITY;
    for (const c of this.cursors) {
      while (c.row < c.end && c.segment.isDead(c.row)) c.row++;
      if (c.row < c.end && (c.segment.index.at[c.row] as number) < nextAt) {
        next = c;
        nextAt = c.segment.index.at[c.row] as number;
      }
    }
    const mem = this.inMemory[this.m];
    if (mem !== undefined && mem.scheduledAt <= nextAt) {
      this.m++;
      result.value = mem;
      return result as IteratorYieldResult<ProtectionInput>;
    }
    if (next === null) return { done: true, value: undefined };
    const { segment, row } = next;
    next.row++;
    const st = segment.index.status[row] as number;
    // A cancelled row's start is what its record said (read before the pass); a run's is its
    // instant as far as the rule is concerned; other rows never started.
    const startedAt = RUN_STATUSES.has(st)
      ? nextAt
      : st === CANCELLED
        ? (this.startedAt.get(segment.idAt(row)) ?? null)
        : null;
    result.value = new SealedRow(segment, row, nextAt, segment.index.kind[row] as number, st, startedAt);
    return result as IteratorYieldResult<ProtectionInput>;
  }
}

/** A sealed row as the prune rule sees it, its id decoded from the index only when read. */
class SealedRow implements ProtectionInput {
  readonly kind: FireKind;
  readonly status: ExecutionStatus;

  constructor(
    private readonly segment: Segment,
    private readonly row: number,
    readonly scheduledAt: number,
    kind: number,
    status: number,
    readonly startedAt: number | null,
  ) {
    this.kind = FIRE_KINDS[kind] as FireKind;
    this.status = EXECUTION_STATUSES[status] as ExecutionStatus;
  }

  /** The index outlives the segment's retirement, so a row kept past a merge still reads it. */
  get id(): string {
    return this.segment.idAt(this.row);
  }
}

/** The status codes of rows that certainly ran (started and ended). */
const RUN_STATUSES: ReadonlySet<number> = new Set(
  (["succeeded", "failed", "timed_out"] as const).map((s) => EXECUTION_STATUSES.indexOf(s)),
);
const CANCELLED = EXECUTION_STATUSES.indexOf("cancelled");
