/**
 * What the execution store holds in memory, and where a record is. In memory: the active
 * executions (claimed/running, always few), the final records of the current log, and each
 * segment's index. Sealed records are read from disk when asked for. (While a seal runs, the
 * final records of the logs it seals stay in memory too, until the segment replaces them.)
 *
 * Every part of the store (executions.ts) reads and changes this one instance; none of its
 * methods awaits, so a caller's synchronous section stays synchronous.
 */

import type { ExecutionRecord } from "@tradecron/core";
import type { AppendLog } from "./append-log.js";
import type { Located } from "./execution-query.js";
import { isActiveStatus, isOwnFire } from "./records.js";
import type { Segment } from "./segment.js";

/** A final record of a log not yet sealed. */
export interface Final {
  record: ExecutionRecord;
  /** The record's JSON when known (computed at seal time for replayed records). */
  json: string | null;
}

/** The final records of one or more logs not yet sealed. */
export interface Memtable {
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
  /**
   * The `del` lines retention appended (LiveLog.writeDeletes). They count an eighth towards the seal threshold: one is
   * a few dozen bytes and a map lookup to replay, and a pass pruning 200,000 executions otherwise
   * rotated and sealed the log 25 times, each a checkpoint and a burst of fsyncs that fires due
   * meanwhile waited behind.
   */
  dels: number;
  finals: Map<string, Final>;
  /** Fire key → id of the final records. */
  fires: Map<string, string>;
}

/** The key of fire (scheduleId, scheduledAt) in the in-memory maps. */
export function fireKey(scheduleId: string, scheduledAt: number): string {
  return `${scheduleId}\u0000${scheduledAt}`;
}

/** The log line storing a record, from the record's JSON. */
export function putLine(json: string): string {
  return `{"op":"put","rec":${json}}`;
}

/** The executions in memory and the segment list: the places a record can be. */
export class ExecutionMemory {
  /** Claimed or running executions, by id. */
  readonly active = new Map<string, ExecutionRecord>();
  /** Fire key → id of the active executions. */
  readonly activeFires = new Map<string, string>();
  /** Schedule id → ids of its active executions. */
  readonly activeBySchedule = new Map<string, Set<string>>();
  /** Latest own-fire instant per schedule. */
  readonly lastFire = new Map<string, number>();
  /** The records of the live log (and of the replayed logs it continues). */
  tail: Memtable = { logs: [], log: null, carried: 0, dels: 0, finals: new Map(), fires: new Map() };
  /** The records of the logs a seal is writing into a segment (null when none is). */
  sealing: Memtable | null = null;
  /** Live segments, oldest first. */
  segments: Segment[] = [];

  /** Records an own fire of `scheduleId` at `at` if it is the latest. */
  noteFire(scheduleId: string, at: number): void {
    const last = this.lastFire.get(scheduleId);
    if (last === undefined || at > last) this.lastFire.set(scheduleId, at);
  }

  /** Records the latest own fire of every schedule in `s`. */
  noteSegmentLastFires(s: Segment): void {
    const last = s.index.schedLastOwn;
    for (let k = 0; k < s.index.schedules; k++) {
      const at = last[k] as number;
      if (Number.isNaN(at)) continue;
      this.noteFire(s.scheduleIdAt(k), at);
    }
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

  /** Forgets an active execution; returns it, or undefined if `id` is not active. */
  dropActive(id: string): ExecutionRecord | undefined {
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
  dropFinal(mem: Memtable, id: string): boolean {
    const f = mem.finals.get(id);
    if (!f) return false;
    mem.finals.delete(id);
    const key = fireKey(f.record.scheduleId, f.record.scheduledAt);
    if (mem.fires.get(key) === id) mem.fires.delete(key);
    return true;
  }

  /** Applies a stored version of a record (a new claim, an update, or a replayed line). */
  applyPut(record: ExecutionRecord, json: string | null): void {
    if (isActiveStatus(record.status)) {
      this.putActive(record);
    } else {
      this.dropActive(record.id);
      this.tail.finals.set(record.id, { record, json });
      this.tail.fires.set(fireKey(record.scheduleId, record.scheduledAt), record.id);
    }
    if (isOwnFire(record.kind)) this.noteFire(record.scheduleId, record.scheduledAt);
  }

  /** Where the execution of fire (scheduleId, scheduledAt) is, newest place first. */
  locateFire(scheduleId: string, scheduledAt: number): Located | null {
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

  /** Where the execution with this id is, newest place first. */
  locateId(id: string): Located | null {
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
  sealedAlready(record: ExecutionRecord): boolean {
    for (const s of this.segments) {
      if (s.findFire(record.scheduleId, record.scheduledAt, true) < 0) continue;
      if (s.findFire(record.scheduleId, record.scheduledAt) >= 0 || s.findId(record.id, true) >= 0)
        return true;
    }
    return false;
  }

  /** Marks the sealed row of `id` pruned; false if no segment has it (alive). */
  killSealed(id: string): boolean {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const segment = this.segments[i] as Segment;
      const row = segment.findId(id);
      if (row >= 0) return segment.kill(row);
    }
    return false;
  }

  /** The memtables: the live one, and the one being sealed if any. */
  memtables(): Memtable[] {
    return this.sealing ? [this.tail, this.sealing] : [this.tail];
  }

  /** The latest own fire of a schedule from what is stored (after a release removed the latest). */
  recomputeLastFire(scheduleId: string): void {
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
}

/** Reads the records at `locs`, one batched read per segment. */
export async function materializeAll(locs: Located[]): Promise<ExecutionRecord[]> {
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

/** The record at `loc`: at once from memory, read from its segment otherwise. */
export function materialize(loc: Located): Promise<ExecutionRecord> | ExecutionRecord {
  return "record" in loc ? loc.record : loc.segment.read(loc.row);
}
