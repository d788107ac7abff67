/**
 * Retention deletes with tombstones: a pruned record of the logs is forgotten, a pruned sealed
 * row is marked dead in its segment (skipped by every read), and either way the batch is one
 * append of `del` lines to the live log (one group commit; execution-retention.ts). The marks of
 * sealed rows outlive the logs in `checkpoint.json` (row ranges per segment, written with every
 * seal, merge and compaction); compaction (segment-compaction.ts, scheduled by
 * execution-merging.ts) later rewrites a segment without its dead rows, in the background, once
 * at least COMPACT_DEAD_SHARE of it is dead (merges drop dead rows too). So a prune batch costs
 * its own size, never the size of a segment.
 */

import { type DeadRows, toRanges } from "./execution-files.js";
import type { ExecutionMemory } from "./execution-memory.js";
import type { Segment } from "./segment.js";

/** The dead-row marks of pruned executions. */
export class Tombstones {
  /**
   * Ids pruned while a seal, merge or compaction builds a segment (null when none does): they may
   * be in what it writes, so they are marked dead in the result when it is swapped in.
   */
  private kills: string[] | null = null;

  constructor(private readonly memory: ExecutionMemory) {}

  /**
   * Forgets the final record `id` (in a memtable) or marks its sealed row dead; false if neither
   * holds it. The caller has checked that it is not active.
   */
  mark(id: string): boolean {
    const { memory } = this;
    const gone =
      memory.dropFinal(memory.tail, id) ||
      (memory.sealing !== null && memory.dropFinal(memory.sealing, id)) ||
      memory.killSealed(id);
    if (!gone) return false;
    // A seal, merge or compaction may be writing it into a new segment right now.
    this.kills?.push(id);
    return true;
  }

  /** A seal, merge or compaction starts building a segment: prunes from now on are kept. */
  buildStarted(): void {
    this.kills = [];
  }

  /**
   * The build is over: marks dead in `segment` (its result, if any) what was pruned while it was
   * built, and stops keeping prunes.
   */
  buildEnded(segment: Segment | null): void {
    if (segment) {
      for (const id of this.kills ?? []) {
        const row = segment.findId(id);
        if (row >= 0) segment.kill(row);
      }
    }
    this.kills = null;
  }

  /** Marks the pruned rows the checkpoint lists (see {@link DeadRows}). */
  applyCheckpointMarks(dead: Record<string, DeadRows>): void {
    for (const segment of this.memory.segments) {
      const d = dead[String(segment.no)];
      if (!d || d.rows !== segment.rows) continue;
      for (let i = 0; i + 1 < d.ranges.length; i += 2) {
        const end = Math.min(d.ranges[i + 1] as number, segment.rows);
        for (let r = d.ranges[i] as number; r < end; r++) segment.kill(r);
      }
    }
  }

  /** The pruned rows of the listed segments, for the checkpoint. */
  checkpointMarks(listed: readonly number[]): Record<string, DeadRows> | undefined {
    const wanted = new Set(listed);
    let out: Record<string, DeadRows> | undefined;
    for (const s of this.memory.segments) {
      if (s.deadCount === 0 || !wanted.has(s.no)) continue;
      out ??= {};
      out[String(s.no)] = { rows: s.rows, ranges: toRanges(s.deadRowList()) };
    }
    return out;
  }
}
