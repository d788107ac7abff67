/**
 * The reads of executions and schedule states. Each looks in memory first, reads sealed records
 * from their segments only when asked for them, and answers once everything appended so far is
 * durable (a read never reports state that a crash could still take back). Paging across the
 * places a record can be: execution-query.ts.
 */

import {
  checkLimit,
  decodeCursor,
  type ExecutionQuery,
  type ExecutionRecord,
  type ExecutionStatus,
  encodeCursor,
  type FireKind,
  type Page,
  type ScheduleStateRecord,
  type ScheduleSummary,
  SummaryBuilder,
} from "@tradecron/core";
import type { LiveLog } from "./execution-live-log.js";
import { type ExecutionMemory, materialize, materializeAll } from "./execution-memory.js";
import {
  afterCursor,
  type Located,
  mergeNewestFirst,
  type Source,
  segmentSource,
} from "./execution-query.js";
import { summaryRows } from "./execution-summaries.js";
import { EXECUTION_STATUSES, FIRE_KINDS } from "./records.js";
import type { ScheduleStates } from "./schedule-states.js";
import type { Segment } from "./segment.js";

/** Answers the queries of executions and schedule states. */
export class ExecutionReads {
  constructor(
    private readonly memory: ExecutionMemory,
    private readonly log: LiveLog,
    private readonly states: ScheduleStates,
  ) {}

  /** The execution with this id. */
  async getExecution(id: string): Promise<ExecutionRecord | null> {
    this.log.live();
    const loc = this.memory.locateId(id);
    const record = loc ? await materialize(loc) : null;
    await this.log.settled();
    return record;
  }

  /** The execution of fire (scheduleId, scheduledAt). */
  async findExecution(scheduleId: string, scheduledAt: number): Promise<ExecutionRecord | null> {
    this.log.live();
    const loc = this.memory.locateFire(scheduleId, scheduledAt);
    const record = loc ? await materialize(loc) : null;
    await this.log.settled();
    return record;
  }

  /** Who holds each fire (its execution's instance), null where it has none: one read for the batch. */
  async fireHolders(
    fires: readonly { scheduleId: string; scheduledAt: number }[],
  ): Promise<(string | null)[]> {
    this.log.live();
    const at: number[] = [];
    const locs: Located[] = [];
    fires.forEach((f, i) => {
      const loc = this.memory.locateFire(f.scheduleId, f.scheduledAt);
      if (loc) {
        at.push(i);
        locs.push(loc);
      }
    });
    const records = locs.length > 0 ? await materializeAll(locs) : [];
    await this.log.settled();
    const holders = new Array<string | null>(fires.length).fill(null);
    at.forEach((i, k) => {
      holders[i] = (records[k] as ExecutionRecord).instanceId;
    });
    return holders;
  }

  /** The schedule's active executions, oldest first. */
  async activeExecutions(scheduleId: string): Promise<ExecutionRecord[]> {
    this.log.live();
    const ids = this.memory.activeBySchedule.get(scheduleId);
    const out: ExecutionRecord[] = [];
    if (ids) {
      for (const id of ids) {
        const e = this.memory.active.get(id);
        if (e) out.push(e);
      }
    }
    await this.log.settled();
    return out.sort((a, b) => a.scheduledAt - b.scheduledAt);
  }

  /** The latest own-fire instant of a schedule. */
  async lastFireAt(scheduleId: string): Promise<number | null> {
    this.log.live();
    await this.log.settled();
    return this.memory.lastFire.get(scheduleId) ?? null;
  }

  /** The committed state of a schedule (durable), checked; throws `STORAGE_CORRUPT`. */
  async getScheduleState(scheduleId: string): Promise<ScheduleStateRecord | null> {
    this.log.live();
    await this.log.settled();
    return this.states.get(scheduleId);
  }

  /** See Storage.scheduleSummaries: memory first, then only the segment rows that can beat it. */
  async scheduleSummaries(scheduleIds: readonly string[]): Promise<ScheduleSummary[]> {
    this.log.live();
    const { memory } = this;
    const builders = new Map<string, SummaryBuilder>();
    for (const id of scheduleIds) {
      if (builders.has(id)) continue;
      const b = new SummaryBuilder();
      b.noteFire(memory.lastFire.get(id) ?? null);
      builders.set(id, b);
    }
    for (const e of memory.active.values()) builders.get(e.scheduleId)?.add(e);
    for (const mem of memory.memtables())
      for (const f of mem.finals.values()) builders.get(f.record.scheduleId)?.add(f.record);
    // The candidate rows of every segment are found and their reads started in one synchronous
    // step, which pins the segments (a merge retiring one meanwhile waits for the reads).
    const reads: Promise<ExecutionRecord[]>[] = [];
    for (const segment of memory.segments) {
      const rows: number[] = [];
      for (const [id, b] of builders) rows.push(...summaryRows(segment, id, b.latest));
      if (rows.length > 0) reads.push(segment.readRows(rows.sort((a, b) => a - b)));
    }
    for (const records of await Promise.all(reads))
      for (const e of records) builders.get(e.scheduleId)?.add(e);
    await this.log.settled();
    return scheduleIds.map((id) => (builders.get(id) as SummaryBuilder).result(id));
  }

  /** Lists executions newest first (see Storage.listExecutions). */
  async listExecutions(query: ExecutionQuery): Promise<Page<ExecutionRecord>> {
    const limit = checkLimit(query.limit);
    const cursor = query.cursor ? decodeCursor(query.cursor) : null;
    this.log.live();
    const statuses = query.status === undefined ? null : new Set([query.status].flat());
    const kinds = query.kind === undefined ? null : new Set([query.kind].flat());
    const from = query.from ?? Number.NEGATIVE_INFINITY;
    const to = query.to ?? Number.POSITIVE_INFINITY;
    const sources: Source[] = [this.memorySource(query.scheduleId, statuses, kinds, from, to, cursor)];
    const statusOk = new Uint8Array(EXECUTION_STATUSES.length).fill(statuses ? 0 : 1);
    for (const s of statuses ?? []) statusOk[EXECUTION_STATUSES.indexOf(s as ExecutionStatus)] = 1;
    const kindOk = new Uint8Array(FIRE_KINDS.length).fill(kinds ? 0 : 1);
    for (const k of kinds ?? []) kindOk[FIRE_KINDS.indexOf(k as FireKind)] = 1;
    for (const segment of this.memory.segments) {
      const src = segmentSource(segment, query.scheduleId, statusOk, kindOk, from, to, cursor);
      if (src) sources.push(src);
    }
    const picked = mergeNewestFirst(sources, limit + 1);
    const page = picked.slice(0, limit);
    const items = await materializeAll(page.map((c) => c.loc));
    await this.log.settled();
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
    for (const e of this.memory.active.values()) consider(e);
    for (const mem of this.memory.memtables()) for (const f of mem.finals.values()) consider(f.record);
    matches.sort((a, b) => b.scheduledAt - a.scheduledAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    let i = 0;
    return () => {
      const e = matches[i++];
      return e ? { at: e.scheduledAt, id: e.id, loc: { record: e } } : null;
    };
  }

  /** Schedule ids with executions, ascending, after `after`, at most `limit`. */
  executionScheduleIds(after: string | null, limit: number): string[] {
    const { memory } = this;
    const ids = new Set<string>();
    for (const e of memory.active.values()) ids.add(e.scheduleId);
    for (const mem of memory.memtables()) for (const f of mem.finals.values()) ids.add(f.record.scheduleId);
    for (const s of memory.segments)
      for (let k = 0; k < s.index.schedules; k++)
        if (s.deadCount === 0 || hasLiveRow(s, k)) ids.add(s.scheduleIdAt(k));
    return [...ids]
      .filter((id) => after === null || id > after)
      .sort()
      .slice(0, checkLimit(limit));
  }
}

/** True if schedule number `k` of `s` has a row not pruned. */
function hasLiveRow(s: Segment, k: number): boolean {
  const { schedStart } = s.index;
  for (let r = schedStart[k] as number; r < (schedStart[k + 1] as number); r++) if (!s.isDead(r)) return true;
  return false;
}
