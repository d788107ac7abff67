/**
 * Keeping the segments few and free of pruned rows, in the background (the maintenance queue,
 * after each seal and after prunes):
 *
 * - Size-tiered merges: when `mergeFanIn` segments fall in one size tier, they are merged into
 *   one without their dead rows, so a store keeps O(log n) segments however long it runs.
 * - Compaction (segment-compaction.ts does the rewrite) of a segment once at least
 *   {@link COMPACT_DEAD_SHARE} of it is dead.
 *
 * Both are committed by the checkpoint like a seal: the new segment is written as `.pending`,
 * the checkpoint lists it and retires its sources, then the files are renamed and the sources
 * deleted. Both wait while retention is pruning (`rewriteQuietMs`, {@link REWRITE_QUIET_MS}).
 */

import { unlink } from "node:fs/promises";
import { type ExecutionStatus, type FireKind, sortInSlices } from "@tradecron/core";
import { fsyncDir, writeFileSynced } from "./atomic-write.js";
import type { CheckpointWriter } from "./execution-checkpoint.js";
import type { ExecutionStoreOptions } from "./execution-context.js";
import { renameOrThrow } from "./execution-files.js";
import type { LiveLog } from "./execution-live-log.js";
import type { ExecutionMemory } from "./execution-memory.js";
import type { Tombstones } from "./execution-tombstones.js";
import { segmentPath } from "./layout.js";
import { backgroundTurn, type MaintenanceQueue, yieldToLoop } from "./maintenance-queue.js";
import { EXECUTION_STATUSES, FIRE_KINDS } from "./records.js";
import { Segment } from "./segment.js";
import { compactSegment } from "./segment-compaction.js";
import { buildSegment, compareRows, type SegmentRow } from "./segment-index.js";

/**
 * A segment is rewritten without its pruned rows once at least this share of them is dead: every
 * rewrite at least halves the segment, so compaction copies each surviving byte about once
 * (at most twice) however a history is pruned, and pruned rows never take more than half of a
 * segment's disk space for long.
 */
export const COMPACT_DEAD_SHARE = 0.5;

/** True once at least {@link COMPACT_DEAD_SHARE} of `s` is dead: due for compaction. */
const halfDead = (s: Segment): boolean => s.deadCount > 0 && s.deadCount >= s.rows * COMPACT_DEAD_SHARE;

/**
 * Merges and compactions wait until no prune has come for `rewriteQuietMs` (FileStorage's
 * option, default {@link REWRITE_QUIET_MS}). Retention deletes
 * oldest first, so a segment half dead now is usually all dead a few batches later, and is then
 * dropped without a rewrite; rewriting it in between (a compaction at half dead, or a merge of
 * segments that pruning moved down a size tier) copied rows the same pass deletes next. Those
 * copies (reads, writes, fsyncs, a new index, one merge of 780 ms) were what delayed fires during
 * a backlog pass (bench/retention.bench.mjs, 200,000 rows).
 */
export const REWRITE_QUIET_MS = 2000;
/** ...but never for longer than this after the first rewrite it put off (ms). */
export const REWRITE_MAX_DEFER_MS = 30_000;

/** What {@link Merger} works with. */
export interface MergerParts {
  dir: string;
  options: ExecutionStoreOptions;
  memory: ExecutionMemory;
  checkpoints: CheckpointWriter;
  tombstones: Tombstones;
  queue: MaintenanceQueue;
  log: LiveLog;
}

/** Merges segments of one size tier and compacts the mostly pruned ones. */
export class Merger {
  private rewriteQueued = false;
  /** When the last prune batch deleted something (performance.now()), for the quiet period. */
  private lastPruneAt = Number.NEGATIVE_INFINITY;
  /** When the first rewrite still put off was due (null: none is). */
  private deferredSince: number | null = null;
  private deferTimer: NodeJS.Timeout | null = null;
  /** Bytes of segment files written by compaction (stats: what retention cost on disk). */
  compactedBytes = 0;

  constructor(private readonly parts: MergerParts) {}

  /**
   * Size-tiered compaction: when `mergeFanIn` segments fall in one size tier (tier t holds
   * segments of fewer than base * fanIn^(t+1) records), they are merged into one, so a store
   * keeps O(log n) segments however long it runs.
   */
  async mergeIfNeeded(): Promise<void> {
    for (let group = this.mergeGroup(); group !== null; group = this.mergeGroup()) await this.merge(group);
  }

  /** The first `mergeFanIn` segments of the lowest size tier that has that many, or null. */
  private mergeGroup(): Segment[] | null {
    const { options, memory, log } = this.parts;
    const fanIn = options.mergeFanIn;
    if (fanIn < 2 || log.closed) return null;
    const base = Math.max(1, Math.floor(options.segmentLines / 2));
    const tiers = new Map<number, Segment[]>();
    for (const s of memory.segments) {
      const tier = Math.max(0, Math.floor(Math.log(Math.max(1, s.live) / base) / Math.log(fanIn)));
      const list = tiers.get(tier) ?? [];
      list.push(s);
      tiers.set(tier, list);
    }
    for (const [, list] of [...tiers.entries()].sort((a, b) => a[0] - b[0])) {
      if (list.length < fanIn) continue;
      const group = list.slice(0, fanIn);
      if (group.reduce((n, s) => n + s.index.dataBytes, 0) > options.mergeMaxBytes) continue;
      return group;
    }
    return null;
  }

  /** Merges `sources` into one new segment without their dead rows, committed by the checkpoint. */
  private async merge(sources: Segment[]): Promise<void> {
    const { dir, memory, checkpoints, tombstones } = this.parts;
    const no = checkpoints.takeNo();
    const rows: SegmentRow[] = [];
    const turn = backgroundTurn();
    tombstones.buildStarted();
    for (const s of sources) {
      const buf = await s.readAllLines();
      const { off, at, status, kind, sched } = s.index;
      for (let r = 0; r < s.rows; r++) {
        if ((r & 1023) === 1023) await turn.maybeYield();
        if (s.isDead(r)) continue;
        rows.push({
          id: s.idAt(r),
          scheduleId: s.scheduleIdAt(sched[r] as number),
          scheduledAt: at[r] as number,
          status: EXECUTION_STATUSES[status[r] as number] as ExecutionStatus,
          kind: FIRE_KINDS[kind[r] as number] as FireKind,
          line: buf.subarray(off[r] as number, (off[r + 1] as number) - 1),
        });
      }
    }
    const merged = new Set(sources.map((s) => s.no));
    if (rows.length === 0) {
      // Everything pruned: the sources are retired without a successor.
      await checkpoints.write({
        ...checkpoints.current,
        nextNo: checkpoints.nextNo,
        segments: memory.segments.map((s) => s.no).filter((n) => !merged.has(n)),
        retired: [...merged],
      });
      memory.segments = memory.segments.filter((s) => !merged.has(s.no));
      tombstones.buildEnded(null);
      await this.retireSources(sources);
      return;
    }
    await sortInSlices(rows, compareRows, turn);
    const built = await buildSegment(rows, turn);
    await yieldToLoop();
    await writeFileSynced(segmentPath(dir, no, "jsonl", true), built.data);
    await writeFileSynced(segmentPath(dir, no, "idx", true), built.index);
    await checkpoints.write({
      ...checkpoints.current,
      nextNo: checkpoints.nextNo,
      segments: [...memory.segments.map((s) => s.no).filter((n) => !merged.has(n)), no],
      retired: [...merged],
    });
    await renameOrThrow(segmentPath(dir, no, "jsonl", true), segmentPath(dir, no, "jsonl"));
    await renameOrThrow(segmentPath(dir, no, "idx", true), segmentPath(dir, no, "idx"));
    const segment = await Segment.open(dir, no, built.index);
    memory.segments = [...memory.segments.filter((s) => !merged.has(s.no)), segment];
    tombstones.buildEnded(segment);
    await this.retireSources(sources);
  }

  /**
   * Compacts every segment that is at least {@link COMPACT_DEAD_SHARE} dead, most dead first
   * (queued by {@link Merger.maybeRewrite}).
   */
  async compactDue(): Promise<void> {
    const { memory, log } = this.parts;
    for (;;) {
      if (log.closed) return;
      let pick: Segment | null = null;
      for (const s of memory.segments) {
        if (!halfDead(s)) continue;
        if (!pick || s.deadCount / s.rows > pick.deadCount / pick.rows) pick = s;
      }
      if (!pick) return;
      await this.compact(pick);
    }
  }

  /** Tells the merger a prune batch just deleted rows: rewrites wait for a quiet moment. */
  pruned(): void {
    this.lastPruneAt = performance.now();
    this.maybeRewrite();
  }

  /**
   * Queues the merges and compactions that are due (once: a queued run sees later seals and
   * prunes), after `rewriteQuietMs` without prunes (at most {@link REWRITE_MAX_DEFER_MS}
   * after the first one put off). The seal calls it after each new segment.
   */
  maybeRewrite(): void {
    const { memory, log } = this.parts;
    if (this.rewriteQueued || log.closed) return;
    if (!memory.segments.some(halfDead) && this.mergeGroup() === null) {
      this.cancelDeferred();
      return;
    }
    const now = performance.now();
    this.deferredSince ??= now;
    const quietAt = this.lastPruneAt + this.parts.options.rewriteQuietMs;
    if (now < quietAt && now - this.deferredSince < REWRITE_MAX_DEFER_MS) {
      // Re-checked when the quiet period would end; a later prune moves that on again.
      if (this.deferTimer === null) {
        this.deferTimer = setTimeout(() => {
          this.deferTimer = null;
          this.maybeRewrite();
        }, quietAt - now);
        this.deferTimer.unref();
      }
      return;
    }
    this.queueRewrite();
  }

  /** Queues the rewrites {@link Merger.maybeRewrite} put off, now (idle: tests, benchmarks). */
  rewriteDeferred(): void {
    if (this.deferredSince === null || this.rewriteQueued) return;
    this.queueRewrite();
  }

  /** Forgets the rewrites put off (close: the next seal or prune after opening asks again). */
  cancelDeferred(): void {
    if (this.deferTimer !== null) clearTimeout(this.deferTimer);
    this.deferTimer = null;
    this.deferredSince = null;
  }

  private queueRewrite(): void {
    this.cancelDeferred();
    this.rewriteQueued = true;
    this.parts.queue.enqueue(async () => {
      this.rewriteQueued = false;
      await this.mergeIfNeeded();
      await this.compactDue();
    });
  }

  /**
   * Rewrites `source` without its dead rows (segment-compaction.ts), committed by the checkpoint
   * like a merge: a kill -9 leaves the old segment (its marks in the checkpoint or the log) or
   * the new one. A segment with no live row is retired without a successor.
   */
  private async compact(source: Segment): Promise<void> {
    const { dir, memory, checkpoints, tombstones } = this.parts;
    tombstones.buildStarted();
    const others = () => memory.segments.filter((s) => s !== source).map((s) => s.no);
    if (source.live === 0) {
      await checkpoints.write({
        ...checkpoints.current,
        nextNo: checkpoints.nextNo,
        segments: others(),
        retired: [source.no],
      });
      memory.segments = memory.segments.filter((s) => s !== source);
      tombstones.buildEnded(null);
      await this.retireSources([source]);
      return;
    }
    const no = checkpoints.takeNo();
    source.pin();
    let built: Awaited<ReturnType<typeof compactSegment>>;
    try {
      built = await compactSegment(source, segmentPath(dir, no, "jsonl", true));
      await writeFileSynced(segmentPath(dir, no, "idx", true), built.index);
    } finally {
      source.unpin();
    }
    // In the source's place: the list stays oldest first.
    const listed = memory.segments.map((s) => (s === source ? no : s.no));
    await checkpoints.write({
      ...checkpoints.current,
      nextNo: checkpoints.nextNo,
      segments: listed,
      retired: [source.no],
    });
    await renameOrThrow(segmentPath(dir, no, "jsonl", true), segmentPath(dir, no, "jsonl"));
    await renameOrThrow(segmentPath(dir, no, "idx", true), segmentPath(dir, no, "idx"));
    const segment = await Segment.open(dir, no, built.index);
    memory.segments = memory.segments.map((s) => (s === source ? segment : s));
    tombstones.buildEnded(segment);
    this.compactedBytes += built.dataBytes + built.index.length;
    await this.retireSources([source]);
  }

  private async retireSources(sources: Segment[]): Promise<void> {
    for (const s of sources) {
      s.retire();
      await unlink(s.dataPath).catch(() => {});
      await unlink(s.indexPath).catch(() => {});
    }
    await fsyncDir(this.parts.dir);
  }
}
