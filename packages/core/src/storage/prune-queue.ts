/**
 * The executions a storage without indexes deletes next, per schedule: MemoryStorage and
 * FileStorage keep a schedule's history in insertion order, not sorted by time, so finding what a
 * prune may delete costs a pass over that history. A queue makes that pass once per schedule and
 * retention pass, and every batch after it costs only its own size (the event loop stays free for
 * fires while a million executions are pruned).
 *
 * A history stored in time order (the usual case: fires are claimed in order) is not copied:
 * the first pass keeps only a handful of numbers (the protected ids, the `keepLast`-th newest
 * instant), and each batch then continues a second pass where the previous one stopped. A
 * million-entry list built up front cost 40-55 ms young-generation GC pauses and 10-40 ms copies
 * as it grew, in 2 ms slices or not. A history out of time order is listed and sorted.
 *
 * A queued id stays safe to delete while the queue lives: executions only get newer (a claim
 * adds a later one, which can only push older ones further out of `keepLast` or replace a
 * protected one), final ones never change, and a later `before` only selects more. A queue is
 * reused only for the same `keepLast` and a `before` at least as late; otherwise it is rebuilt.
 * The second pass ignores what is newer than anything the first pass saw.
 */

import {
  checkPrune,
  type ExecutionPrune,
  executionPrunable,
  ProtectedIds,
  type ProtectionInput,
  protectedExecutionIds,
} from "./prune.js";
import { SLICE_MS, sortInSlices, Turn } from "./slices.js";

/**
 * A schedule's executions as a storage hands them to a prune queue: a list, or a function that
 * starts a fresh pass over the live history (called at most twice per queue; the second pass is
 * walked a batch at a time, so it must tolerate records added and deleted meanwhile, as a `Map`
 * iterator does).
 */
export type PruneSource = readonly ProtectionInput[] | (() => Iterable<ProtectionInput>);

interface Queue {
  keepLast: number | undefined;
  before: number | undefined;
  /** Up to `limit` more ids, oldest first; fewer only when the queue is exhausted. */
  take(limit: number): string[];
  readonly done: boolean;
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
    const ids = this.build(prune, records);
    this.keep(prune, ids.length === 0 ? null : new Listed(prune, ids));
  }

  /**
   * As {@link PruneQueue.fill}, in slices with a yield to the event loop whenever one has run for
   * 2 ms (`SLICE_MS`), so building the queue of a million executions never holds up a fire (a
   * fixed count of 16,384 records per slice held the loop for up to 50 ms on a busy machine).
   * Given a function, a history in time order is never copied (see the module comment).
   */
  async fillInSlices(prune: ExecutionPrune, source: PruneSource): Promise<void> {
    const pass = typeof source === "function" ? source : () => source;
    const keep = prune.keepLast ?? 0;
    const newest = new MinHeap(keep);
    const protection = new ProtectedIds();
    const turn = new Turn(SLICE_MS, REST_MS);
    let count = 0;
    let latest = Number.NEGATIVE_INFINITY;
    let sorted = true;
    for (const r of pass()) {
      protection.offer(r);
      if (keep > 0) newest.offer(r.scheduledAt);
      if (r.scheduledAt < latest) sorted = false;
      else latest = r.scheduledAt;
      if ((++count & (SLICE - 1)) === 0) await turn.maybeYield();
    }
    if (count === 0 || (keep > 0 && count <= keep)) return this.keep(prune, null);
    const rule: Rule = {
      prune,
      cutoff: keep > 0 ? newest.min : Number.POSITIVE_INFINITY,
      latest,
      protectedIds: protection.ids(),
    };
    if (typeof source === "function" && sorted) return this.keep(prune, new Scan(rule, source()));
    // Listed: pick, sort (rare: a history stored out of time order), keep the ids.
    const picked: ProtectionInput[] = [];
    count = 0;
    for (const r of pass()) {
      if (r.scheduledAt <= latest && selects(rule, r)) picked.push(r);
      if ((++count & (SLICE - 1)) === 0) await turn.maybeYield();
    }
    if (!sorted) await sortInSlices(picked, (a, b) => a.scheduledAt - b.scheduledAt, turn);
    const ids = new Array<string>(picked.length);
    for (let i = 0; i < picked.length; i++) {
      ids[i] = (picked[i] as ProtectionInput).id;
      if ((i & (SLICE - 1)) === SLICE - 1) await turn.maybeYield();
    }
    this.keep(prune, ids.length === 0 ? null : new Listed(prune, ids));
  }

  /** The next up to `prune.limit` queued ids, oldest first (empty when nothing is queued). */
  next(prune: ExecutionPrune): string[] {
    const queue = this.queues.get(prune.scheduleId);
    if (!queue || !this.reusable(queue, prune)) return [];
    const out = queue.take(prune.limit);
    if (queue.done) this.queues.delete(prune.scheduleId);
    return out;
  }

  /** Forgets every queue (after a storage reloaded its data). */
  clear(): void {
    this.queues.clear();
  }

  private keep(prune: ExecutionPrune, queue: Queue | null): void {
    if (queue === null) this.queues.delete(prune.scheduleId);
    else this.queues.set(prune.scheduleId, queue);
  }

  private reusable(queue: Queue, prune: ExecutionPrune): boolean {
    if (queue.keepLast !== prune.keepLast) return false;
    if (queue.before === undefined) return prune.before === undefined;
    return prune.before === undefined || prune.before >= queue.before;
  }

  private build(prune: ExecutionPrune, records: readonly ProtectionInput[]): string[] {
    const protectedIds = protectedExecutionIds(records);
    // A record is outside the newest `keepLast` when it is older than the keepLast-th newest.
    const keep = prune.keepLast ?? 0;
    if (keep > 0 && records.length <= keep) return [];
    const newest = new MinHeap(keep);
    if (keep > 0) for (const r of records) newest.offer(r.scheduledAt);
    const cutoff = keep > 0 ? newest.min : Number.POSITIVE_INFINITY;
    const rule: Rule = { prune, cutoff, latest: Number.POSITIVE_INFINITY, protectedIds };
    const picked = records.filter((r) => selects(rule, r));
    picked.sort((a, b) => a.scheduledAt - b.scheduledAt);
    return picked.map((r) => r.id);
  }
}

/** What a queue deletes, as learnt from the first pass over the history. */
interface Rule {
  prune: ExecutionPrune;
  /** The `keepLast`-th newest instant: only older executions are outside the newest `keepLast`. */
  cutoff: number;
  /** The newest instant the first pass saw: anything newer arrived since and is left alone. */
  latest: number;
  protectedIds: ReadonlySet<string>;
}

const selects = (rule: Rule, r: ProtectionInput): boolean =>
  r.scheduledAt < rule.cutoff &&
  executionPrunable(r, Number.POSITIVE_INFINITY, rule.prune, rule.protectedIds);

/** A queue over a list of ids. */
class Listed implements Queue {
  readonly keepLast: number | undefined;
  readonly before: number | undefined;
  private next = 0;

  constructor(
    prune: ExecutionPrune,
    private readonly ids: string[],
  ) {
    this.keepLast = prune.keepLast;
    this.before = prune.before;
  }

  get done(): boolean {
    return this.next >= this.ids.length;
  }

  take(limit: number): string[] {
    const out = this.ids.slice(this.next, this.next + limit);
    this.next += out.length;
    return out;
  }
}

/**
 * A queue that is the rest of a second pass over a history in time order: each batch continues
 * it, and it ends at the first execution too new to delete (all after it are newer).
 */
class Scan implements Queue {
  readonly keepLast: number | undefined;
  readonly before: number | undefined;
  private readonly cursor: Iterator<ProtectionInput>;
  done = false;

  constructor(
    private readonly rule: Rule,
    history: Iterable<ProtectionInput>,
  ) {
    this.keepLast = rule.prune.keepLast;
    this.before = rule.prune.before;
    this.cursor = history[Symbol.iterator]();
  }

  take(limit: number): string[] {
    const { rule } = this;
    const { before } = rule.prune;
    const out: string[] = [];
    while (!this.done && out.length < limit) {
      const step = this.cursor.next();
      if (step.done) break;
      const r = step.value;
      if (
        r.scheduledAt >= rule.cutoff ||
        r.scheduledAt > rule.latest ||
        (before !== undefined && r.scheduledAt >= before)
      )
        break;
      if (selects(rule, r)) out.push(r.id);
    }
    if (out.length < limit) this.end();
    return out;
  }

  private end(): void {
    this.done = true;
    this.cursor.return?.();
  }
}

/**
 * The pause between two slices of a queue's build (ms): the build is one long run of slices, and
 * a fire due meanwhile needs several turns of the event loop (its timer, the claim, the start),
 * each of which would otherwise wait out a slice. Measured with bench/retention.bench.mjs on
 * MemoryStorage: without it the fires during the build of a million-record queue were 3-17 ms
 * late.
 */
const REST_MS = 1;

/** Records handled between two looks at the time while a queue is built in slices. */
const SLICE = 256;
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
        const v = h[i] as number;
        if ((h[parent] as number) <= v) break;
        h[i] = h[parent] as number;
        h[parent] = v;
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
      // Swapped by hand: a destructuring swap allocates an array per step where V8 does not
      // optimise it away, 190 bytes per execution offered in FileStorage's pass (sampled).
      const v = h[i] as number;
      h[i] = h[m] as number;
      h[m] = v;
      i = m;
    }
  }
}
