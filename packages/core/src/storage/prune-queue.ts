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
