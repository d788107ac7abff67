/**
 * Request pacing: at most N messages to TWS per second, first come first served. TWS answers
 * error 100 beyond 50 per second (and repeat offenders get disconnected).
 *
 * Hand-written rather than taken from a library because it has to wait on the injectable Clock
 * (tests drive it with TestClock; the limiters on npm, such as limiter, bottleneck, p-throttle
 * and simple-token-bucket 2.x, read Date.now or use the global timers), and @stoqey/ib's own
 * limiter (function-rate-limit) queues messages past a disconnect, which for a placeOrder would
 * mean sending it on a later connection after we told the caller it failed.
 */

import type { Clock } from "@tradecron/core";
import { delay } from "./delay.js";

/** A sliding one-second window of send times on `clock`. */
export class Pacer {
  private readonly sent: number[] = [];
  private tail: Promise<void> = Promise.resolve();
  private blockedUntil = 0;

  constructor(
    private readonly clock: Clock,
    private readonly perSecond: number,
  ) {}

  /** Resolves when one more message may be sent now; callers are served in order. */
  take(): Promise<void> {
    const turn = this.tail.then(() => this.wait());
    this.tail = turn.catch(() => {});
    return turn;
  }

  /** Sends nothing for `ms` (after TWS said we went too fast). */
  backOff(ms: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, this.clock.now() + ms);
  }

  private async wait(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      if (now < this.blockedUntil) {
        await delay(this.clock, this.blockedUntil - now);
        continue;
      }
      while (this.sent.length > 0 && now - (this.sent[0] as number) >= 1000) this.sent.shift();
      // Whole messages per second; a fractional rate rounds down, but never below one.
      if (this.sent.length < Math.max(1, Math.floor(this.perSecond))) {
        this.sent.push(now);
        return;
      }
      await delay(this.clock, 1000 - (now - (this.sent[0] as number)));
    }
  }
}
