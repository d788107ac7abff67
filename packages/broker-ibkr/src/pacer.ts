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

/**
 * A token bucket on `clock`: `perSecond` messages per second, evenly, with a small burst (an
 * eighth of the rate, at least one). Even spacing matters: IB counts messages as they arrive, and
 * a full second's burst sent at once can land in one of TWS's windows together with the next.
 * At most `perSecond + burst` messages fall in any second (45 at the default 40).
 */
export class Pacer {
  private tokens: number;
  private last: number;
  private readonly burst: number;
  private tail: Promise<void> = Promise.resolve();
  private blockedUntil = 0;

  constructor(
    private readonly clock: Clock,
    private readonly perSecond: number,
  ) {
    this.burst = Math.max(1, Math.floor(perSecond / 8));
    this.tokens = this.burst;
    this.last = clock.now();
  }

  /** Resolves when one more message may be sent now; callers are served in order. */
  take(): Promise<void> {
    const turn = this.tail.then(() => this.wait());
    this.tail = turn.catch(() => {});
    return turn;
  }

  /** Sends nothing for `ms` (after TWS said we went too fast). */
  backOff(ms: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, this.clock.now() + ms);
    this.tokens = 0;
  }

  private async wait(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      if (now < this.blockedUntil) {
        await delay(this.clock, this.blockedUntil - now);
        continue;
      }
      // A clock set backwards refills nothing, rather than stalling the bucket.
      const elapsed = Math.max(0, now - this.last);
      this.last = now;
      this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.perSecond) / 1000);
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await delay(this.clock, Math.ceil(((1 - this.tokens) * 1000) / this.perSecond));
    }
  }
}
