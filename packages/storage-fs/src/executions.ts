/**
 * Executions: the one collection that grows without bound (a fire every 30 s is a million records
 * in a year), so it is stored as a small log-structured store rather than a file per record:
 *
 * - `log-<n>.jsonl`: every change since the last seal, one JSON line each (`{"op":"put","rec":{...}}`
 *   or `{"op":"del","id":"..."}`), appended with group commit (append-log.ts). This is the hot
 *   path: a claim or a completion is one line and shares its fdatasync with concurrent writes.
 * - When the log reaches `segmentLines` lines, a new log starts (carrying the active executions
 *   forward as its first lines) and the old one is *sealed* in the background: its final records
 *   (an execution never changes once final) are written sorted by (scheduleId, scheduledAt) to
 *   `seg-<n>.jsonl` with a binary index `seg-<n>.idx`, then `checkpoint.json` is replaced to
 *   list the segment, then the old log is deleted. The checkpoint write is the commit point.
 * - Opening reads the checkpoint, the segment indexes (compact typed arrays: no JSON parsing of
 *   sealed records) and replays only the current log, so open time does not grow with history.
 *
 * In memory: the active executions (claimed/running, always few), the final records of the
 * current log, and each segment's index. Sealed records are read from disk when asked for.
 *
 * Retention deletes with tombstones: a pruned record of the logs is forgotten, a pruned sealed
 * row is marked dead in its segment (skipped by every read), and either way the batch is one
 * append of `del` lines to the live log (one group commit). The marks of sealed rows outlive
 * the logs in `checkpoint.json` (row ranges per segment, written with every seal, merge and
 * compaction); compaction (segment-compaction.ts) later rewrites a segment without its dead rows,
 * in the background, once at least {@link COMPACT_DEAD_SHARE} of it is dead (merges drop dead
 * rows too). So a prune batch costs its own size, never the size of a segment.
 */

import { mkdir, readFile, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import {
  type ClaimResult,
  ConflictError,
  checkLimit,
  committedState,
  decodeCursor,
  EXECUTION_PATCH_KEYS,
  type ExecutionPatch,
  type ExecutionPrune,
  type ExecutionQuery,
  type ExecutionRecord,
  type ExecutionStatus,
  encodeCursor,
  type FireClaim,
  type FireKind,
  isCorruptRecord,
  mapInSlices,
  type Page,
  type ProtectionInput,
  PruneQueue,
  type ScheduleStateRecord,
  type ScheduleSummary,
  type StateCommit,
  SummaryBuilder,
  sortInSlices,
  Turn,
  ValidationError,
} from "@tradecron/core";
import { AppendLog } from "./append-log.js";
import { fsyncDir, writeFileAtomic, writeFileSynced } from "./atomic-write.js";
import { ioError, storageError } from "./errors.js";
import {
  type Checkpoint,
  type DeadRows,
  renameOrThrow,
  settleExecutionFiles,
  toRanges,
  writeCheckpoint,
} from "./execution-files.js";
import {
  afterCursor,
  type Located,
  mergeNewestFirst,
  type Source,
  segmentSource,
} from "./execution-query.js";
import { summaryRows } from "./execution-summaries.js";
import { parseJsonLines } from "./jsonl.js";
import { CHECKPOINT_FILE, logFileName, segmentName } from "./layout.js";
import { recoverLog } from "./log-recovery.js";
import type { Quarantine } from "./quarantine.js";
import {
  deepFreeze,
  EXECUTION_STATUSES,
  executionProblem,
  FIRE_KINDS,
  isActiveStatus,
  isOwnFire,
  snapshot,
} from "./records.js";
import { ScheduleStates, stateLineProblem } from "./schedule-states.js";
import { Segment, SegmentLoadProblem } from "./segment.js";
import { compactSegment } from "./segment-compaction.js";
import { buildSegment, compareRows, type SegmentRow } from "./segment-index.js";

/**
 * A segment is rewritten without its pruned rows once at least this share of them is dead: every
 * rewrite at least halves the segment, so compaction copies each surviving byte about once
 * (at most twice) however a history is pruned, and pruned rows never take more than half of a
 * segment's disk space for long.
 */
export const COMPACT_DEAD_SHARE = 0.5;

/** What the execution store needs from the store that owns it. */
export interface ExecutionContext {
  quarantine: Quarantine;
  /** Stops the whole store after a failed write; returns the error to throw. */
  fail(error: unknown): Error;
}

/** Options of {@link ExecutionStore}. */
export interface ExecutionStoreOptions {
  /** Log lines after which the log is sealed into a segment. */
  segmentLines: number;
  /** Segments of one size tier merged into one (size-tiered compaction). */
  mergeFanIn: number;
  /** Merges read their sources into memory: larger ones are skipped (the segments stay apart). */
  mergeMaxBytes: number;
  /** Commit log batches on the main thread (see FileStorageOptions.inlineCommits). */
  inlineCommits: boolean;
}

interface Final {
  record: ExecutionRecord;
  /** The record's JSON when known (computed at seal time for replayed records). */
  json: string | null;
}

/** The final records of one or more logs not yet sealed. */
interface Memtable {
  /** Numbers of the logs whose lines are in this table. */
  logs: number[];
  /** The log being appended to (null once closed for sealing). */
  log: AppendLog | null;
  /**
   * Lines the log started with (active executions carried forward). They do not count towards
   * the seal threshold: with more active executions than `segmentLines`, every new log would
   * otherwise be due for sealing the moment it starts.
   */
  carried: number;
  finals: Map<string, Final>;
  /** Fire key → id of the final records. */
  fires: Map<string, string>;
}

function fireKey(scheduleId: string, scheduledAt: number): string {
  return `${scheduleId}\u0000${scheduledAt}`;
}

function putLine(json: string): string {
  return `{"op":"put","rec":${json}}`;
}

function logLineProblem(v: unknown): string | null {
  if (!v || typeof v !== "object") return "not a JSON object";
  const line = v as { op?: unknown; rec?: unknown; id?: unknown; state?: unknown; scheduleId?: unknown };
  if (line.op === "put") return executionProblem(line.rec) ?? stateLineProblem(line.state);
  if (line.op === "del") return typeof line.id === "string" ? null : "del without an id";
  if (line.op === "unstate")
    return typeof line.scheduleId === "string" ? null : "unstate without a scheduleId";
  return `unknown op ${String(line.op)}`;
}

/** What {@link ExecutionStore.stats} counts (`FileStorage.stats().executions`). */
export interface ExecutionStats {
  /** Claimed or running. */
  active: number;
  /** Final executions in the current log, not yet sealed. */
  unsealed: number;
  /** Sealed segments and the final executions in them. */
  segments: number;
  sealed: number;
  /** Lines in the current execution log. */
  logLines: number;
  /** Sealed executions that retention pruned, still in their segment files until compaction. */
  prunedSealed: number;
  /** Bytes of the live segments' data files. */
  segmentBytes: number;
  /** Bytes of segment files compaction has written since open (the disk cost of pruning). */
  compactedBytes: number;
}

/** The executions of one store folder. */
export class ExecutionStore {
  private readonly active = new Map<string, ExecutionRecord>();
  private readonly activeFires = new Map<string, string>();
  private readonly activeBySchedule = new Map<string, Set<string>>();
  private readonly lastFire = new Map<string, number>();
  private tail: Memtable;
  private sealing: Memtable | null = null;
  private segments: Segment[] = [];
  private checkpoint: Checkpoint;
  private nextNo: number;
  private rotating = false;
  private maintenance: Promise<void> = Promise.resolve();
  private closed = false;
  /** What retention deletes next, per schedule (core's PruneQueue). */
  private readonly pruneQueue = new PruneQueue();
  /**
   * Ids pruned while a seal, merge or compaction builds a segment (null when none does): they may
   * be in what it writes, so they are marked dead in the result when it is swapped in.
   */
  private kills: string[] | null = null;
  private compactionQueued = false;
  /** Bytes of segment files written by compaction (stats: what retention cost on disk). */
  private compactedBytes = 0;
  /** Committed schedule states (their lines ride in this log; see schedule-states.ts). */
  states!: ScheduleStates;

  private constructor(
    private readonly dir: string,
    private readonly ctx: ExecutionContext,
    private readonly options: ExecutionStoreOptions,
    checkpoint: Checkpoint,
  ) {
    this.checkpoint = checkpoint;
    this.nextNo = checkpoint.nextNo;
    this.tail = { logs: [], log: null, carried: 0, finals: new Map(), fires: new Map() };
  }

  // ------------------------------------------------------------------------------------------
  // opening and recovery

  /** Opens (creating, recovering and repairing as needed) the executions folder `dir`. */
  static async open(
    dir: string,
    ctx: ExecutionContext,
    options: ExecutionStoreOptions,
  ): Promise<ExecutionStore> {
    try {
      // A new folder's entry must be durable before anything in it is acknowledged.
      if (await mkdir(dir, { recursive: true })) await fsyncDir(dirname(dir));
    } catch (error) {
      throw ioError("create", dir, error);
    }
    const { checkpoint, recovering, live, logs, maxSeen } = await settleExecutionFiles(dir, ctx.quarantine);
    const cp: Checkpoint = checkpoint ?? {
      format: 1,
      sealedThrough: 0,
      nextNo: maxSeen + 1,
      segments: [],
      retired: [],
      lastFire: {},
    };
    const store = new ExecutionStore(dir, ctx, options, cp);
    store.states = await ScheduleStates.open(dir, ctx.quarantine);
    store.nextNo = Math.max(cp.nextNo, maxSeen + 1);
    const loaded: Segment[] = [];
    for (const no of live) {
      const s = await store.loadSegment(no);
      if (s) loaded.push(s);
    }
    store.segments = recovering ? await store.dropDuplicateSegments(loaded) : loaded;
    if (checkpoint?.dead) store.applyDeadRows(checkpoint.dead);
    if (checkpoint) {
      for (const [id, at] of Object.entries(checkpoint.lastFire)) store.lastFire.set(id, at);
    } else {
      for (const s of store.segments) store.noteSegmentLastFires(s);
      // Rebuilt from the files: every log is replayed (sealed fires are skipped), so the
      // checkpoint written below starts from sealedThrough 0 with the adopted segments.
      store.checkpoint = {
        ...cp,
        segments: store.segments.map((s) => s.no),
        lastFire: Object.fromEntries(store.lastFire),
      };
    }

    // Logs: delete the sealed ones, replay the rest in order.
    const sealedThrough = checkpoint?.sealedThrough ?? 0;
    const replay = logs.filter((no) => no > sealedThrough).sort((a, b) => a - b);
    for (const no of logs) if (no <= sealedThrough) await unlink(join(dir, logFileName(no))).catch(() => {});
    let lastLines = 0;
    const released = new Set<string>();
    for (const no of replay) lastLines = await store.replayLog(no, released);
    // A released claim leaves no trace: the last fire of its schedule is what remains.
    for (const scheduleId of released) store.recomputeLastFire(scheduleId);
    await store.startTail(replay, lastLines, recovering || checkpoint === null);
    return store;
  }

  private async loadSegment(no: number): Promise<Segment | null> {
    try {
      return await Segment.open(this.dir, no);
    } catch (error) {
      if (!(error instanceof SegmentLoadProblem)) throw error;
      if (error.missing === "data") {
        await this.ctx.quarantine.note(
          error.file,
          "missing",
          `${CHECKPOINT_FILE} lists ${segmentName(no)} but its data file is gone: its executions are lost`,
        );
        await unlink(join(this.dir, `${segmentName(no)}.idx`)).catch(() => {});
        return null;
      }
      return this.rebuildSegment(no, error.reason);
    }
  }

  /** Rebuilds a segment's index from its data file, repairing the data if lines are damaged. */
  private async rebuildSegment(no: number, why: string): Promise<Segment | null> {
    const dataPath = join(this.dir, `${segmentName(no)}.jsonl`);
    const indexPath = join(this.dir, `${segmentName(no)}.idx`);
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
      await this.ctx.quarantine.keepCopy(
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
    return Segment.open(this.dir, no, built.index);
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
        await this.ctx.quarantine.moveFile(
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

  /** Marks the pruned rows the checkpoint lists (see {@link DeadRows}). */
  private applyDeadRows(dead: Record<string, DeadRows>): void {
    for (const segment of this.segments) {
      const d = dead[String(segment.no)];
      if (!d || d.rows !== segment.rows) continue;
      for (let i = 0; i + 1 < d.ranges.length; i += 2) {
        const end = Math.min(d.ranges[i + 1] as number, segment.rows);
        for (let r = d.ranges[i] as number; r < end; r++) segment.kill(r);
      }
    }
  }

  /** The pruned rows of the listed segments, for the checkpoint. */
  private deadRows(listed: readonly number[]): Record<string, DeadRows> | undefined {
    const wanted = new Set(listed);
    let out: Record<string, DeadRows> | undefined;
    for (const s of this.segments) {
      if (s.deadCount === 0 || !wanted.has(s.no)) continue;
      out ??= {};
      out[String(s.no)] = { rows: s.rows, ranges: toRanges(s.deadRowList()) };
    }
    return out;
  }

  private noteSegmentLastFires(s: Segment): void {
    const last = s.index.schedLastOwn;
    for (let k = 0; k < s.index.schedules; k++) {
      const at = last[k] as number;
      if (Number.isNaN(at)) continue;
      this.noteFire(s.scheduleIdAt(k), at);
    }
  }

  /** Replays log `no` into the current memtable. Returns its line count. */
  private async replayLog(no: number, released: Set<string>): Promise<number> {
    const path = join(this.dir, logFileName(no));
    const log = await recoverLog(path, this.ctx.quarantine, logLineProblem);
    // State lines of logs the state file already covers are not applied again.
    const states = no > this.states.through;
    for (const value of log?.values ?? []) {
      const line = value as
        | { op: "put"; rec: ExecutionRecord; state?: unknown }
        | { op: "del"; id: string }
        | { op: "unstate"; scheduleId: string };
      if (line.op === "unstate") {
        if (states) this.states.delete(line.scheduleId);
        continue;
      }
      if (line.op === "put" && line.state !== undefined && states) {
        this.states.set((line.state as { scheduleId: string }).scheduleId, deepFreeze(line.state));
      }
      if (line.op === "del") {
        const gone = this.dropActive(line.id);
        if (gone && isOwnFire(gone.kind)) released.add(gone.scheduleId);
        // A final record that retention deleted (never the last fire: see prune.ts), in the logs
        // or sealed.
        if (!gone && !this.dropFinal(this.tail, line.id)) this.killSealed(line.id);
      }
      // A fire already sealed is a log a crash left behind after its seal committed: skip it.
      else if (!this.sealedAlready(line.rec)) {
        this.applyPut(deepFreeze(line.rec), null);
      }
    }
    this.tail.logs.push(no);
    return log?.lines ?? 0;
  }

  /**
   * Starts appending. One short log continues as the live log; otherwise (several logs after a
   * crash mid-seal, or a long one) a fresh log starts and the replayed ones are sealed.
   */
  private async startTail(replayed: number[], lastLines: number, rewriteCheckpoint: boolean): Promise<void> {
    const onFailure = (error: Error) => this.ctx.fail(error);
    if (replayed.length === 1 && lastLines < this.options.segmentLines) {
      this.tail.log = await AppendLog.open(join(this.dir, logFileName(replayed[0] as number)), {
        lines: lastLines,
        onFailure,
        inline: this.options.inlineCommits,
      });
    } else if (replayed.length === 0) {
      const no = this.nextNo++;
      this.tail.logs.push(no);
      this.tail.log = await AppendLog.open(join(this.dir, logFileName(no)), {
        onFailure,
        inline: this.options.inlineCommits,
      });
    } else {
      if (rewriteCheckpoint) await this.writeCheckpoint({ ...this.checkpoint, nextNo: this.nextNo });
      // Several logs (a crash during a seal) or a long one: seal them in the background.
      this.rotating = true;
      const swapped = await this.swapLogs();
      this.rotating = false;
      this.enqueue(() => this.seal(swapped.old, swapped.lastFire, swapped.carried, swapped.states));
      return;
    }
    if (rewriteCheckpoint) await this.writeCheckpoint({ ...this.checkpoint, nextNo: this.nextNo });
  }

  // ------------------------------------------------------------------------------------------
  // in-memory state

  private noteFire(scheduleId: string, at: number): void {
    const last = this.lastFire.get(scheduleId);
    if (last === undefined || at > last) this.lastFire.set(scheduleId, at);
  }

  private putActive(record: ExecutionRecord): void {
    const prev = this.active.get(record.id);
    if (prev) this.dropActive(prev.id);
    this.active.set(record.id, record);
    this.activeFires.set(fireKey(record.scheduleId, record.scheduledAt), record.id);
    let set = this.activeBySchedule.get(record.scheduleId);
    if (!set) {
      set = new Set();
      this.activeBySchedule.set(record.scheduleId, set);
    }
    set.add(record.id);
  }

  private dropActive(id: string): ExecutionRecord | undefined {
    const prev = this.active.get(id);
    if (!prev) return undefined;
    this.active.delete(id);
    const key = fireKey(prev.scheduleId, prev.scheduledAt);
    if (this.activeFires.get(key) === id) this.activeFires.delete(key);
    const set = this.activeBySchedule.get(prev.scheduleId);
    if (set) {
      set.delete(id);
      if (set.size === 0) this.activeBySchedule.delete(prev.scheduleId);
    }
    return prev;
  }

  /** Forgets a final record of `mem` (pruned). */
  private dropFinal(mem: Memtable, id: string): boolean {
    const f = mem.finals.get(id);
    if (!f) return false;
    mem.finals.delete(id);
    const key = fireKey(f.record.scheduleId, f.record.scheduledAt);
    if (mem.fires.get(key) === id) mem.fires.delete(key);
    return true;
  }

  /** Applies a stored version of a record (a new claim, an update, or a replayed line). */
  private applyPut(record: ExecutionRecord, json: string | null): void {
    if (isActiveStatus(record.status)) {
      this.putActive(record);
    } else {
      this.dropActive(record.id);
      this.tail.finals.set(record.id, { record, json });
      this.tail.fires.set(fireKey(record.scheduleId, record.scheduledAt), record.id);
    }
    if (isOwnFire(record.kind)) this.noteFire(record.scheduleId, record.scheduledAt);
  }

  private locateFire(scheduleId: string, scheduledAt: number): Located | null {
    const key = fireKey(scheduleId, scheduledAt);
    const activeId = this.activeFires.get(key);
    if (activeId !== undefined) {
      const record = this.active.get(activeId);
      if (record) return { record };
    }
    for (const mem of this.memtables()) {
      const id = mem.fires.get(key);
      const f = id === undefined ? undefined : mem.finals.get(id);
      if (f) return { record: f.record };
    }
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const segment = this.segments[i] as Segment;
      const row = segment.findFire(scheduleId, scheduledAt);
      if (row >= 0) return { segment, row };
    }
    return null;
  }

  private locateId(id: string): Located | null {
    const record = this.active.get(id);
    if (record) return { record };
    for (const mem of this.memtables()) {
      const f = mem.finals.get(id);
      if (f) return { record: f.record };
    }
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const segment = this.segments[i] as Segment;
      const row = segment.findId(id);
      if (row >= 0) return { segment, row };
    }
    return null;
  }

  /**
   * True if `record`'s fire is sealed: a live row of the fire, or the record's own row pruned (a
   * pruned fire claimed again is a new record, with another id).
   */
  private sealedAlready(record: ExecutionRecord): boolean {
    for (const s of this.segments) {
      if (s.findFire(record.scheduleId, record.scheduledAt, true) < 0) continue;
      if (s.findFire(record.scheduleId, record.scheduledAt) >= 0 || s.findId(record.id, true) >= 0)
        return true;
    }
    return false;
  }

  /** Marks the sealed row of `id` pruned; false if no segment has it (alive). */
  private killSealed(id: string): boolean {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const segment = this.segments[i] as Segment;
      const row = segment.findId(id);
      if (row >= 0) return segment.kill(row);
    }
    return false;
  }

  private memtables(): Memtable[] {
    return this.sealing ? [this.tail, this.sealing] : [this.tail];
  }

  /** Reads the records at `locs`, one batched read per segment. */
  private static async materializeAll(locs: Located[]): Promise<ExecutionRecord[]> {
    const out: ExecutionRecord[] = new Array(locs.length);
    const bySegment = new Map<Segment, number[]>();
    locs.forEach((loc, i) => {
      if ("record" in loc) out[i] = loc.record;
      else {
        const list = bySegment.get(loc.segment) ?? [];
        list.push(i);
        bySegment.set(loc.segment, list);
      }
    });
    await Promise.all(
      [...bySegment].map(async ([segment, positions]) => {
        const rows = positions.map((i) => (locs[i] as { row: number }).row);
        const records = await segment.readRows(rows);
        positions.forEach((i, k) => {
          out[i] = records[k] as ExecutionRecord;
        });
      }),
    );
    return out;
  }

  private static materialize(loc: Located): Promise<ExecutionRecord> | ExecutionRecord {
    return "record" in loc ? loc.record : loc.segment.read(loc.row);
  }

  // ------------------------------------------------------------------------------------------
  // writes

  private liveLog(): AppendLog {
    if (this.closed || !this.tail.log) {
      throw storageError("STORAGE", `the executions of ${this.dir} are closed`, this.dir);
    }
    return this.tail.log;
  }

  /** Appends lines to the live log; resolves when they are durable. */
  private write(lines: string[]): Promise<void> {
    const log = this.liveLog();
    let seq = 0;
    for (const line of lines) seq = log.append(line);
    const durable = log.durable(seq);
    this.maybeRotate();
    return durable;
  }

  /**
   * Resolves once everything appended so far is durable: a read never reports state that a
   * crash could still take back (it waits for the group commit in flight, if any).
   */
  private settled(): Promise<void> | undefined {
    const a = this.tail.log && !this.tail.log.idle ? this.tail.log.drain() : undefined;
    const b = this.sealing?.log && !this.sealing.log.idle ? this.sealing.log.drain() : undefined;
    if (a && b) return Promise.all([a, b]).then(() => {});
    return a ?? b;
  }

  /** Claims a fire: creates the record unless (scheduleId, scheduledAt) exists. */
  async claimFire(
    execution: ExecutionRecord,
  ): Promise<{ claimed: true; execution: ExecutionRecord } | { claimed: false; existing: ExecutionRecord }> {
    const problem = executionProblem(execution);
    if (problem !== null) {
      throw new ValidationError([{ field: "execution", code: "VALIDATION", message: problem }], {
        component: "storage-fs",
      });
    }
    this.liveLog();
    // Decide and record synchronously: no other claim can interleave between the check and the set.
    const found = this.locateFire(execution.scheduleId, execution.scheduledAt);
    if (found) {
      const existing = await ExecutionStore.materialize(found);
      await this.settled();
      return { claimed: false, existing };
    }
    if (this.locateId(execution.id)) {
      throw new ValidationError(
        [{ field: "execution.id", code: "VALIDATION", message: `execution id '${execution.id}' is taken` }],
        { component: "storage-fs" },
      );
    }
    const { json, record } = snapshot(execution);
    this.applyPut(record, json);
    await this.write([putLine(json)]);
    return { claimed: true, execution: record };
  }

  /**
   * Claims a batch of fires (Storage.claimFires): every claim is checked and decided
   * synchronously, before anything changes (a bad record throws and claims none; no other call
   * interleaves), then the won records go to the log in one append, so the batch shares one
   * group commit. A second claim of a fire in the batch loses to the first.
   */
  async claimFires(claims: readonly FireClaim[]): Promise<ClaimResult[]> {
    for (const { execution } of claims) {
      const problem = executionProblem(execution);
      if (problem !== null) {
        throw new ValidationError([{ field: "execution", code: "VALIDATION", message: problem }], {
          component: "storage-fs",
        });
      }
    }
    this.liveLog();
    /** Per claim: where its holder is (lost), the index of the batch's first claim of its fire, or null (won). */
    const holders = new Array<Located | number | null>(claims.length);
    const firstOf = new Map<string, number>();
    const ids = new Set<string>();
    claims.forEach(({ execution }, i) => {
      const key = fireKey(execution.scheduleId, execution.scheduledAt);
      const first = firstOf.get(key);
      if (first !== undefined) {
        holders[i] = first;
        return;
      }
      firstOf.set(key, i);
      const found = this.locateFire(execution.scheduleId, execution.scheduledAt);
      if (found) {
        holders[i] = found;
        return;
      }
      if (ids.has(execution.id) || this.locateId(execution.id)) {
        throw new ValidationError(
          [{ field: "execution.id", code: "VALIDATION", message: `execution id '${execution.id}' is taken` }],
          { component: "storage-fs" },
        );
      }
      ids.add(execution.id);
      holders[i] = null;
    });
    const results = new Array<ClaimResult>(claims.length);
    const lines: string[] = [];
    const lostAt: number[] = [];
    const lostTo: Located[] = [];
    claims.forEach((claim, i) => {
      const holder = holders[i];
      if (holder === null) {
        const { json, record } = snapshot(claim.execution);
        // Asked before the claim joins the active executions (earlier claims of the batch count).
        const othersActive =
          claim.withOverlap === true
            ? (this.activeBySchedule.get(record.scheduleId)?.size ?? 0) > 0
            : undefined;
        this.applyPut(record, json);
        lines.push(putLine(json));
        const won: ClaimResult = { claimed: true, execution: record };
        if (claim.withState === true) won.state = this.claimState(record.scheduleId);
        if (othersActive !== undefined) won.othersActive = othersActive;
        results[i] = won;
      } else if (holder !== undefined && typeof holder !== "number") {
        lostAt.push(i);
        lostTo.push(holder);
      }
    });
    const durable = lines.length > 0 ? this.write(lines) : undefined;
    // Awaited below; until then a failed commit must not count as an unhandled rejection.
    durable?.catch(() => {});
    const existing = lostTo.length > 0 ? await ExecutionStore.materializeAll(lostTo) : [];
    lostAt.forEach((i, k) => {
      results[i] = { claimed: false, existing: existing[k] as ExecutionRecord };
    });
    claims.forEach((_, i) => {
      const first = holders[i];
      if (typeof first !== "number") return;
      const outcome = results[first] as ClaimResult;
      results[i] = { claimed: false, existing: outcome.claimed ? outcome.execution : outcome.existing };
    });
    await durable;
    if (lostTo.length > 0 || lines.length === 0) await this.settled();
    return results;
  }

  /** The committed state a won claim hands back: undefined for one failing its checks (the claim stands). */
  private claimState(scheduleId: string): ScheduleStateRecord | null | undefined {
    try {
      return this.states.get(scheduleId);
    } catch (error) {
      if (isCorruptRecord(error)) return undefined;
      throw error;
    }
  }

  /**
   * Applies `patch` if `instanceId` still holds the execution; with `state`, commits the
   * schedule's state in the same log line (see Storage.updateExecution). `scheduleExists` says
   * whether the schedule is still stored (the state of a deleted one is not written).
   */
  async updateExecution(
    id: string,
    instanceId: string,
    patch: ExecutionPatch,
    state?: StateCommit,
    scheduleExists: (scheduleId: string) => boolean = () => true,
  ): Promise<ExecutionRecord | null> {
    this.liveLog();
    const current = this.active.get(id);
    if (!current || current.instanceId !== instanceId) {
      await this.settled();
      return null;
    }
    // Decided synchronously, before anything changes: a conflict writes neither.
    let committed: ScheduleStateRecord | null = null;
    if (state !== undefined && scheduleExists(current.scheduleId)) {
      const revision = this.states.revision(current.scheduleId);
      if (revision !== state.expectedRevision) {
        throw new ConflictError(
          "REVISION_CONFLICT",
          `the state of schedule '${current.scheduleId}' is at revision ${revision}, not ${state.expectedRevision}`,
          { field: "state", details: { current: revision, expected: state.expectedRevision } },
        );
      }
      committed = deepFreeze(committedState(current.scheduleId, id, structuredClone(state)));
    }
    const next: Record<string, unknown> = { ...current };
    for (const key of EXECUTION_PATCH_KEYS) if (key in patch) next[key] = patch[key];
    if (!EXECUTION_STATUSES.includes(next.status as ExecutionStatus)) {
      throw new ValidationError(
        [{ field: "status", code: "VALIDATION", message: `unknown status ${String(next.status)}` }],
        { component: "storage-fs" },
      );
    }
    const { json, record } = snapshot(next as unknown as ExecutionRecord);
    this.applyPut(record, json);
    if (committed) {
      this.states.set(committed.scheduleId, committed);
      // One line: the outcome and the state reach the disk together or not at all.
      await this.write([`{"op":"put","rec":${json},"state":${JSON.stringify(committed)}}`]);
    } else {
      await this.write([putLine(json)]);
    }
    return record;
  }

  /** The committed state of a schedule (durable), checked; throws `STORAGE_CORRUPT`. */
  async getScheduleState(scheduleId: string): Promise<ScheduleStateRecord | null> {
    this.liveLog();
    await this.settled();
    return this.states.get(scheduleId);
  }

  /** Removes the states of these schedules (deleted ones), durably. */
  async deleteStates(scheduleIds: readonly string[]): Promise<void> {
    const lines: string[] = [];
    for (const id of scheduleIds) {
      if (this.states.delete(id)) lines.push(JSON.stringify({ op: "unstate", scheduleId: id }));
    }
    if (lines.length > 0) await this.write(lines);
  }

  /** Extends the leases `instanceId` still holds; returns their ids. */
  async renewLeases(instanceId: string, ids: string[], leaseExpiresAt: number): Promise<string[]> {
    this.liveLog();
    const held: string[] = [];
    const lines: string[] = [];
    for (const id of ids) {
      const current = this.active.get(id);
      if (!current || current.instanceId !== instanceId) continue;
      const { json, record } = snapshot({ ...current, leaseExpiresAt });
      this.applyPut(record, json);
      lines.push(putLine(json));
      held.push(id);
    }
    if (lines.length > 0) await this.write(lines);
    else await this.settled();
    return held;
  }

  /** Finalises an active execution as cancelled, whoever holds it. */
  async cancelExecution(id: string, reason: string, endedAt: number): Promise<ExecutionRecord | null> {
    this.liveLog();
    const current = this.active.get(id);
    if (!current) {
      await this.settled();
      return null;
    }
    const { json, record } = snapshot({
      ...current,
      status: "cancelled" as const,
      reason,
      endedAt,
      leaseExpiresAt: null,
    });
    this.applyPut(record, json);
    await this.write([putLine(json)]);
    return record;
  }

  /** The schedule's active executions, oldest first. */
  async activeExecutions(scheduleId: string): Promise<ExecutionRecord[]> {
    this.liveLog();
    const ids = this.activeBySchedule.get(scheduleId);
    const out: ExecutionRecord[] = [];
    if (ids) {
      for (const id of ids) {
        const e = this.active.get(id);
        if (e) out.push(e);
      }
    }
    await this.settled();
    return out.sort((a, b) => a.scheduledAt - b.scheduledAt);
  }

  /** Deletes a claimed (not started) execution held by `instanceId`. */
  async releaseClaim(id: string, instanceId: string): Promise<boolean> {
    this.liveLog();
    const current = this.active.get(id);
    if (!current || current.instanceId !== instanceId || current.status !== "claimed") {
      await this.settled();
      return false;
    }
    this.dropActive(id);
    if (isOwnFire(current.kind) && this.lastFire.get(current.scheduleId) === current.scheduledAt) {
      this.recomputeLastFire(current.scheduleId);
    }
    await this.write([JSON.stringify({ op: "del", id })]);
    return true;
  }

  /** The latest own fire of a schedule from what is stored (after a release removed the latest). */
  private recomputeLastFire(scheduleId: string): void {
    let last = Number.NEGATIVE_INFINITY;
    const consider = (e: ExecutionRecord) => {
      if (e.scheduleId === scheduleId && isOwnFire(e.kind) && e.scheduledAt > last) last = e.scheduledAt;
    };
    for (const id of this.activeBySchedule.get(scheduleId) ?? []) {
      const e = this.active.get(id);
      if (e) consider(e);
    }
    for (const mem of this.memtables()) for (const f of mem.finals.values()) consider(f.record);
    for (const s of this.segments) {
      const k = s.findSchedule(scheduleId);
      const at = k < 0 ? Number.NaN : (s.index.schedLastOwn[k] as number);
      if (!Number.isNaN(at) && at > last) last = at;
    }
    if (last === Number.NEGATIVE_INFINITY) this.lastFire.delete(scheduleId);
    else this.lastFire.set(scheduleId, last);
  }

  /** Takes over expired leases (see Storage.takeOverExpired). */
  async takeOverExpired(
    instanceId: string,
    now: number,
    leaseExpiresAt: number,
    limit: number,
    jobs?: readonly string[],
  ): Promise<ExecutionRecord[]> {
    this.liveLog();
    const taken: ExecutionRecord[] = [];
    const lines: string[] = [];
    for (const current of [...this.active.values()]) {
      if (taken.length >= limit) break;
      if (current.leaseExpiresAt === null || current.leaseExpiresAt >= now) continue;
      if (jobs && !jobs.includes(current.job)) continue;
      const { json, record } = snapshot({
        ...current,
        instanceId,
        leaseExpiresAt,
        status: "running" as const,
        attempts: current.attempts + 1,
      });
      this.applyPut(record, json);
      lines.push(putLine(json));
      taken.push(record);
    }
    if (lines.length > 0) await this.write(lines);
    else await this.settled();
    return taken;
  }

  // ------------------------------------------------------------------------------------------
  // reads

  /** The execution with this id. */
  async getExecution(id: string): Promise<ExecutionRecord | null> {
    this.liveLog();
    const loc = this.locateId(id);
    const record = loc ? await ExecutionStore.materialize(loc) : null;
    await this.settled();
    return record;
  }

  /** The execution of fire (scheduleId, scheduledAt). */
  async findExecution(scheduleId: string, scheduledAt: number): Promise<ExecutionRecord | null> {
    this.liveLog();
    const loc = this.locateFire(scheduleId, scheduledAt);
    const record = loc ? await ExecutionStore.materialize(loc) : null;
    await this.settled();
    return record;
  }

  /** Who holds each fire (its execution's instance), null where it has none: one read for the batch. */
  async fireHolders(
    fires: readonly { scheduleId: string; scheduledAt: number }[],
  ): Promise<(string | null)[]> {
    this.liveLog();
    const at: number[] = [];
    const locs: Located[] = [];
    fires.forEach((f, i) => {
      const loc = this.locateFire(f.scheduleId, f.scheduledAt);
      if (loc) {
        at.push(i);
        locs.push(loc);
      }
    });
    const records = locs.length > 0 ? await ExecutionStore.materializeAll(locs) : [];
    await this.settled();
    const holders = new Array<string | null>(fires.length).fill(null);
    at.forEach((i, k) => {
      holders[i] = (records[k] as ExecutionRecord).instanceId;
    });
    return holders;
  }

  /** The latest own-fire instant of a schedule. */
  async lastFireAt(scheduleId: string): Promise<number | null> {
    this.liveLog();
    await this.settled();
    return this.lastFire.get(scheduleId) ?? null;
  }

  /** See Storage.scheduleSummaries: memory first, then only the segment rows that can beat it. */
  async scheduleSummaries(scheduleIds: readonly string[]): Promise<ScheduleSummary[]> {
    this.liveLog();
    const builders = new Map<string, SummaryBuilder>();
    for (const id of scheduleIds) {
      if (builders.has(id)) continue;
      const b = new SummaryBuilder();
      b.noteFire(this.lastFire.get(id) ?? null);
      builders.set(id, b);
    }
    for (const e of this.active.values()) builders.get(e.scheduleId)?.add(e);
    for (const mem of this.memtables())
      for (const f of mem.finals.values()) builders.get(f.record.scheduleId)?.add(f.record);
    // The candidate rows of every segment are found and their reads started in one synchronous
    // step, which pins the segments (a merge retiring one meanwhile waits for the reads).
    const reads: Promise<ExecutionRecord[]>[] = [];
    for (const segment of this.segments) {
      const rows: number[] = [];
      for (const [id, b] of builders) rows.push(...summaryRows(segment, id, b.latest));
      if (rows.length > 0) reads.push(segment.readRows(rows.sort((a, b) => a - b)));
    }
    for (const records of await Promise.all(reads))
      for (const e of records) builders.get(e.scheduleId)?.add(e);
    await this.settled();
    return scheduleIds.map((id) => (builders.get(id) as SummaryBuilder).result(id));
  }

  /** Lists executions newest first (see Storage.listExecutions). */
  async listExecutions(query: ExecutionQuery): Promise<Page<ExecutionRecord>> {
    const limit = checkLimit(query.limit);
    const cursor = query.cursor ? decodeCursor(query.cursor) : null;
    this.liveLog();
    const statuses = query.status === undefined ? null : new Set([query.status].flat());
    const kinds = query.kind === undefined ? null : new Set([query.kind].flat());
    const from = query.from ?? Number.NEGATIVE_INFINITY;
    const to = query.to ?? Number.POSITIVE_INFINITY;
    const sources: Source[] = [this.memorySource(query.scheduleId, statuses, kinds, from, to, cursor)];
    const statusOk = new Uint8Array(EXECUTION_STATUSES.length).fill(statuses ? 0 : 1);
    for (const s of statuses ?? []) statusOk[EXECUTION_STATUSES.indexOf(s as ExecutionStatus)] = 1;
    const kindOk = new Uint8Array(FIRE_KINDS.length).fill(kinds ? 0 : 1);
    for (const k of kinds ?? []) kindOk[FIRE_KINDS.indexOf(k as FireKind)] = 1;
    for (const segment of this.segments) {
      const src = segmentSource(segment, query.scheduleId, statusOk, kindOk, from, to, cursor);
      if (src) sources.push(src);
    }
    const picked = mergeNewestFirst(sources, limit + 1);
    const page = picked.slice(0, limit);
    const items = await ExecutionStore.materializeAll(page.map((c) => c.loc));
    await this.settled();
    const last = page[page.length - 1];
    return {
      items,
      nextCursor: picked.length > limit && last ? encodeCursor(last.at, last.id) : null,
    };
  }

  private memorySource(
    scheduleId: string | undefined,
    statuses: Set<string> | null,
    kinds: Set<string> | null,
    from: number,
    to: number,
    cursor: { key: number; id: string } | null,
  ): Source {
    const matches: ExecutionRecord[] = [];
    const consider = (e: ExecutionRecord) => {
      if (scheduleId !== undefined && e.scheduleId !== scheduleId) return;
      if (statuses && !statuses.has(e.status)) return;
      if (kinds && !kinds.has(e.kind)) return;
      if (e.scheduledAt < from || e.scheduledAt >= to) return;
      if (!afterCursor(e.scheduledAt, e.id, cursor)) return;
      matches.push(e);
    };
    for (const e of this.active.values()) consider(e);
    for (const mem of this.memtables()) for (const f of mem.finals.values()) consider(f.record);
    matches.sort((a, b) => b.scheduledAt - a.scheduledAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    let i = 0;
    return () => {
      const e = matches[i++];
      return e ? { at: e.scheduledAt, id: e.id, loc: { record: e } } : null;
    };
  }

  // ------------------------------------------------------------------------------------------
  // sealing and merging

  private maybeRotate(): void {
    if (this.rotating || this.sealing || this.closed) return;
    if ((this.tail.log?.lines ?? 0) - this.tail.carried < this.options.segmentLines) return;
    this.rotating = true;
    this.enqueue(() => this.rotate());
  }

  private enqueue(task: () => Promise<void>): void {
    this.maintenance = this.maintenance.then(task).catch((error: unknown) => {
      this.ctx.fail(error);
    });
  }

  /** Starts a new log and seals the old one(s). Runs in the maintenance queue. */
  private async rotate(): Promise<void> {
    const swapped = await this.swapLogs();
    this.rotating = false;
    await this.seal(swapped.old, swapped.lastFire, swapped.carried, swapped.states);
  }

  /**
   * Opens the next log and makes it the live one. The active executions are carried forward as
   * its first lines, so the new log plus the segments is the whole truth once the old log is
   * sealed.
   */
  private async swapLogs(): Promise<{
    old: Memtable;
    lastFire: Map<string, number>;
    carried: Promise<void>;
    states: Map<string, unknown>;
  }> {
    const no = this.nextNo++;
    const log = await AppendLog.open(join(this.dir, logFileName(no)), {
      onFailure: (error) => this.ctx.fail(error),
      inline: this.options.inlineCommits,
    });
    // From here to the carry-forward everything is synchronous: it is the boundary between logs.
    const old = this.tail;
    this.tail = { logs: [no], log, carried: this.active.size, finals: new Map(), fires: new Map() };
    this.sealing = old;
    const lastFire = new Map(this.lastFire);
    // The states as of the end of the old logs: what the seal compacts into the state file.
    const states = this.states.snapshot();
    let carried = 0;
    for (const record of this.active.values()) carried = log.append(putLine(JSON.stringify(record)));
    return { old, lastFire, carried: log.durable(carried), states };
  }

  private async seal(
    mem: Memtable,
    lastFire: Map<string, number>,
    carried: Promise<void>,
    states: Map<string, unknown>,
  ): Promise<void> {
    // The sealed logs must be durable, and so must the carried-forward active records in the new
    // log, before the checkpoint says the old logs are no longer needed.
    if (mem.log) await mem.log.close();
    await carried;
    const through = Math.max(...mem.logs);
    // From here on a prune of one of these records marks it dead in the new segment.
    this.kills = [];
    const turn = new Turn();
    const rows = await sortInSlices(
      await mapInSlices([...mem.finals.values()], (f) => toRow(f.record, f.json), turn),
      compareRows,
      turn,
    );
    const segments = this.segments.map((s) => s.no);
    let built: { data: Buffer; index: Buffer } | null = null;
    if (rows.length > 0) {
      built = await buildSegment(rows, turn);
      await writeFileSynced(this.segPath(through, "jsonl", true), built.data);
      await writeFileSynced(this.segPath(through, "idx", true), built.index);
      segments.push(through);
    }
    // Before the checkpoint lets the old logs go: the states their lines hold must be in the file.
    await this.states.compact(states, through);
    // The commit point: one atomic replace (its folder fsync also makes the .pending names durable).
    const checkpoint: Checkpoint = {
      ...this.checkpoint,
      sealedThrough: through,
      nextNo: this.nextNo,
      segments,
      retired: [],
      lastFire: Object.fromEntries(lastFire),
    };
    await this.writeCheckpoint(checkpoint);
    if (built) {
      await renameOrThrow(this.segPath(through, "jsonl", true), this.segPath(through, "jsonl"));
      await renameOrThrow(this.segPath(through, "idx", true), this.segPath(through, "idx"));
    }
    for (const no of mem.logs) await unlink(join(this.dir, logFileName(no))).catch(() => {});
    await fsyncDir(this.dir);
    const segment = built ? await Segment.open(this.dir, through, built.index) : null;
    // Swap in one synchronous step: readers see the records in `sealing` or in the segment.
    if (segment) {
      this.segments.push(segment);
      this.applyKills(segment);
    }
    this.kills = null;
    this.sealing = null;
    await this.mergeIfNeeded();
    await this.compactDue();
    this.maybeRotate();
  }

  private segPath(no: number, ext: "jsonl" | "idx", pending = false): string {
    return join(this.dir, `${segmentName(no)}.${ext}${pending ? ".pending" : ""}`);
  }

  /** Writes the checkpoint, with the pruned rows of its segments as of now. */
  private async writeCheckpoint(checkpoint: Checkpoint): Promise<void> {
    const { dead: _old, ...rest } = checkpoint;
    const dead = this.deadRows(checkpoint.segments);
    const full: Checkpoint = dead ? { ...rest, dead } : rest;
    await writeCheckpoint(this.dir, full);
    this.checkpoint = full;
  }

  /** Marks dead in `segment` what was pruned while it was built (see {@link ExecutionStore.kills}). */
  private applyKills(segment: Segment): void {
    for (const id of this.kills ?? []) {
      const row = segment.findId(id);
      if (row >= 0) segment.kill(row);
    }
  }

  /**
   * Size-tiered compaction: when `mergeFanIn` segments fall in one size tier (tier t holds
   * segments of fewer than base * fanIn^(t+1) records), they are merged into one, so a store
   * keeps O(log n) segments however long it runs.
   */
  private async mergeIfNeeded(): Promise<void> {
    const fanIn = this.options.mergeFanIn;
    if (fanIn < 2 || this.closed) return;
    const base = Math.max(1, Math.floor(this.options.segmentLines / 2));
    const tiers = new Map<number, Segment[]>();
    for (const s of this.segments) {
      const tier = Math.max(0, Math.floor(Math.log(Math.max(1, s.live) / base) / Math.log(fanIn)));
      const list = tiers.get(tier) ?? [];
      list.push(s);
      tiers.set(tier, list);
    }
    for (const [, list] of [...tiers.entries()].sort((a, b) => a[0] - b[0])) {
      if (list.length < fanIn) continue;
      const group = list.slice(0, fanIn);
      if (group.reduce((n, s) => n + s.index.dataBytes, 0) > this.options.mergeMaxBytes) continue;
      await this.merge(group);
      return this.mergeIfNeeded();
    }
  }

  /** Merges `sources` into one new segment without their dead rows, committed by the checkpoint. */
  private async merge(sources: Segment[]): Promise<void> {
    const no = this.nextNo++;
    const rows: SegmentRow[] = [];
    const turn = new Turn();
    this.kills = [];
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
      await this.writeCheckpoint({
        ...this.checkpoint,
        nextNo: this.nextNo,
        segments: this.segments.map((s) => s.no).filter((n) => !merged.has(n)),
        retired: [...merged],
      });
      this.segments = this.segments.filter((s) => !merged.has(s.no));
      this.kills = null;
      await this.retireSources(sources);
      return;
    }
    await sortInSlices(rows, compareRows, turn);
    const built = await buildSegment(rows, turn);
    await yieldToLoop();
    await writeFileSynced(this.segPath(no, "jsonl", true), built.data);
    await writeFileSynced(this.segPath(no, "idx", true), built.index);
    await this.writeCheckpoint({
      ...this.checkpoint,
      nextNo: this.nextNo,
      segments: [...this.segments.map((s) => s.no).filter((n) => !merged.has(n)), no],
      retired: [...merged],
    });
    await renameOrThrow(this.segPath(no, "jsonl", true), this.segPath(no, "jsonl"));
    await renameOrThrow(this.segPath(no, "idx", true), this.segPath(no, "idx"));
    const segment = await Segment.open(this.dir, no, built.index);
    this.segments = [...this.segments.filter((s) => !merged.has(s.no)), segment];
    this.applyKills(segment);
    this.kills = null;
    await this.retireSources(sources);
  }

  /**
   * Compacts every segment that is at least {@link COMPACT_DEAD_SHARE} dead, most dead first
   * (the maintenance queue runs it after each seal and after prunes).
   */
  private async compactDue(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      let pick: Segment | null = null;
      for (const s of this.segments) {
        if (s.deadCount === 0 || s.deadCount < s.rows * COMPACT_DEAD_SHARE) continue;
        if (!pick || s.deadCount / s.rows > pick.deadCount / pick.rows) pick = s;
      }
      if (!pick) return;
      await this.compact(pick);
    }
  }

  /** Queues {@link ExecutionStore.compactDue} if a segment is due (once: a queued run sees later prunes). */
  private maybeCompact(): void {
    if (this.compactionQueued || this.closed) return;
    if (!this.segments.some((s) => s.deadCount > 0 && s.deadCount >= s.rows * COMPACT_DEAD_SHARE)) return;
    this.compactionQueued = true;
    this.enqueue(async () => {
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
    this.kills = [];
    const others = () => this.segments.filter((s) => s !== source).map((s) => s.no);
    if (source.live === 0) {
      await this.writeCheckpoint({
        ...this.checkpoint,
        nextNo: this.nextNo,
        segments: others(),
        retired: [source.no],
      });
      this.segments = this.segments.filter((s) => s !== source);
      this.kills = null;
      await this.retireSources([source]);
      return;
    }
    const no = this.nextNo++;
    source.pin();
    let built: Awaited<ReturnType<typeof compactSegment>>;
    try {
      built = await compactSegment(source, this.segPath(no, "jsonl", true));
      await writeFileSynced(this.segPath(no, "idx", true), built.index);
    } finally {
      source.unpin();
    }
    // In the source's place: the list stays oldest first.
    const listed = this.segments.map((s) => (s === source ? no : s.no));
    await this.writeCheckpoint({
      ...this.checkpoint,
      nextNo: this.nextNo,
      segments: listed,
      retired: [source.no],
    });
    await renameOrThrow(this.segPath(no, "jsonl", true), this.segPath(no, "jsonl"));
    await renameOrThrow(this.segPath(no, "idx", true), this.segPath(no, "idx"));
    const segment = await Segment.open(this.dir, no, built.index);
    this.segments = this.segments.map((s) => (s === source ? segment : s));
    this.applyKills(segment);
    this.kills = null;
    this.compactedBytes += built.dataBytes + built.index.length;
    await this.retireSources([source]);
  }

  private async retireSources(sources: Segment[]): Promise<void> {
    for (const s of sources) {
      s.retire();
      await unlink(s.dataPath).catch(() => {});
      await unlink(s.indexPath).catch(() => {});
    }
    await fsyncDir(this.dir);
  }

  // ------------------------------------------------------------------------------------------
  // retention (rules: core's prune.ts)

  /**
   * Deletes up to `prune.limit` final executions of one schedule, with tombstones (see the module
   * comment): each is forgotten (in the logs) or marked dead (sealed) at once, in memory, and the
   * batch is one append of `del` lines: one group commit, whatever the size of the segments
   * holding them. Resolves once the lines are durable.
   */
  async pruneExecutions(prune: ExecutionPrune): Promise<number> {
    this.liveLog();
    if (this.pruneQueue.needsLoad(prune)) {
      const inputs = await this.pruneInputs(prune.scheduleId);
      this.liveLog();
      await this.pruneQueue.fillInSlices(prune, inputs);
    }
    const ids = this.pruneQueue.next(prune);
    const lines: string[] = [];
    for (const id of ids) {
      if (this.active.has(id)) continue;
      const gone =
        this.dropFinal(this.tail, id) ||
        (this.sealing !== null && this.dropFinal(this.sealing, id)) ||
        this.killSealed(id);
      if (!gone) continue;
      // A seal, merge or compaction may be writing it into a new segment right now.
      this.kills?.push(id);
      lines.push(JSON.stringify({ op: "del", id }));
    }
    if (lines.length === 0) return 0;
    const durable = this.write(lines);
    this.maybeCompact();
    await durable;
    return lines.length;
  }

  /**
   * What the prune rule needs of each of the schedule's executions. Sealed rows come from the
   * segment indexes (no record read): succeeded, failed and timed-out rows are runs; skipped rows
   * never started; a cancelled row is a run only if its handler had started, which only the
   * record says, so the cancelled rows newer than the latest certain run are read (as
   * scheduleSummaries does), and older ones cannot be the latest run anyway. The segments are
   * walked in slices (a schedule may have a million sealed rows) over a snapshot taken at once,
   * pinned so a merge meanwhile cannot close them under the reads.
   */
  private async pruneInputs(scheduleId: string): Promise<ProtectionInput[]> {
    const out: ProtectionInput[] = [];
    for (const id of this.activeBySchedule.get(scheduleId) ?? []) {
      const e = this.active.get(id);
      if (e) out.push(e);
    }
    for (const mem of this.memtables())
      for (const f of mem.finals.values()) if (f.record.scheduleId === scheduleId) out.push(f.record);
    let latestRun = Number.NEGATIVE_INFINITY;
    for (const e of out)
      if (e.startedAt !== null && !isActiveStatus(e.status)) latestRun = Math.max(latestRun, e.scheduledAt);
    const cancelled: { segment: Segment; row: number; input: ProtectionInput }[] = [];
    const segments = [...this.segments];
    for (const segment of segments) segment.pin();
    try {
      let since = performance.now();
      for (const segment of segments) {
        const k = segment.findSchedule(scheduleId);
        if (k < 0) continue;
        const { at, status, kind, schedStart } = segment.index;
        for (let r = schedStart[k] as number; r < (schedStart[k + 1] as number); r++) {
          if ((r & 1023) === 0 && performance.now() - since > PRUNE_SLICE_MS) {
            await yieldToLoop();
            since = performance.now();
          }
          if (segment.isDead(r)) continue;
          const st = EXECUTION_STATUSES[status[r] as number] as ExecutionStatus;
          const when = at[r] as number;
          const run = st === "succeeded" || st === "failed" || st === "timed_out";
          const input = {
            id: segment.idAt(r),
            scheduledAt: when,
            kind: FIRE_KINDS[kind[r] as number] as FireKind,
            status: st,
            startedAt: run ? when : null,
          };
          if (run) latestRun = Math.max(latestRun, when);
          if (st === "cancelled") cancelled.push({ segment, row: r, input });
          out.push(input);
        }
      }
      const unsure = cancelled.filter((c) => c.input.scheduledAt > latestRun);
      for (const c of unsure) {
        const [record] = await c.segment.readRows([c.row]);
        c.input.startedAt = record?.startedAt ?? null;
      }
    } finally {
      for (const segment of segments) segment.unpin();
    }
    return out;
  }

  /** Schedule ids with executions, ascending, after `after`, at most `limit`. */
  executionScheduleIds(after: string | null, limit: number): string[] {
    const ids = new Set<string>();
    for (const e of this.active.values()) ids.add(e.scheduleId);
    for (const mem of this.memtables()) for (const f of mem.finals.values()) ids.add(f.record.scheduleId);
    for (const s of this.segments)
      for (let k = 0; k < s.index.schedules; k++)
        if (s.deadCount === 0 || hasLiveRow(s, k)) ids.add(s.scheduleIdAt(k));
    return [...ids]
      .filter((id) => after === null || id > after)
      .sort()
      .slice(0, checkLimit(limit));
  }

  // ------------------------------------------------------------------------------------------
  // lifecycle

  /** Counts for status and tests: records per place, segments, log lines, what pruning left to reclaim. */
  stats(): ExecutionStats {
    return {
      active: this.active.size,
      unsealed: this.memtables().reduce((n, m) => n + m.finals.size, 0),
      segments: this.segments.length,
      sealed: this.segments.reduce((n, s) => n + s.live, 0),
      logLines: this.tail.log?.lines ?? 0,
      prunedSealed: this.segments.reduce((n, s) => n + s.deadCount, 0),
      segmentBytes: this.segments.reduce((n, s) => n + s.index.dataBytes, 0),
      compactedBytes: this.compactedBytes,
    };
  }

  /** Waits for background sealing and merging to finish (tests, benchmarks, close). */
  async idle(): Promise<void> {
    let seen: Promise<void> | null = null;
    while (seen !== this.maintenance) {
      seen = this.maintenance;
      await seen;
    }
    await this.settled();
  }

  /** Finishes background work, makes everything durable and closes the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.idle().catch(() => {});
    this.closed = true;
    await this.tail.log?.close();
    for (const s of this.segments) await s.close();
  }
}

/** True if schedule number `k` of `s` has a row not pruned. */
function hasLiveRow(s: Segment, k: number): boolean {
  const { schedStart } = s.index;
  for (let r = schedStart[k] as number; r < (schedStart[k + 1] as number); r++) if (!s.isDead(r)) return true;
  return false;
}

function toRow(record: ExecutionRecord, json: string | null): SegmentRow {
  return {
    id: record.id,
    scheduleId: record.scheduleId,
    scheduledAt: record.scheduledAt,
    status: record.status,
    kind: record.kind,
    line: Buffer.from(json ?? JSON.stringify(record), "utf8"),
  };
}

/** The longest a slice of a prune's scan of the segment indexes holds the event loop (ms). */
const PRUNE_SLICE_MS = 2;

/** Lets the event loop run between the CPU-heavy phases of background work. */
function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
