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
 * deleted.
 */

import { unlink } from "node:fs/promises";
import { type ExecutionStatus, type FireKind, sortInSlices, Turn } from "@tradecron/core";
import { fsyncDir, writeFileSynced } from "./atomic-write.js";
import type { CheckpointWriter } from "./execution-checkpoint.js";
import type { ExecutionStoreOptions } from "./execution-context.js";
import { renameOrThrow } from "./execution-files.js";
import type { LiveLog } from "./execution-live-log.js";
import type { ExecutionMemory } from "./execution-memory.js";
import type { Tombstones } from "./execution-tombstones.js";
import { segmentPath } from "./layout.js";
import { type MaintenanceQueue, yieldToLoop } from "./maintenance-queue.js";
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
  private compactionQueued = false;
  /** Bytes of segment files written by compaction (stats: what retention cost on disk). */
  compactedBytes = 0;

  constructor(private readonly parts: MergerParts) {}

  /**
   * Size-tiered compaction: when `mergeFanIn` segments fall in one size tier (tier t holds
   * segments of fewer than base * fanIn^(t+1) records), they are merged into one, so a store
   * keeps O(log n) segments however long it runs.
   */
  async mergeIfNeeded(): Promise<void> {
    const { options, memory, log } = this.parts;
    const fanIn = options.mergeFanIn;
    if (fanIn < 2 || log.closed) return;
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
      await this.merge(group);
      return this.mergeIfNeeded();
    }
  }

  /** Merges `sources` into one new segment without their dead rows, committed by the checkpoint. */
  private async merge(sources: Segment[]): Promise<void> {
    const { dir, memory, checkpoints, tombstones } = this.parts;
    const no = checkpoints.takeNo();
    const rows: SegmentRow[] = [];
    const turn = new Turn();
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
   * (the maintenance queue runs it after each seal and after prunes).
   */
  async compactDue(): Promise<void> {
    const { memory, log } = this.parts;
    for (;;) {
      if (log.closed) return;
      let pick: Segment | null = null;
      for (const s of memory.segments) {
        if (s.deadCount === 0 || s.deadCount < s.rows * COMPACT_DEAD_SHARE) continue;
        if (!pick || s.deadCount / s.rows > pick.deadCount / pick.rows) pick = s;
      }
      if (!pick) return;
      await this.compact(pick);
    }
  }

  /** Queues {@link Merger.compactDue} if a segment is due (once: a queued run sees later prunes). */
  maybeCompact(): void {
    const { memory, log, queue } = this.parts;
    if (this.compactionQueued || log.closed) return;
    if (!memory.segments.some((s) => s.deadCount > 0 && s.deadCount >= s.rows * COMPACT_DEAD_SHARE)) return;
    this.compactionQueued = true;
    queue.enqueue(async () => {
      this.compactionQueued = false;
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
