/**
 * The executions a storage without indexes deletes next, per schedule: MemoryStorage and
 * FileStorage keep a schedule's history in insertion order, not sorted by time, so finding what a
 * prune may delete costs a pass over that history. A queue makes that pass once per schedule and
 * retention pass, and every batch after it costs only its own size (the event loop stays free for
 * fires while a million executions are pruned).
 *
 * A queued id stays safe to delete while the queue lives: executions only get newer (a claim
 * adds a later one, which can only push older ones further out of `keepLast` or replace a
 * protected one), final ones never change, and a later `before` only selects more. A queue is
 * reused only for the same `keepLast` and a `before` at least as late; otherwise it is rebuilt.
 */

import {
  checkPrune,
  type ExecutionPrune,
  executionPrunable,
  type ProtectionInput,
  protectedExecutionIds,
} from "./prune.js";
import { sortInSlices, Turn } from "./slices.js";

interface Queue {
  keepLast: number | undefined;
  before: number | undefined;
  ids: string[];
  next: number;
}

/** Per-schedule queues of prunable execution ids (see the module comment). */
export class PruneQueue {
  private readonly queues = new Map<string, Queue>();

  /**
   * Up to `prune.limit` ids of executions `prune` selects, oldest first; `load` returns the
   * schedule's executions (any order) when the queue has to be (re)built. The caller deletes
   * them, skipping any that are gone.
   */
  take(prune: ExecutionPrune, load: () => readonly ProtectionInput[]): string[] {
    if (this.needsLoad(prune)) this.fill(prune, load());
    return this.next(prune);
  }

  /**
   * True if the next {@link PruneQueue.next} for `prune` needs the schedule's executions first
   * (for storages that load them asynchronously: `if (q.needsLoad(p)) q.fill(p, await load())`).
   * Checks `prune` (a ValidationError names the field).
   */
  needsLoad(prune: ExecutionPrune): boolean {
    checkPrune(prune);
    const queue = this.queues.get(prune.scheduleId);
    return !queue || !this.reusable(queue, prune);
  }

  /** (Re)builds the queue of `prune.scheduleId` from all of that schedule's executions. */
  fill(prune: ExecutionPrune, records: readonly ProtectionInput[]): void {
    const queue = this.build(prune, records);
    if (queue.ids.length === 0) this.queues.delete(prune.scheduleId);
    else this.queues.set(prune.scheduleId, queue);
  }

  /**
   * As {@link PruneQueue.fill}, in slices with a yield to the event loop whenever one has run for
   * 2 ms (`SLICE_MS`), so building the queue of a million executions never holds up a fire (a
   * fixed count of 16,384 records per slice held the loop for up to 50 ms on a busy machine).
   */
  async fillInSlices(prune: ExecutionPrune, records: readonly ProtectionInput[]): Promise<void> {
    // The protected ids of the whole are the protected ids of the slices' protected ones.
    const winners: ProtectionInput[] = [];
    const keep = prune.keepLast ?? 0;
    const newest = new MinHeap(keep);
    const turn = new Turn();
    for (let i = 0; i < records.length; i += SLICE) {
      const slice = records.slice(i, i + SLICE);
      const ids = protectedExecutionIds(slice);
      for (const r of slice) {
        if (ids.has(r.id)) winners.push(r);
        if (keep > 0) newest.offer(r.scheduledAt);
      }
      await turn.maybeYield();
    }
    const protectedIds = protectedExecutionIds(winners);
    const empty = { keepLast: prune.keepLast, before: prune.before, ids: [], next: 0 };
    if (keep > 0 && records.length <= keep) {
      this.queues.delete(prune.scheduleId);
      return;
    }
    const cutoff = keep > 0 ? newest.min : Number.POSITIVE_INFINITY;
    const picked: ProtectionInput[] = [];
    let sorted = true;
    for (let i = 0; i < records.length; i += SLICE) {
      const end = Math.min(records.length, i + SLICE);
      for (let j = i; j < end; j++) {
        const r = records[j] as ProtectionInput;
        if (r.scheduledAt < cutoff && executionPrunable(r, Number.POSITIVE_INFINITY, prune, protectedIds)) {
          const last = picked[picked.length - 1];
          if (last && last.scheduledAt > r.scheduledAt) sorted = false;
          picked.push(r);
        }
      }
      await turn.maybeYield();
    }
    // Rare: a history stored out of time order.
    if (!sorted) await sortInSlices(picked, (a, b) => a.scheduledAt - b.scheduledAt, turn);
    const ids = new Array<string>(picked.length);
    for (let i = 0; i < picked.length; i += SLICE) {
      const end = Math.min(picked.length, i + SLICE);
      for (let j = i; j < end; j++) ids[j] = (picked[j] as ProtectionInput).id;
      await turn.maybeYield();
    }
    const queue: Queue = { ...empty, ids };
    if (queue.ids.length === 0) this.queues.delete(prune.scheduleId);
    else this.queues.set(prune.scheduleId, queue);
  }

  /** The next up to `prune.limit` queued ids, oldest first (empty when nothing is queued). */
  next(prune: ExecutionPrune): string[] {
    const queue = this.queues.get(prune.scheduleId);
    if (!queue || !this.reusable(queue, prune)) return [];
    const out = queue.ids.slice(queue.next, queue.next + prune.limit);
    queue.next += out.length;
    if (queue.next >= queue.ids.length) this.queues.delete(prune.scheduleId);
    return out;
  }

  /** Forgets every queue (after a storage reloaded its data). */
  clear(): void {
    this.queues.clear();
  }

  private reusable(queue: Queue, prune: ExecutionPrune): boolean {
    if (queue.keepLast !== prune.keepLast) return false;
    if (queue.before === undefined) return prune.before === undefined;
    return prune.before === undefined || prune.before >= queue.before;
  }

  private build(prune: ExecutionPrune, records: readonly ProtectionInput[]): Queue {
    const protectedIds = protectedExecutionIds(records);
    // A record is outside the newest `keepLast` when it is older than the keepLast-th newest.
    const keep = prune.keepLast ?? 0;
    let cutoff = Number.POSITIVE_INFINITY;
    if (keep > 0) {
      if (records.length <= keep) return { keepLast: prune.keepLast, before: prune.before, ids: [], next: 0 };
      const times = Float64Array.from(records, (r) => r.scheduledAt).sort();
      cutoff = times[times.length - keep] as number;
    }
    const picked = records.filter(
      (r) => r.scheduledAt < cutoff && executionPrunable(r, Number.POSITIVE_INFINITY, prune, protectedIds),
    );
    picked.sort((a, b) => a.scheduledAt - b.scheduledAt);
    return { keepLast: prune.keepLast, before: prune.before, ids: picked.map((r) => r.id), next: 0 };
  }
}

/** Records handled between two looks at the time while a queue is built in slices. */
const SLICE = 1024;
/** The `size` largest numbers offered, as a binary min-heap: `min` is the size-th largest. */
class MinHeap {
  private readonly heap: Float64Array;
  private count = 0;

  constructor(private readonly size: number) {
    this.heap = new Float64Array(Math.max(0, size));
  }

  get min(): number {
    return this.count < this.size ? Number.NEGATIVE_INFINITY : (this.heap[0] as number);
  }

  offer(value: number): void {
    if (this.size === 0) return;
    const h = this.heap;
    if (this.count < this.size) {
      let i = this.count++;
      h[i] = value;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if ((h[parent] as number) <= (h[i] as number)) break;
        [h[parent], h[i]] = [h[i] as number, h[parent] as number];
        i = parent;
      }
      return;
    }
    if (value <= (h[0] as number)) return;
    h[0] = value;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.count && (h[l] as number) < (h[m] as number)) m = l;
      if (r < this.count && (h[r] as number) < (h[m] as number)) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i] as number, h[m] as number];
      i = m;
    }
  }
}
