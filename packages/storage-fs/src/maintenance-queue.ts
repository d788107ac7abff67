/**
 * The execution store's background work (seals, merges, compactions) runs one task at a time in
 * one queue: no two of them ever change the segment list or write a checkpoint at once.
 */

import { SLICE_MS, Turn } from "@tradecron/core";

/** Runs background tasks one after another; a failed task stops the store. */
export class MaintenanceQueue {
  private last: Promise<void> = Promise.resolve();

  /** @param fail stops the whole store after a failed task (ExecutionContext.fail) */
  constructor(private readonly fail: (error: unknown) => void) {}

  /** Runs `task` after the tasks queued before it. */
  enqueue(task: () => Promise<void>): void {
    this.last = this.last.then(task).catch((error: unknown) => {
      this.fail(error);
    });
  }

  /** Waits until the queue is empty, including tasks queued by the tasks it waits for. */
  async idle(): Promise<void> {
    let seen: Promise<void> | null = null;
    while (seen !== this.last) {
      seen = this.last;
      await seen;
    }
  }
}

/** Lets the event loop run between the CPU-heavy phases of background work. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * The rest between two slices of background work (ms). A fire due meanwhile needs several turns
 * of the event loop (its timer, the claim's commit, the start), and with a bare yield between
 * slices each of them waited out a slice: fires during a seal or a prune's first walk of the
 * indexes started 4-7 ms late (bench/retention.bench.mjs, 200,000 rows). Core's prune queue
 * rests the same way.
 */
export const BACKGROUND_REST_MS = 1;

/** The turn background work yields through: slices of 2 ms (SLICE_MS), with a rest between. */
export function backgroundTurn(): Turn {
  return new Turn(SLICE_MS, BACKGROUND_REST_MS);
}
