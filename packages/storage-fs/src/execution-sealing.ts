/**
 * Sealing. When the log reaches `segmentLines` lines, a new log starts (carrying the active
 * executions forward as its first lines) and the old one is *sealed* in the background: its
 * final records (an execution never changes once final) are written sorted by (scheduleId,
 * scheduledAt) to `seg-<n>.jsonl` with a binary index `seg-<n>.idx`, then `checkpoint.json` is
 * replaced to list the segment, then the old log is deleted. The checkpoint write is the commit
 * point. After each seal the merges and compactions that are due run (execution-merging.ts).
 */

import { unlink } from "node:fs/promises";
import { join } from "node:path";
import { type ExecutionRecord, mapInSlices, sortInSlices } from "@tradecron/core";
import { AppendLog } from "./append-log.js";
import { fsyncDir, writeFileSynced } from "./atomic-write.js";
import type { CheckpointWriter } from "./execution-checkpoint.js";
import type { ExecutionContext, ExecutionStoreOptions } from "./execution-context.js";
import { type Checkpoint, renameOrThrow } from "./execution-files.js";
import type { LiveLog } from "./execution-live-log.js";
import { type ExecutionMemory, type Memtable, putLine } from "./execution-memory.js";
import type { Merger } from "./execution-merging.js";
import type { Tombstones } from "./execution-tombstones.js";
import { logFileName, segmentPath } from "./layout.js";
import { backgroundTurn, type MaintenanceQueue } from "./maintenance-queue.js";
import type { ScheduleStates } from "./schedule-states.js";
import { Segment } from "./segment.js";
import { buildSegment, compareRows, type SegmentRow } from "./segment-index.js";

/** The old logs a swap took out of the live path, and what their seal needs of that moment. */
interface Swapped {
  old: Memtable;
  lastFire: Map<string, number>;
  /** Durable once the active records carried into the new log are. */
  carried: Promise<void>;
  states: Map<string, unknown>;
}

/** What {@link Sealer} works with. */
export interface SealerParts {
  dir: string;
  ctx: ExecutionContext;
  options: ExecutionStoreOptions;
  memory: ExecutionMemory;
  states: ScheduleStates;
  checkpoints: CheckpointWriter;
  tombstones: Tombstones;
  queue: MaintenanceQueue;
  merger: Merger;
  log: LiveLog;
}

/** Starts new logs and seals the old ones into segments. */
export class Sealer {
  private rotating = false;

  constructor(private readonly parts: SealerParts) {}

  /** Queues a rotation if the live log is due for sealing (called after every append). */
  maybeRotate(): void {
    const { memory, log, options, queue } = this.parts;
    if (this.rotating || memory.sealing || log.closed) return;
    const { tail } = memory;
    if (countedLines(tail) < options.segmentLines) return;
    this.rotating = true;
    queue.enqueue(() => this.rotate());
  }

  /** At open: starts a fresh log and queues the seal of the replayed ones. */
  async sealReplayed(): Promise<void> {
    this.rotating = true;
    const swapped = await this.swapLogs();
    this.rotating = false;
    this.parts.queue.enqueue(() => this.seal(swapped));
  }

  /** Starts a new log and seals the old one(s). Runs in the maintenance queue. */
  private async rotate(): Promise<void> {
    const swapped = await this.swapLogs();
    this.rotating = false;
    await this.seal(swapped);
  }

  /**
   * Opens the next log and makes it the live one. The active executions are carried forward as
   * its first lines, so the new log plus the segments is the whole truth once the old log is
   * sealed.
   */
  private async swapLogs(): Promise<Swapped> {
    const { dir, ctx, options, memory, checkpoints } = this.parts;
    const no = checkpoints.takeNo();
    const log = await AppendLog.open(join(dir, logFileName(no)), {
      onFailure: (error) => ctx.fail(error),
      inline: options.inlineCommits,
    });
    // From here to the carry-forward everything is synchronous: it is the boundary between logs.
    const old = memory.tail;
    memory.tail = {
      logs: [no],
      log,
      carried: memory.active.size,
      dels: 0,
      finals: new Map(),
      fires: new Map(),
    };
    memory.sealing = old;
    const lastFire = new Map(memory.lastFire);
    // The states as of the end of the old logs: what the seal compacts into the state file.
    const states = this.parts.states.snapshot();
    let carried = 0;
    for (const record of memory.active.values()) carried = log.append(putLine(JSON.stringify(record)));
    return { old, lastFire, carried: log.durable(carried), states };
  }

  private async seal({ old: mem, lastFire, carried, states }: Swapped): Promise<void> {
    const { dir, memory, checkpoints, tombstones, merger } = this.parts;
    // The sealed logs must be durable, and so must the carried-forward active records in the new
    // log, before the checkpoint says the old logs are no longer needed.
    if (mem.log) await mem.log.close();
    await carried;
    const through = Math.max(...mem.logs);
    // From here on a prune of one of these records marks it dead in the new segment.
    tombstones.buildStarted();
    const turn = backgroundTurn();
    const rows = await sortInSlices(
      await mapInSlices([...mem.finals.values()], (f) => toRow(f.record, f.json), turn),
      compareRows,
      turn,
    );
    const segments = memory.segments.map((s) => s.no);
    let built: { data: Buffer; index: Buffer } | null = null;
    if (rows.length > 0) {
      built = await buildSegment(rows, turn);
      await writeFileSynced(segmentPath(dir, through, "jsonl", true), built.data);
      await writeFileSynced(segmentPath(dir, through, "idx", true), built.index);
      segments.push(through);
    }
    // Before the checkpoint lets the old logs go: the states their lines hold must be in the file.
    await this.parts.states.compact(states, through);
    // The commit point: one atomic replace (its folder fsync also makes the .pending names durable).
    const checkpoint: Checkpoint = {
      ...checkpoints.current,
      sealedThrough: through,
      nextNo: checkpoints.nextNo,
      segments,
      retired: [],
      lastFire: Object.fromEntries(lastFire),
    };
    await checkpoints.write(checkpoint);
    if (built) {
      await renameOrThrow(segmentPath(dir, through, "jsonl", true), segmentPath(dir, through, "jsonl"));
      await renameOrThrow(segmentPath(dir, through, "idx", true), segmentPath(dir, through, "idx"));
    }
    for (const no of mem.logs) await unlink(join(dir, logFileName(no))).catch(() => {});
    await fsyncDir(dir);
    const segment = built ? await Segment.open(dir, through, built.index) : null;
    // Swap in one synchronous step: readers see the records in `sealing` or in the segment.
    if (segment) memory.segments.push(segment);
    tombstones.buildEnded(segment);
    memory.sealing = null;
    merger.maybeRewrite();
    this.maybeRotate();
  }
}

/** The segment row of a record (`json`: its JSON if known). */
export function toRow(record: ExecutionRecord, json: string | null): SegmentRow {
  return {
    id: record.id,
    scheduleId: record.scheduleId,
    scheduledAt: record.scheduledAt,
    status: record.status,
    kind: record.kind,
    line: Buffer.from(json ?? JSON.stringify(record), "utf8"),
  };
}

/** How many of a memtable's log lines count towards the seal threshold (see Memtable.dels). */
export function countedLines(mem: Memtable): number {
  return (mem.log?.lines ?? 0) - mem.carried - mem.dels + Math.ceil(mem.dels / DEL_WEIGHT);
}

/** How many `del` lines count as one line towards the seal threshold. */
const DEL_WEIGHT = 8;
