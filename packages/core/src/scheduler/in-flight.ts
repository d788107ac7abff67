/**
 * Work in flight that `stop()` must see settle: claims sent to storage whose answer has not come
 * back, runs, background tasks. New work may join while stop waits, so waiting re-reads what is
 * pending each time something settles.
 */

import { type Clock, sleep } from "../time/clock.js";

/** A set of promises that leave it as they settle. */
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>();

  /** Tracks `promise` until it settles; returns it. */
  track<T>(promise: Promise<T>): Promise<T> {
    const settled: Promise<unknown> = promise.then(
      () => this.pending.delete(settled),
      () => this.pending.delete(settled),
    );
    this.pending.add(settled);
    return promise;
  }

  /** Promises still pending (each settles, never rejects). */
  get promises(): Promise<unknown>[] {
    return [...this.pending];
  }

  get size(): number {
    return this.pending.size;
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
