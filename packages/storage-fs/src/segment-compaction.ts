/**
 * Compaction of one sealed segment: the same segment without the rows retention pruned. A prune
 * only marks rows dead (segment.ts) so that it costs one log append; this is where the disk space
 * comes back, in the background.
 *
 * It is cheap where a merge is not: the surviving rows are already in segment order and keep
 * their CRCs and id hashes, so the new index is the old one's columns with the dead rows left out
 * (a few typed-array passes, sliced so the event loop is never held for long), and the data file
 * is the old one's surviving byte runs, copied in chunks by asynchronous reads and writes: no
 * record is parsed or re-encoded, and memory stays at one chunk whatever the segment's size.
 */

import { open } from "node:fs/promises";
import type { FireKind } from "@tradecron/core";
import { writeAll } from "./atomic-write.js";
import { ioError } from "./errors.js";
import { backgroundTurn } from "./maintenance-queue.js";
import { FIRE_KINDS, isOwnFire } from "./records.js";
import type { Segment } from "./segment.js";
import { encodeIndex, rowColumns } from "./segment-index.js";

/** Rows handled between two looks at the clock. */
const SLICE_ROWS = 4096;
/** Bytes copied per read. */
const COPY_CHUNK = 1024 * 1024;

/** What {@link compactSegment} wrote. */
export interface Compacted {
  /** The new index file's bytes (not yet written). */
  index: Buffer;
  /** Rows kept. */
  rows: number;
  /** Bytes of the new data file. */
  dataBytes: number;
}

const OWN = Uint8Array.from(FIRE_KINDS, (k) => (isOwnFire(k as FireKind) ? 1 : 0));

/**
 * Writes `source` without its dead rows (as of the call) to `dataPath` (created, fsynced) and
 * returns the matching index. The caller pins `source` for the duration and commits the result.
 * Rows killed while it runs stay in the output; the caller marks them again afterwards.
 */
export async function compactSegment(source: Segment, dataPath: string): Promise<Compacted> {
  const ix = source.index;
  const n = ix.rows;
  const turn = backgroundTurn();
  // One snapshot of what is dead, so the index and the data agree.
  const keep = new Uint8Array(n);
  let m = 0;
  for (let r = 0; r < n; r++) {
    if (!source.isDead(r)) {
      keep[r] = 1;
      m++;
    }
  }
  const columns = rowColumns(m);
  const { at, off, status, kind, sched, crc, hash, idOff } = columns;
  const newRow = new Int32Array(n).fill(-1);
  const schedOld: number[] = [];
  const schedNew = new Int32Array(ix.schedules).fill(-1);
  const starts: number[] = [];
  const lastOwn: number[] = [];
  /** Byte runs of the old data file to copy: [start, end) pairs. */
  const runs: number[] = [];
  let idBytes = 0;
  for (let r = 0; r < n; r++)
    if (keep[r] === 1) idBytes += (ix.idOff[r + 1] as number) - (ix.idOff[r] as number);
  const ids = new Uint8Array(idBytes);
  let pos = 0;
  let idPos = 0;
  let minAt = Number.POSITIVE_INFINITY;
  let maxAt = Number.NEGATIVE_INFINITY;
  let j = 0;
  for (let r0 = 0; r0 < n; r0 += SLICE_ROWS) {
    const end = Math.min(n, r0 + SLICE_ROWS);
    for (let r = r0; r < end; r++) {
      if (keep[r] !== 1) continue;
      const s = ix.sched[r] as number;
      if (schedNew[s] === -1) {
        schedNew[s] = schedOld.length;
        schedOld.push(s);
        starts.push(j);
        lastOwn.push(Number.NaN);
      }
      const k = schedNew[s] as number;
      const when = ix.at[r] as number;
      const from = ix.off[r] as number;
      const to = ix.off[r + 1] as number;
      at[j] = when;
      off[j] = pos;
      status[j] = ix.status[r] as number;
      kind[j] = ix.kind[r] as number;
      sched[j] = k;
      crc[j] = ix.crc[r] as number;
      hash[j] = ix.hash[r] as number;
      idOff[j] = idPos;
      const i0 = ix.idOff[r] as number;
      const i1 = ix.idOff[r + 1] as number;
      // Byte by byte: an id is a few dozen bytes, and a subarray view per row was most of what
      // a compaction allocated (about 90 bytes a row, sampled).
      for (let b = i0; b < i1; b++) ids[idPos++] = ix.ids[b] as number;
      pos += to - from;
      if (when < minAt) minAt = when;
      if (when > maxAt) maxAt = when;
      if (OWN[ix.kind[r] as number] === 1) {
        const prev = lastOwn[k] as number;
        if (Number.isNaN(prev) || when > prev) lastOwn[k] = when;
      }
      if (runs.length > 0 && runs[runs.length - 1] === from) runs[runs.length - 1] = to;
      else runs.push(from, to);
      newRow[r] = j++;
    }
    await turn.maybeYield();
  }
  off[m] = pos;
  idOff[m] = idPos;
  starts.push(m);
  // The orderings keep their order with the dead rows left out (new row numbers are monotonic).
  const permute = async (order: Uint32Array): Promise<Uint32Array> => {
    const out = new Uint32Array(m);
    let w = 0;
    for (let i0 = 0; i0 < n; i0 += SLICE_ROWS * 4) {
      const end = Math.min(n, i0 + SLICE_ROWS * 4);
      for (let i = i0; i < end; i++) {
        const nr = newRow[order[i] as number] as number;
        if (nr >= 0) out[w++] = nr;
      }
      await turn.maybeYield();
    }
    return out;
  };
  const byHash = await permute(ix.byHash);
  const byTime = await permute(ix.byTime);
  const schedOff = new Uint32Array(schedOld.length + 1);
  let sp = 0;
  for (let k = 0; k < schedOld.length; k++) {
    const s = schedOld[k] as number;
    schedOff[k] = sp;
    sp += (ix.schedOff[s + 1] as number) - (ix.schedOff[s] as number);
  }
  schedOff[schedOld.length] = sp;
  const schedIds = new Uint8Array(sp);
  for (let k = 0; k < schedOld.length; k++) {
    const s = schedOld[k] as number;
    schedIds.set(
      ix.schedIds.subarray(ix.schedOff[s] as number, ix.schedOff[s + 1] as number),
      schedOff[k] as number,
    );
  }
  const index = encodeIndex(
    {
      ...columns,
      byHash,
      byTime,
      ids,
      schedOff,
      schedIds,
      schedStart: Uint32Array.from(starts),
      schedLastOwn: Float64Array.from(lastOwn),
    },
    {
      rows: m,
      schedules: schedOld.length,
      dataBytes: pos,
      minAt: m > 0 ? minAt : 0,
      maxAt: m > 0 ? maxAt : 0,
    },
  );
  await copyRuns(source, runs, dataPath);
  return { index, rows: m, dataBytes: pos };
}

/**
 * Copies the byte runs of `source`'s data file to a new file `path`, then fsyncs it. The old file
 * is read in windows of {@link COPY_CHUNK} bytes (many short runs cost one read, not one each).
 */
async function copyRuns(source: Segment, runs: readonly number[], path: string): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, "w", 0o644);
  } catch (error) {
    throw ioError("create", path, error);
  }
  try {
    let i = 0;
    let start = runs[0] as number;
    // Two buffers for the whole copy (what is read, what is written), not two per window.
    const window = Buffer.allocUnsafe(COPY_CHUNK);
    const kept = Buffer.allocUnsafe(COPY_CHUNK);
    while (i < runs.length) {
      const windowEnd = Math.min(start + COPY_CHUNK, runs[runs.length - 1] as number);
      const buf = await source.readRange(start, windowEnd - start, window);
      let n = 0;
      while (i < runs.length && (runs[i] as number) < windowEnd) {
        const from = Math.max(runs[i] as number, start);
        const to = Math.min(runs[i + 1] as number, windowEnd);
        n += buf.copy(kept, n, from - start, to - start);
        if ((runs[i + 1] as number) > windowEnd) break;
        i += 2;
      }
      await writeAll(fh, kept.subarray(0, n));
      // Where the next window starts: inside a run cut by this window, or at the next run.
      start = i < runs.length ? Math.max(runs[i] as number, windowEnd) : windowEnd;
    }
    await fh.sync();
  } catch (error) {
    throw ioError("write", path, error);
  } finally {
    await fh.close().catch(() => {});
  }
}
