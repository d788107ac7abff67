/**
 * Opening the executions folder. Opening reads the checkpoint, the segment indexes (compact
 * typed arrays: no JSON parsing of sealed records) and replays only the current log, so open
 * time does not grow with history. Start-up first puts the files in order (execution-files.ts);
 * here a damaged index is rebuilt from its data file, and without a checkpoint every segment on
 * disk is adopted and every log replayed (a fire already sealed is skipped).
 */

import { readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { type ExecutionRecord, mapInSlices, sortInSlices, Turn } from "@tradecron/core";
import { AppendLog } from "./append-log.js";
import { writeFileAtomic, writeFileSynced } from "./atomic-write.js";
import { ioError } from "./errors.js";
import type { CheckpointWriter } from "./execution-checkpoint.js";
import type { ExecutionContext, ExecutionStoreOptions } from "./execution-context.js";
import type { SettledFiles } from "./execution-files.js";
import type { ExecutionMemory } from "./execution-memory.js";
import { type Sealer, toRow } from "./execution-sealing.js";
import type { Tombstones } from "./execution-tombstones.js";
import { parseJsonLines } from "./jsonl.js";
import { CHECKPOINT_FILE, logFileName, segmentName, segmentPath } from "./layout.js";
import { recoverLog } from "./log-recovery.js";
import { deepFreeze, executionProblem, isActiveStatus, isOwnFire } from "./records.js";
import { type ScheduleStates, stateLineProblem } from "./schedule-states.js";
import { Segment, SegmentLoadProblem } from "./segment.js";
import { buildSegment, compareRows } from "./segment-index.js";

function logLineProblem(v: unknown): string | null {
  if (!v || typeof v !== "object") return "not a JSON object";
  const line = v as { op?: unknown; rec?: unknown; id?: unknown; state?: unknown; scheduleId?: unknown };
  if (line.op === "put") return executionProblem(line.rec) ?? stateLineProblem(line.state);
  if (line.op === "del") return typeof line.id === "string" ? null : "del without an id";
  if (line.op === "unstate")
    return typeof line.scheduleId === "string" ? null : "unstate without a scheduleId";
  return `unknown op ${String(line.op)}`;
}

/** What {@link Recovery} works with. */
export interface RecoveryParts {
  dir: string;
  ctx: ExecutionContext;
  options: ExecutionStoreOptions;
  memory: ExecutionMemory;
  states: ScheduleStates;
  checkpoints: CheckpointWriter;
  tombstones: Tombstones;
  sealer: Sealer;
}

/** Brings the store's memory up to what the folder holds, and starts the live log. */
export class Recovery {
  constructor(private readonly parts: RecoveryParts) {}

  /** Loads the segments, replays the logs and starts appending; `files`: as start-up settled them. */
  async run({ checkpoint, recovering, live, logs }: SettledFiles): Promise<void> {
    const { dir, memory, checkpoints, tombstones } = this.parts;
    const loaded: Segment[] = [];
    for (const no of live) {
      const s = await this.loadSegment(no);
      if (s) loaded.push(s);
    }
    memory.segments = recovering ? await this.dropDuplicateSegments(loaded) : loaded;
    if (checkpoint?.dead) tombstones.applyCheckpointMarks(checkpoint.dead);
    if (checkpoint) {
      for (const [id, at] of Object.entries(checkpoint.lastFire)) memory.lastFire.set(id, at);
    } else {
      for (const s of memory.segments) memory.noteSegmentLastFires(s);
      // Rebuilt from the files: every log is replayed (sealed fires are skipped), so the
      // checkpoint written below starts from sealedThrough 0 with the adopted segments.
      checkpoints.current = {
        ...checkpoints.current,
        segments: memory.segments.map((s) => s.no),
        lastFire: Object.fromEntries(memory.lastFire),
      };
    }

    // Logs: delete the sealed ones, replay the rest in order.
    const sealedThrough = checkpoint?.sealedThrough ?? 0;
    const replay = logs.filter((no) => no > sealedThrough).sort((a, b) => a - b);
    for (const no of logs) if (no <= sealedThrough) await unlink(join(dir, logFileName(no))).catch(() => {});
    let lastLines = 0;
    const released = new Set<string>();
    for (const no of replay) lastLines = await this.replayLog(no, released);
    // A released claim leaves no trace: the last fire of its schedule is what remains.
    for (const scheduleId of released) memory.recomputeLastFire(scheduleId);
    await this.startTail(replay, lastLines, recovering || checkpoint === null);
  }

  private async loadSegment(no: number): Promise<Segment | null> {
    const { dir, ctx } = this.parts;
    try {
      return await Segment.open(dir, no);
    } catch (error) {
      if (!(error instanceof SegmentLoadProblem)) throw error;
      if (error.missing === "data") {
        await ctx.quarantine.note(
          error.file,
          "missing",
          `${CHECKPOINT_FILE} lists ${segmentName(no)} but its data file is gone: its executions are lost`,
        );
        await unlink(segmentPath(dir, no, "idx")).catch(() => {});
        return null;
      }
      return this.rebuildSegment(no, error.reason);
    }
  }

  /** Rebuilds a segment's index from its data file, repairing the data if lines are damaged. */
  private async rebuildSegment(no: number, why: string): Promise<Segment | null> {
    const { dir, ctx } = this.parts;
    const dataPath = segmentPath(dir, no, "jsonl");
    const indexPath = segmentPath(dir, no, "idx");
    let buf: Buffer;
    try {
      buf = await readFile(dataPath);
    } catch (error) {
      throw ioError("read", dataPath, error);
    }
    const parsed = parseJsonLines(buf, (v) => {
      const p = executionProblem(v);
      if (p) return p;
      return isActiveStatus((v as ExecutionRecord).status) ? "an active execution in a sealed segment" : null;
    });
    const bad = [...parsed.corrupt.map((b) => `line ${b.lineNo}: ${b.reason}`)];
    if (parsed.tailReason) bad.push(parsed.tailReason);
    if (bad.length > 0) {
      await ctx.quarantine.keepCopy(
        dataPath,
        "corrupt",
        `${bad.join("; ")}; the segment was rewritten without them (index: ${why})`,
      );
    }
    const turn = new Turn();
    const rows = await sortInSlices(
      await mapInSlices(parsed.good, (g) => toRow(g.value as ExecutionRecord, null), turn),
      compareRows,
      turn,
    );
    const built = await buildSegment(rows, turn);
    if (bad.length > 0) await writeFileSynced(dataPath, built.data);
    await writeFileAtomic(indexPath, built.index);
    return Segment.open(dir, no, built.index);
  }

  /**
   * Without a checkpoint every segment on disk is adopted; a crash between a merge's commit and
   * its clean-up could then leave a merged segment next to its sources. Segments whose ids all
   * occur in a larger one are such sources: they are set aside.
   */
  private async dropDuplicateSegments(segments: Segment[]): Promise<Segment[]> {
    if (segments.length < 2) return segments;
    const owner = new Map<string, number>();
    const keep: Segment[] = [];
    for (const s of [...segments].sort((a, b) => b.rows - a.rows)) {
      let seen = 0;
      let by = -1;
      for (let r = 0; r < s.rows; r++) {
        const o = owner.get(s.idAt(r));
        if (o !== undefined) {
          seen++;
          by = o;
        }
      }
      if (s.rows > 0 && seen === s.rows) {
        await s.close();
        await this.parts.ctx.quarantine.moveFile(
          s.dataPath,
          "foreign",
          `every record of ${s.name} is also in ${segmentName(by)} (left by an interrupted merge)`,
        );
        await unlink(s.indexPath).catch(() => {});
        continue;
      }
      for (let r = 0; r < s.rows; r++) owner.set(s.idAt(r), s.no);
      keep.push(s);
    }
    return keep.sort((a, b) => a.no - b.no);
  }

  /** Replays log `no` into the current memtable. Returns its line count. */
  private async replayLog(no: number, released: Set<string>): Promise<number> {
    const { dir, ctx, memory, states } = this.parts;
    const path = join(dir, logFileName(no));
    const log = await recoverLog(path, ctx.quarantine, logLineProblem);
    // State lines of logs the state file already covers are not applied again.
    const applyStates = no > states.through;
    for (const value of log?.values ?? []) {
      const line = value as
        | { op: "put"; rec: ExecutionRecord; state?: unknown }
        | { op: "del"; id: string }
        | { op: "unstate"; scheduleId: string };
      if (line.op === "unstate") {
        if (applyStates) states.delete(line.scheduleId);
        continue;
      }
      if (line.op === "put" && line.state !== undefined && applyStates) {
        states.set((line.state as { scheduleId: string }).scheduleId, deepFreeze(line.state));
      }
      if (line.op === "del") {
        const gone = memory.dropActive(line.id);
        if (gone && isOwnFire(gone.kind)) released.add(gone.scheduleId);
        // A final record that retention deleted (never the last fire: see prune.ts), in the logs
        // or sealed.
        if (!gone && !memory.dropFinal(memory.tail, line.id)) memory.killSealed(line.id);
      }
      // A fire already sealed is a log a crash left behind after its seal committed: skip it.
      else if (!memory.sealedAlready(line.rec)) {
        memory.applyPut(deepFreeze(line.rec), null);
      }
    }
    memory.tail.logs.push(no);
    return log?.lines ?? 0;
  }

  /**
   * Starts appending. One short log continues as the live log; otherwise (several logs after a
   * crash mid-seal, or a long one) a fresh log starts and the replayed ones are sealed.
   */
  private async startTail(replayed: number[], lastLines: number, rewriteCheckpoint: boolean): Promise<void> {
    const { dir, ctx, options, memory, checkpoints, sealer } = this.parts;
    const onFailure = (error: Error) => ctx.fail(error);
    if (replayed.length === 1 && lastLines < options.segmentLines) {
      memory.tail.log = await AppendLog.open(join(dir, logFileName(replayed[0] as number)), {
        lines: lastLines,
        onFailure,
        inline: options.inlineCommits,
      });
    } else if (replayed.length === 0) {
      const no = checkpoints.takeNo();
      memory.tail.logs.push(no);
      memory.tail.log = await AppendLog.open(join(dir, logFileName(no)), {
        onFailure,
        inline: options.inlineCommits,
      });
    } else {
      if (rewriteCheckpoint) await checkpoints.write({ ...checkpoints.current, nextNo: checkpoints.nextNo });
      // Several logs (a crash during a seal) or a long one: seal them in the background.
      await sealer.sealReplayed();
      return;
    }
    if (rewriteCheckpoint) await checkpoints.write({ ...checkpoints.current, nextNo: checkpoints.nextNo });
  }
}
