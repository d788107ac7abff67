/**
 * The priority queue of armed schedules, ordered by next fire. One entry per schedule; the loop
 * keeps a single timer for the head. Indexed, so re-arming or removing a schedule is O(log n).
 */

/** An entry of the queue. `index` is maintained by the queue (-1 when not queued). */
export interface QueueEntry {
  at: number;
  seq: number;
  index: number;
}

/** Binary min-heap on (at, seq). */
export class FireQueue<E extends QueueEntry> {
  private readonly heap: E[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** The entry due first, without removing it. */
  peek(): E | undefined {
    return this.heap[0];
  }

  /** Inserts `entry` due at `at`, or moves it there if it is queued already. */
  set(entry: E, at: number): void {
    entry.at = at;
    entry.seq = this.seq++;
    if (entry.index >= 0 && this.heap[entry.index] === entry) {
      this.up(entry.index);
      this.down(entry.index);
      return;
    }
    entry.index = this.heap.length;
    this.heap.push(entry);
    this.up(entry.index);
  }

  /** Removes `entry` if queued. */
  delete(entry: E): void {
    const i = entry.index;
    if (i < 0 || this.heap[i] !== entry) return;
    const last = this.heap.pop() as E;
    entry.index = -1;
    if (i < this.heap.length) {
      this.heap[i] = last;
      last.index = i;
      this.up(i);
      this.down(i);
    }
  }

  /** Removes and returns the head. */
  pop(): E | undefined {
    const h = this.heap;
    const head = h[0];
    if (head === undefined) return undefined;
    const last = h.pop() as E;
    head.index = -1;
    if (last !== head) {
      h[0] = last;
      this.down(0);
    }
    return head;
  }

  /**
   * Moves the head to `at` (its next fire), in one pass down the heap instead of a removal and
   * an insertion: the loop does this for every recurring schedule that fires. Requires `entry`
   * to be the head.
   */
  replaceHead(entry: E, at: number): void {
    entry.at = at;
    entry.seq = this.seq++;
    this.down(0);
  }

  /**
   * How many entries are due at or before `at`, counting no further than `cap`: the entries due
   * by then are the top of the heap (a child is never due before its parent), so the walk visits
   * only them and the children where it stops, O(cap).
   */
  countDue(at: number, cap: number): number {
    const h = this.heap;
    if (h.length === 0 || (h[0] as E).at > at) return 0;
    let count = 0;
    const stack = [0];
    while (stack.length > 0 && count < cap) {
      const i = stack.pop() as number;
      count++;
      const l = 2 * i + 1;
      if (l < h.length && (h[l] as E).at <= at) stack.push(l);
      if (l + 1 < h.length && (h[l + 1] as E).at <= at) stack.push(l + 1);
    }
    return Math.min(count, cap);
  }

  clear(): void {
    for (const e of this.heap) e.index = -1;
    this.heap.length = 0;
  }

  private less(a: E, b: E): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private up(i: number): void {
    const h = this.heap;
    const e = h[i] as E;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as E;
      if (!this.less(e, parent)) break;
      h[i] = parent;
      parent.index = i;
      i = p;
    }
    h[i] = e;
    e.index = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const e = h[i] as E;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      // The comparisons written out: this loop runs for every fire of a burst, often before the
      // JIT has inlined a helper.
      const left = h[l] as E;
      let c = l;
      let child = left;
      if (r < n) {
        const right = h[r] as E;
        if (right.at < left.at || (right.at === left.at && right.seq < left.seq)) {
          c = r;
          child = right;
        }
      }
      if (child.at > e.at || (child.at === e.at && child.seq >= e.seq)) break;
      h[i] = child;
      child.index = i;
      i = c;
    }
    h[i] = e;
    e.index = i;
  }
}
