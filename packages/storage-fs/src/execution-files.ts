/**
 * The files of the executions folder, and putting them in order at start-up. `checkpoint.json`
 * is the commit point of every seal and merge: it lists the live segments, the last log already
 * sealed into them, and the last-fire time of every schedule as of that log. Start-up finishes
 * or undoes whatever a crash interrupted:
 *
 * - `seg-<n>.*.pending` files: written by a seal or merge before its checkpoint. Listed in the
 *   checkpoint: the commit happened, finish the rename. Not listed: it did not, delete them (their
 *   records are still in the logs or the source segments).
 * - segments the checkpoint lists as `retired` (merged into another): delete them.
 * - a segment on disk the checkpoint does not list: not ours to trust, quarantine it.
 * - temp files: interrupted atomic writes, never acknowledged: delete them.
 * - anything else: foreign, quarantine it.
 *
 * Without a readable checkpoint every complete segment is adopted (recovery).
 */

import { readdir, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic-write.js";
import { ioError, sysCode } from "./errors.js";
import { CHECKPOINT_FILE, classifyExecutionFile, segmentName, segmentPath } from "./layout.js";
import type { Quarantine } from "./quarantine.js";

/** The content of `executions/checkpoint.json`. */
export interface Checkpoint {
  format: 1;
  /** Every log numbered up to this one is sealed into `segments`. */
  sealedThrough: number;
  /** The next file number to use. */
  nextNo: number;
  /** Live segments, oldest first. */
  segments: number[];
  /** Segments replaced by a merge, to delete if a crash left them behind. */
  retired: number[];
  /** Latest own-fire instant per schedule, as of `sealedThrough`. */
  lastFire: Record<string, number>;
  /**
   * Rows of live segments that retention pruned and compaction has not yet rewritten away, by
   * segment number (later prunes are `del` lines of the logs after `sealedThrough`). Absent: none.
   */
  dead?: Record<string, DeadRows>;
}

/**
 * The pruned rows of one segment: `[start, end)` row ranges, flattened. `rows` is the segment's
 * row count when they were recorded: an index rebuilt with fewer rows (damaged lines dropped)
 * has other row numbers, and the marks are then not applied (nothing kept is ever deleted).
 */
export interface DeadRows {
  rows: number;
  ranges: number[];
}

/** The row ranges of `rows` (ascending row numbers), flattened [start, end) pairs. */
export function toRanges(rows: readonly number[]): number[] {
  const out: number[] = [];
  for (const r of rows) {
    if (out.length > 0 && out[out.length - 1] === r) out[out.length - 1] = r + 1;
    else out.push(r, r + 1);
  }
  return out;
}

function deadProblem(v: unknown): string | null {
  if (v === undefined) return null;
  if (!v || typeof v !== "object") return "bad dead list";
  for (const [no, d] of Object.entries(v as Record<string, Partial<DeadRows>>)) {
    if (!/^\d+$/.test(no) || !d || !Number.isInteger(d.rows) || !Array.isArray(d.ranges))
      return "bad dead list";
    const ranges = d.ranges as unknown[];
    if (ranges.length % 2 !== 0 || !ranges.every((x) => Number.isInteger(x) && (x as number) >= 0))
      return "bad dead ranges";
  }
  return null;
}

/** Null if `v` is a usable checkpoint, else why not. */
export function checkpointProblem(v: unknown): string | null {
  const c = v as Partial<Checkpoint> | null;
  if (!c || typeof c !== "object") return "not a JSON object";
  if (c.format !== 1) return `unknown checkpoint format ${String(c.format)}`;
  if (!Number.isInteger(c.sealedThrough) || !Number.isInteger(c.nextNo)) return "missing counters";
  if (!Array.isArray(c.segments) || !c.segments.every(Number.isInteger)) return "bad segment list";
  if (!Array.isArray(c.retired) || !c.retired.every(Number.isInteger)) return "bad retired list";
  if (!c.lastFire || typeof c.lastFire !== "object") return "bad lastFire";
  return deadProblem(c.dead);
}

/** Replaces the checkpoint atomically and durably: the commit point of seals and merges. */
export async function writeCheckpoint(dir: string, checkpoint: Checkpoint): Promise<void> {
  await writeFileAtomic(join(dir, CHECKPOINT_FILE), `${JSON.stringify(checkpoint)}\n`);
}

/** Renames, wrapping a failure in a StorageError naming the file. */
export async function renameOrThrow(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    throw ioError("rename", from, error);
  }
}

/** The executions folder after start-up put it in order. */
export interface SettledFiles {
  /** The checkpoint, or null when there is none or it was quarantined. */
  checkpoint: Checkpoint | null;
  /** True when segments must be adopted without a checkpoint. */
  recovering: boolean;
  /** Segments to load, oldest first. */
  live: number[];
  /** Log numbers present. */
  logs: number[];
  /** The highest file number seen. */
  maxSeen: number;
}

/** Lists, classifies and settles the files of the executions folder `dir` (see above). */
export async function settleExecutionFiles(dir: string, quarantine: Quarantine): Promise<SettledFiles> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw ioError("list", dir, error);
  }
  const logs: number[] = [];
  const data = new Map<number, { final: boolean; pending: boolean }>();
  const index = new Map<number, { final: boolean; pending: boolean }>();
  let hasCheckpoint = false;
  for (const name of names) {
    const c = classifyExecutionFile(name);
    const path = join(dir, name);
    if (c.kind === "checkpoint") hasCheckpoint = true;
    else if (c.kind === "state")
      continue; // read by the schedule states (schedule-states.ts)
    else if (c.kind === "temp") await unlink(path).catch(() => {});
    else if (c.kind === "log") logs.push(c.no);
    else if (c.kind === "segment-data" || c.kind === "segment-index") {
      const map = c.kind === "segment-data" ? data : index;
      const entry = map.get(c.no) ?? { final: false, pending: false };
      if (c.pending) entry.pending = true;
      else entry.final = true;
      map.set(c.no, entry);
    } else {
      await quarantine.moveFile(path, "foreign", "not a file the store writes in executions/");
    }
  }

  let checkpoint: Checkpoint | null = null;
  const cpPath = join(dir, CHECKPOINT_FILE);
  if (hasCheckpoint) {
    let problem: string | null;
    let value: unknown = null;
    try {
      value = JSON.parse(await readFile(cpPath, "utf8"));
      problem = checkpointProblem(value);
    } catch (error) {
      if (sysCode(error) && sysCode(error) !== "ENOENT") throw ioError("read", cpPath, error);
      problem = `not valid JSON (${error instanceof Error ? error.message : String(error)})`;
    }
    if (problem === null) checkpoint = value as Checkpoint;
    else {
      await quarantine.moveFile(
        cpPath,
        "corrupt",
        `${problem}; the segment list and last-fire times are rebuilt from the segment files`,
      );
    }
  }
  const recovering = checkpoint === null && (data.size > 0 || hasCheckpoint);
  const segNos = (m: Map<number, { final: boolean; pending: boolean }>) => [...m.keys()];
  const maxSeen = Math.max(0, ...logs, ...segNos(data), ...segNos(index));

  // Segments: finish renames the last seal committed, drop uncommitted ones, pick the live list.
  const listed = new Set(checkpoint?.segments ?? []);
  const retired = new Set(checkpoint?.retired ?? []);
  for (const no of new Set([...data.keys(), ...index.keys()])) {
    for (const [ext, map] of [
      ["jsonl", data],
      ["idx", index],
    ] as const) {
      const entry = map.get(no);
      if (!entry?.pending) continue;
      if (listed.has(no) && !entry.final) {
        await renameOrThrow(segmentPath(dir, no, ext, true), segmentPath(dir, no, ext));
        entry.final = true;
      } else {
        await unlink(segmentPath(dir, no, ext, true)).catch(() => {});
      }
      entry.pending = false;
    }
  }
  for (const no of retired) {
    if (listed.has(no)) continue;
    await unlink(segmentPath(dir, no, "jsonl")).catch(() => {});
    await unlink(segmentPath(dir, no, "idx")).catch(() => {});
    data.delete(no);
    index.delete(no);
  }
  let live: number[];
  if (checkpoint) {
    live = checkpoint.segments;
    for (const [no, entry] of data) {
      if (!entry.final || listed.has(no)) continue;
      await quarantine.moveFile(
        segmentPath(dir, no, "jsonl"),
        "foreign",
        `segment ${segmentName(no)} is not listed in ${CHECKPOINT_FILE}`,
      );
      if (index.get(no)?.final) await unlink(segmentPath(dir, no, "idx")).catch(() => {});
    }
    for (const [no, entry] of index) {
      if (entry.final && !listed.has(no) && !data.get(no)?.final)
        await unlink(segmentPath(dir, no, "idx")).catch(() => {});
    }
  } else {
    live = [...data.entries()]
      .filter(([, e]) => e.final)
      .map(([no]) => no)
      .sort((a, b) => a - b);
    for (const [no, entry] of index) {
      if (entry.final && !data.get(no)?.final) await unlink(segmentPath(dir, no, "idx")).catch(() => {});
    }
  }
  return { checkpoint, recovering, live, logs, maxSeen };
}
