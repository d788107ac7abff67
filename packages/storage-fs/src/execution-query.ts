/**
 * Paging through executions newest first, (scheduledAt desc, id desc), across the places they
 * live: memory (active records and the unsealed log) and each sealed segment. Every place yields a
 * newest-first stream of matching candidates; a k-way merge takes the page from their heads, and
 * only the records on the page are then read (from memory or from their segment's data file).
 */

import type { ExecutionRecord } from "@tradecron/core";
import type { Segment } from "./segment.js";

/** Where a record is: in memory, or a row of a sealed segment. */
export type Located = { record: ExecutionRecord } | { segment: Segment; row: number };

/** A candidate for a page: its sort key and where to read it. */
export interface Candidate {
  at: number;
  id: string;
  loc: Located;
}

/** A newest-first stream of matching candidates from one place (null when exhausted). */
export type Source = () => Candidate | null;

/** Is (key, id) after the cursor in (key desc, id desc) order? */
export function afterCursor(key: number, id: string, cursor: { key: number; id: string } | null): boolean {
  return !cursor || key < cursor.key || (key === cursor.key && id < cursor.id);
}

function newer(a: Candidate, b: Candidate): boolean {
  return a.at > b.at || (a.at === b.at && a.id > b.id);
}

/** Takes the `count` newest candidates across `sources` (a k-way merge over a binary heap of heads). */
export function mergeNewestFirst(sources: Source[], count: number): Candidate[] {
  const heap: Array<{ c: Candidate; src: Source }> = [];
  const at = (i: number) => heap[i] as { c: Candidate; src: Source };
  const swap = (i: number, j: number) => {
    const t = at(i);
    heap[i] = at(j);
    heap[j] = t;
  };
  const push = (item: { c: Candidate; src: Source }) => {
    heap.push(item);
    for (let i = heap.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!newer(at(i).c, at(p).c)) break;
      swap(i, p);
      i = p;
    }
  };
  const pop = () => {
    const top = at(0);
    const last = heap.pop() as { c: Candidate; src: Source };
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && newer(at(l).c, at(m).c)) m = l;
        if (r < heap.length && newer(at(r).c, at(m).c)) m = r;
        if (m === i) break;
        swap(i, m);
        i = m;
      }
    }
    return top;
  };
  for (const src of sources) {
    const c = src();
    if (c) push({ c, src });
  }
  const picked: Candidate[] = [];
  while (heap.length > 0 && picked.length < count) {
    const top = pop();
    picked.push(top.c);
    const next = top.src();
    if (next) push({ c: next, src: top.src });
  }
  return picked;
}

/**
 * A newest-first stream over one segment's rows that match the filters and lie after the cursor:
 * the rows of one schedule (walked backwards), or all rows in time order (the byTime permutation).
 * Returns null when nothing in the segment can match.
 */
export function segmentSource(
  segment: Segment,
  scheduleId: string | undefined,
  statusOk: Uint8Array,
  kindOk: Uint8Array,
  from: number,
  to: number,
  cursor: { key: number; id: string } | null,
): Source | null {
  const ix = segment.index;
  if (ix.rows === 0 || ix.maxAt < from || ix.minAt >= to) return null;
  if (cursor && ix.minAt > cursor.key) return null;
  const { at, status, kind } = ix;
  const matches = (row: number) =>
    statusOk[status[row] as number] === 1 && kindOk[kind[row] as number] === 1 && !segment.isDead(row);
  // (at, id) of a row compared with the upper bound: rows strictly below it are eligible.
  const below = (row: number, key: number, id: string | null) => {
    const a = at[row] as number;
    if (a !== key) return a < key;
    return id !== null && segment.idAt(row) < id;
  };
  const upper = (row: number) => {
    if ((at[row] as number) >= to) return false;
    return cursor ? below(row, cursor.key, cursor.id) : true;
  };
  if (scheduleId !== undefined) {
    const k = segment.findSchedule(scheduleId);
    if (k < 0) return null;
    const start = ix.schedStart[k] as number;
    // Rows [start, end) ascend by (at, id); the eligible ones are a prefix: find its end.
    let lo = start;
    let hi = ix.schedStart[k + 1] as number;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (upper(mid)) lo = mid + 1;
      else hi = mid;
    }
    let row = lo - 1;
    return () => {
      while (row >= start) {
        const r = row--;
        if ((at[r] as number) < from) {
          row = start - 1;
          return null;
        }
        if (matches(r)) return { at: at[r] as number, id: segment.idAt(r), loc: { segment, row: r } };
      }
      return null;
    };
  }
  const byTime = ix.byTime;
  // byTime descends by (at, id); the eligible rows are a suffix: find where it starts.
  let lo = 0;
  let hi = ix.rows;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (upper(byTime[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  let pos = lo;
  return () => {
    while (pos < ix.rows) {
      const r = byTime[pos++] as number;
      if ((at[r] as number) < from) {
        pos = ix.rows;
        return null;
      }
      if (matches(r)) return { at: at[r] as number, id: segment.idAt(r), loc: { segment, row: r } };
    }
    return null;
  };
}
