/**
 * The execution store's background work (seals, merges, compactions) runs one task at a time in
 * one queue: no two of them ever change the segment list or write a checkpoint at once.
 */

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
