/**
 * A sealed execution segment: an immutable JSON Lines file of final executions plus its binary
 * index (see segment-index.ts). Lookups run on the index in memory; records are read from the
 * data file on demand, each line checked against its CRC-32 before it is parsed.
 *
 * Rows pruned by retention are marked dead in memory (a bitmap over the rows) and skipped by every
 * lookup; the files stay as they are until compaction rewrites the segment without them (see
 * segment-compaction.ts). The marks are durable as `del` lines in the execution log.
 */

import { type FileHandle, open, readFile, stat } from "node:fs/promises";
import type { ExecutionRecord } from "@tradecron/core";
import { crc32, fnv1a } from "./crc32.js";
import { ioError, storageError } from "./errors.js";
import { segmentName, segmentPath } from "./layout.js";
import { executionProblem, thaw } from "./records.js";
import { decodeIndex, type SegmentIndex } from "./segment-index.js";

/** Reads of a page's rows spanning at most this many bytes are done as one read. */
const SPAN_READ_MAX = 256 * 1024;

/** Why a segment could not be loaded from its files. */
export class SegmentLoadProblem extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    readonly missing: "data" | "index" | null,
  ) {
    super(`${file}: ${reason}`);
  }
}

/** One sealed segment, open for reading. */
export class Segment {
  /** Base name (`seg-<n>`). */
  readonly name: string;
  readonly dataPath: string;
  readonly indexPath: string;
  private readonly ids: Buffer;
  private readonly schedIds: Buffer;
  private inflight = 0;
  private retired = false;
  private closed = false;
  /** 1 for a row retention pruned (null until the first). */
  private dead: Uint8Array | null = null;
  private deadRows = 0;

  private constructor(
    dir: string,
    /** Segment number. */
    readonly no: number,
    /** The decoded index. */
    readonly index: SegmentIndex,
    private readonly fh: FileHandle,
  ) {
    this.name = segmentName(no);
    this.dataPath = segmentPath(dir, no, "jsonl");
    this.indexPath = segmentPath(dir, no, "idx");
    this.ids = Buffer.from(index.ids.buffer, index.ids.byteOffset, index.ids.byteLength);
    this.schedIds = Buffer.from(index.schedIds.buffer, index.schedIds.byteOffset, index.schedIds.byteLength);
  }

  /**
   * Opens segment `no` in `dir`. `indexBytes` skips reading the index file (a segment just
   * written). Throws {@link SegmentLoadProblem} when a file is missing, damaged or stale.
   */
  static async open(dir: string, no: number, indexBytes?: Buffer): Promise<Segment> {
    const dataPath = segmentPath(dir, no, "jsonl");
    const indexPath = segmentPath(dir, no, "idx");
    let size: number;
    try {
      size = (await stat(dataPath)).size;
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") {
        throw new SegmentLoadProblem(dataPath, "the data file is missing", "data");
      }
      throw ioError("inspect", dataPath, error);
    }
    let bytes = indexBytes;
    if (!bytes) {
      try {
        bytes = await readFile(indexPath);
      } catch (error) {
        if ((error as { code?: string }).code === "ENOENT") {
          throw new SegmentLoadProblem(indexPath, "the index is missing", "index");
        }
        throw ioError("read", indexPath, error);
      }
    }
    const index = decodeIndex(bytes);
    if (typeof index === "string") throw new SegmentLoadProblem(indexPath, index, null);
    if (index.dataBytes !== size) {
      throw new SegmentLoadProblem(
        indexPath,
        `the index describes ${index.dataBytes} bytes of data but ${dataPath} has ${size}`,
        null,
      );
    }
    let fh: FileHandle;
    try {
      fh = await open(dataPath, "r");
    } catch (error) {
      throw ioError("open", dataPath, error);
    }
    return new Segment(dir, no, index, fh);
  }

  /** Number of records. */
  get rows(): number {
    return this.index.rows;
  }

  /** Rows pruned but still in the files (see the module comment). */
  get deadCount(): number {
    return this.deadRows;
  }

  /** Rows not pruned. */
  get live(): number {
    return this.index.rows - this.deadRows;
  }

  /** True if `row` was pruned. */
  isDead(row: number): boolean {
    return this.dead !== null && this.dead[row] === 1;
  }

  /** Marks `row` pruned; false if it already was. */
  kill(row: number): boolean {
    if (this.dead === null) this.dead = new Uint8Array(this.index.rows);
    if (this.dead[row] === 1) return false;
    this.dead[row] = 1;
    this.deadRows++;
    return true;
  }

  /** The pruned rows, ascending. */
  deadRowList(): number[] {
    const out: number[] = [];
    const dead = this.dead;
    if (dead === null) return out;
    for (let r = 0; r < dead.length; r++) if (dead[r] === 1) out.push(r);
    return out;
  }

  /** The id of the record in `row`. */
  idAt(row: number): string {
    const o = this.index.idOff;
    return this.ids.toString("utf8", o[row] as number, o[row + 1] as number);
  }

  /** The schedule id of schedule number `k`. */
  scheduleIdAt(k: number): string {
    const o = this.index.schedOff;
    return this.schedIds.toString("utf8", o[k] as number, o[k + 1] as number);
  }

  /** The schedule number of `scheduleId`, or -1. */
  findSchedule(scheduleId: string): number {
    let lo = 0;
    let hi = this.index.schedules - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.scheduleIdAt(mid);
      if (s === scheduleId) return mid;
      if (s < scheduleId) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The row of fire (scheduleId, scheduledAt), or -1; a pruned row only with `withDead`. */
  findFire(scheduleId: string, scheduledAt: number, withDead = false): number {
    if (this.index.rows === 0 || scheduledAt < this.index.minAt || scheduledAt > this.index.maxAt) return -1;
    const k = this.findSchedule(scheduleId);
    if (k < 0) return -1;
    const at = this.index.at;
    let lo = this.index.schedStart[k] as number;
    let hi = this.index.schedStart[k + 1] as number;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((at[mid] as number) < scheduledAt) lo = mid + 1;
      else hi = mid;
    }
    // A pruned fire claimed again (a backfill) can sit next to its dead row after a merge.
    const end = this.index.schedStart[k + 1] as number;
    for (let r = lo; r < end && at[r] === scheduledAt; r++) if (withDead || !this.isDead(r)) return r;
    return -1;
  }

  /** The row of execution `id`, or -1; a pruned row only with `withDead`. */
  findId(id: string, withDead = false): number {
    const { hash, byHash, rows } = this.index;
    const h = fnv1a(id);
    let lo = 0;
    let hi = rows;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((hash[byHash[mid] as number] as number) < h) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < rows; i++) {
      const row = byHash[i] as number;
      if (hash[row] !== h) break;
      if (this.idAt(row) === id) return withDead || !this.isDead(row) ? row : -1;
    }
    return -1;
  }

  /**
   * Reads the record in `row`, checking its CRC and shape. Call it synchronously after the lookup
   * that found the row: that pins the segment, so a merge that retires it meanwhile waits.
   */
  async read(row: number): Promise<ExecutionRecord> {
    return (await this.readRows([row]))[0] as ExecutionRecord;
  }

  /**
   * Reads several records. Rows whose lines lie close together (a page of one schedule's history
   * is one contiguous run) are fetched with a single read of the span. Pins the segment like
   * {@link read}.
   */
  async readRows(rows: readonly number[]): Promise<ExecutionRecord[]> {
    if (this.closed) {
      throw storageError("STORAGE", `segment ${this.dataPath} was closed`, this.dataPath);
    }
    this.inflight++;
    try {
      const off = this.index.off;
      let lo = Number.POSITIVE_INFINITY;
      let hi = 0;
      for (const r of rows) {
        lo = Math.min(lo, off[r] as number);
        hi = Math.max(hi, off[r + 1] as number);
      }
      let span: Buffer | null = null;
      // One read of the whole span when it is not much more than the rows themselves.
      if (rows.length > 1 && hi - lo <= SPAN_READ_MAX) span = await this.readBytes(lo, hi - lo);
      const out: ExecutionRecord[] = [];
      for (const r of rows) {
        const start = off[r] as number;
        const len = (off[r + 1] as number) - start - 1;
        const line = span ? span.subarray(start - lo, start - lo + len) : await this.readBytes(start, len);
        out.push(this.decode(r, line));
      }
      return out;
    } finally {
      this.inflight--;
      if (this.retired && this.inflight === 0) void this.close();
    }
  }

  private async readBytes(position: number, length: number, into?: Buffer): Promise<Buffer> {
    const buf = into && into.length >= length ? into : Buffer.allocUnsafe(length);
    let got = 0;
    try {
      while (got < length) {
        const { bytesRead } = await this.fh.read(buf, got, length - got, position + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
    } catch (error) {
      throw ioError("read", this.dataPath, error);
    }
    return got === buf.length ? buf : buf.subarray(0, got);
  }

  private decode(row: number, line: Buffer): ExecutionRecord {
    const start = this.index.off[row] as number;
    const expected = (this.index.off[row + 1] as number) - start - 1;
    const where = `${this.dataPath} line ${row + 1} (byte ${start})`;
    if (line.length < expected || crc32(line) !== this.index.crc[row]) {
      throw storageError(
        "STORAGE_CORRUPT",
        `${where} is damaged (checksum mismatch)`,
        this.dataPath,
        undefined,
        {
          line: row + 1,
          offset: start,
        },
      );
    }
    let record: ExecutionRecord;
    try {
      record = thaw<ExecutionRecord>(line.toString("utf8"));
    } catch (error) {
      throw storageError("STORAGE_CORRUPT", `${where} is not valid JSON`, this.dataPath, error);
    }
    const problem = executionProblem(record);
    if (problem !== null || record.id !== this.idAt(row)) {
      throw storageError(
        "STORAGE_CORRUPT",
        `${where} does not match its index (${problem ?? "wrong id"})`,
        this.dataPath,
      );
    }
    return record;
  }

  /**
   * Keeps the data file open until {@link Segment.unpin} even if the segment is retired meanwhile
   * (work that reads rows across several turns of the event loop).
   */
  pin(): void {
    this.inflight++;
  }

  /** Ends a {@link Segment.pin}. */
  unpin(): void {
    this.inflight--;
    if (this.retired && this.inflight === 0) void this.close();
  }

  /**
   * Reads `length` bytes of the data file at `position` (compaction copies with it; pin first),
   * into `into` if it is large enough: a copy reuses one buffer rather than allocating a megabyte
   * of external memory per window, which the collector answers with major GCs.
   */
  readRange(position: number, length: number, into?: Buffer): Promise<Buffer> {
    if (this.closed) {
      return Promise.reject(storageError("STORAGE", `segment ${this.dataPath} was closed`, this.dataPath));
    }
    return this.readBytes(position, length, into);
  }

  /** Reads every record's raw line in row order (for merges and repairs). */
  async readAllLines(): Promise<Buffer> {
    try {
      return await readFile(this.dataPath);
    } catch (error) {
      throw ioError("read", this.dataPath, error);
    }
  }

  /** Marks the segment as replaced; its file handle closes once in-flight reads finish. */
  retire(): void {
    this.retired = true;
    if (this.inflight === 0) void this.close();
  }

  /** Closes the data file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close().catch(() => {});
  }
}
