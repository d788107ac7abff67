/**
 * Work in flight that `stop()` must see settle: claims sent to storage whose answer has not come
 * back, runs, background tasks. New work may join while stop waits, so waiting re-reads what is
 * pending each time something settles.
 */

import { type Clock, sleep } from "../time/clock.js";

/**
 * Work in flight, counted: `begin()` before the work starts, the returned `end` when it is done.
 * A count and one promise per busy spell, not a promise per piece of work: every fire passes
 * through here, and stop() only needs to know when the count is back to zero.
 */
export class InFlight {
  private count = 0;
  private idle: { promise: Promise<void>; resolve: () => void } | null = null;

  /** Counts one piece of work in; call the returned function (once) when it is done. */
  begin(): () => void {
    this.count++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.count--;
      if (this.count === 0 && this.idle) {
        this.idle.resolve();
        this.idle = null;
      }
    };
  }

  /** A promise that resolves when nothing is in flight (none when nothing is now). */
  get promises(): Promise<unknown>[] {
    if (this.count === 0) return [];
    if (!this.idle) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.idle = { promise, resolve };
    }
    return [this.idle.promise];
  }

  get size(): number {
    return this.count;
  }
}

/**
 * Waits until `pending()` returns nothing or the clock reaches `deadline`, re-reading `pending()`
 * whenever something in it settles (work that joins meanwhile is waited for too). True when
 * everything settled in time.
 */
export async function settleUntil(
  clock: Clock,
  deadline: number,
  pending: () => Promise<unknown>[],
): Promise<boolean> {
  for (;;) {
    const now = pending();
    if (now.length === 0) return true;
    const left = deadline - clock.now();
    if (left <= 0) return false;
    const timer = new AbortController();
    const settledAll = Promise.all(now.map((p) => p.catch(() => {})));
    await Promise.race([settledAll, sleep(clock, left, timer.signal).catch(() => {})]);
    timer.abort();
  }
}
